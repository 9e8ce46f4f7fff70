"""The Generator: mapping + synthesis, built from a GeneratorConfig."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from stylegan2.config import GeneratorConfig
from stylegan2.networks import fast
from stylegan2.networks.fast import SpeedOptions
from stylegan2.networks.mapping import MappingNetwork
from stylegan2.networks.noise import NoiseMode, NoiseSource
from stylegan2.networks.synthesis import Capture, LayerInfo, SynthesisNetwork


class Generator(nn.Module):
    def __init__(self, cfg: GeneratorConfig, speed: SpeedOptions = fast.DEFAULT) -> None:
        """cfg: the architecture (what a checkpoint stores); speed: how the synthesis runs (kept
        as `synthesis.speed`; a forward call may pass its own)."""
        super().__init__()
        self.cfg = cfg
        self.z_dim = cfg.z_dim
        self.c_dim = cfg.c_dim
        self.w_dim = cfg.w_dim
        self.img_resolution = cfg.img_resolution
        self.img_channels = cfg.img_channels
        # Synthesis first: parameter order then matches the official networks (EMA copies by order).
        self.synthesis = SynthesisNetwork(cfg, speed)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(cfg.z_dim, cfg.c_dim, cfg.w_dim, self.num_ws, cfg.mapping)

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        update_w_avg: bool | None = None,
        noise_mode: NoiseMode = "random",
        noise_gains: Mapping[str, float] | None = None,
        noise_generator: NoiseSource = None,
        force_fp32: bool = False,
        fused_modconv: bool | None = None,
        capture: Capture | None = None,
        max_resolution: int | None = None,
        speed: SpeedOptions | None = None,
    ) -> torch.Tensor:
        """z: [N, z_dim], c: [N, c_dim] -> img [N, img_channels, R, R]; truncation as in
        `MappingNetwork.forward`, the rest as in `SynthesisNetwork.forward`."""
        ws = self.mapping(z, c, truncation_psi, truncation_cutoff, update_w_avg=update_w_avg)
        return self.synthesis(
            ws,
            noise_mode=noise_mode,
            noise_gains=noise_gains,
            noise_generator=noise_generator,
            force_fp32=force_fp32,
            fused_modconv=fused_modconv,
            capture=capture,
            max_resolution=max_resolution,
            speed=speed,
        )

    def layers(self) -> list[LayerInfo]:
        return self.synthesis.layers()

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping.w_avg

    @property
    def device(self) -> torch.device:
        return self.synthesis.b4.const.device

    @torch.no_grad()
    def estimate_w_avg(self, num_samples: int = 4096, seed: int = 0) -> torch.Tensor:
        """Mean of mapping outputs over random z (rosinality's `mean_latent`); stored as w_avg."""
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn([num_samples, self.z_dim], generator=gen).to(self.device)
        c = None
        if self.c_dim > 0:
            idx = torch.randint(self.c_dim, [num_samples], generator=gen)
            c = torch.nn.functional.one_hot(idx, self.c_dim).float().to(self.device)
        ws = self.mapping(z, c, update_w_avg=False)
        mean = ws[:, 0].mean(dim=0)
        self.mapping.w_avg.copy_(mean)
        return mean


def z_from_seed(seed: int, z_dim: int) -> torch.Tensor:
    """The z that NVIDIA's generate.py uses for a seed: RandomState(seed).randn(1, z_dim)."""
    return torch.from_numpy(np.random.RandomState(seed).randn(1, z_dim)).float()
