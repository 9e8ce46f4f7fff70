"""Synthesis network: per-layer ws -> image, with the orig / skip / resnet architectures of
Karras et al. 2020 ("Analyzing and Improving the Image Quality of StyleGAN", section 4.1, fig. 7)
and the demodulated (StyleGAN2) or AdaIN (StyleGAN1) layer.

Intermediate outputs are captured on request by name (`b64.conv1`, `b64.torgb`, `b64.img`) straight
from the forward pass: no module hooks, and nothing is kept when nothing is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from stylegan2 import ops
from stylegan2.config import GeneratorConfig
from stylegan2.networks import fast
from stylegan2.networks.fast import SpeedOptions
from stylegan2.networks.layers import AdaINLayer, Conv2dLayer, SynthesisLayer, ToRGBLayer
from stylegan2.networks.noise import NoiseMode, NoiseSource


@dataclass(frozen=True)
class LayerInfo:
    """One place in the synthesis network that can be captured or has its own w."""

    name: str  # e.g. 'b64.conv0'
    resolution: int
    channels: int
    kind: str  # 'conv0' | 'conv1' | 'torgb'
    w_index: int  # which entry of ws drives it
    has_noise: bool


class Capture:
    """Collects named intermediate tensors during one forward pass."""

    def __init__(self, names: Collection[str]) -> None:
        self.names = frozenset(names)
        self.outputs: dict[str, torch.Tensor] = {}

    def __call__(self, name: str, x: torch.Tensor) -> None:
        if name in self.names:
            self.outputs[name] = x.detach()


class SynthesisBlock(nn.Module):
    """One resolution: conv0 (up-sampling), conv1, and a tRGB where the architecture has one."""

    def __init__(
        self,
        in_channels: int,  # channels coming in from the block below; 0 for the first (4x4) block
        out_channels: int,
        cfg: GeneratorConfig,
        resolution: int,  # this block's output resolution
        is_last: bool,  # the top block: it always has a tRGB
        use_fp16: bool,  # one of the blocks the config runs in reduced precision
    ) -> None:
        super().__init__()
        sc = cfg.synthesis
        self.in_channels = in_channels
        self.resolution = resolution
        self.architecture = sc.architecture
        self.is_last = is_last
        self.use_fp16 = use_fp16
        self.register_buffer(
            "resample_filter", ops.setup_filter(sc.resample_filter), persistent=False
        )
        layer_cls = AdaINLayer if sc.normalization == "adain" else SynthesisLayer
        common = dict(
            w_dim=cfg.w_dim,
            resolution=resolution,
            use_noise=sc.use_noise,
            activation=sc.activation,
            resample_filter=sc.resample_filter,
            conv_clamp=sc.conv_clamp,
        )
        self.num_conv = 0
        self.num_torgb = 0
        if in_channels == 0:
            # The first block starts from a learned constant image instead of an input, and
            # every style comes in through the layers (Karras et al. 2019, section 2).
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = layer_cls(in_channels, out_channels, up=2, **common)
            self.num_conv += 1
        self.conv1 = layer_cls(out_channels, out_channels, **common)
        self.num_conv += 1
        if is_last or sc.architecture == "skip":
            self.torgb = ToRGBLayer(
                out_channels,
                cfg.img_channels,
                cfg.w_dim,
                conv_clamp=sc.conv_clamp,
                gain=sc.torgb_gain,
            )
            self.num_torgb += 1
        if in_channels != 0 and sc.architecture == "resnet":
            self.skip = Conv2dLayer(
                in_channels,
                out_channels,
                kernel_size=1,
                bias=False,
                up=2,
                resample_filter=sc.resample_filter,
            )

    def forward(
        self,
        x: torch.Tensor | None,  # [N, C_in, R/2, R/2] from the block below; None in the first
        img: torch.Tensor | None,  # [N, img_channels, R/2, R/2] the skip architecture's image
        ws: torch.Tensor,  # [N, num_conv + num_torgb, w_dim]
        dtype: torch.dtype,
        memory_format: torch.memory_format,
        fused_modconv: bool | None,
        speed: SpeedOptions,
        noise_mode: NoiseMode,
        noise_gains: Mapping[str, float],
        noise_generator: NoiseSource,
        capture: Capture | None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """-> (x [N, C_out, R, R], img [N, img_channels, R, R] or None)"""
        w_iter = iter(ws.unbind(dim=1))  # one [N, w_dim] per layer, in order
        r = self.resolution

        def run(name: str, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
            return getattr(self, name)(
                x,
                next(w_iter),
                noise_mode=noise_mode,
                noise_gain=noise_gains.get(f"b{r}.{name}", 1.0),
                noise_generator=noise_generator,
                fused_modconv=fused_modconv,
                gain=gain,
                speed=speed,
            )

        if self.in_channels == 0:
            x = self.const.to(dtype).unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)  # [N, C, 4, 4]
            x = run("conv1", x.contiguous(memory_format=memory_format))
        else:
            assert x is not None
            x = x.to(dtype=dtype, memory_format=memory_format)
            if self.architecture == "resnet":
                y = self.skip(x, gain=math.sqrt(0.5))  # [N, C_out, R, R]
            x = run("conv0", x)  # [N, C_out, R, R]
            if capture:
                capture(f"b{r}.conv0", x)
            if self.architecture == "resnet":
                x = run("conv1", x, gain=math.sqrt(0.5))
                x = y.add_(x) if ops.can_inplace(y) else y + x
            else:
                x = run("conv1", x)
        if capture:
            capture(f"b{r}.conv1", x)

        if img is not None:
            img = ops.upsample2d(img, self.resample_filter)
        if self.is_last or self.architecture == "skip":
            y = self.torgb(x, next(w_iter), fused_modconv=fused_modconv)
            y = y.to(dtype=torch.float32, memory_format=memory_format)
            if capture:
                capture(f"b{r}.torgb", y)
            img = (img.add_(y) if ops.can_inplace(img) else img + y) if img is not None else y
            if capture:
                capture(f"b{r}.img", img)
        return x, img


class SynthesisNetwork(nn.Module):
    def __init__(self, cfg: GeneratorConfig, speed: SpeedOptions = fast.DEFAULT) -> None:
        """speed: how to run (layout, reduced precision on the CPU, modulated-conv form); one
        forward call may pass its own."""
        super().__init__()
        self.cfg = cfg
        self.speed = speed
        self.w_dim = cfg.w_dim
        self.img_resolution = cfg.img_resolution
        self.img_channels = cfg.img_channels
        self.block_resolutions = cfg.resolutions
        fp16_resolution = cfg.fp16_resolution()
        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = cfg.channels(res // 2) if res > 4 else 0
            block = SynthesisBlock(
                in_channels,
                cfg.channels(res),
                cfg,
                resolution=res,
                is_last=res == cfg.img_resolution,
                use_fp16=cfg.synthesis.num_fp16_res > 0 and res >= fp16_resolution,
            )
            self.num_ws += block.num_conv
            if block.is_last:
                self.num_ws += block.num_torgb
            setattr(self, f"b{res}", block)
        assert self.num_ws == cfg.num_ws

    def layers(self) -> list[LayerInfo]:
        """Every capturable layer in forward order, with the ws index that drives it."""
        out = []
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            idx = w_idx
            for kind in ("conv0", "conv1", "torgb"):
                if not hasattr(block, kind):
                    continue
                layer = getattr(block, kind)
                channels = layer.weight.shape[0] if kind == "torgb" else layer.out_channels
                has_noise = kind != "torgb" and layer.use_noise
                out.append(LayerInfo(f"b{res}.{kind}", res, channels, kind, idx, has_noise))
                idx += 1
            w_idx += block.num_conv
        return out

    def forward(
        self,
        ws: torch.Tensor,
        noise_mode: NoiseMode = "random",
        noise_gains: Mapping[str, float] | None = None,
        noise_generator: NoiseSource = None,
        force_fp32: bool = False,
        fused_modconv: bool | None = None,
        capture: Capture | None = None,
        max_resolution: int | None = None,
        speed: SpeedOptions | None = None,
    ) -> torch.Tensor:
        """ws: [N, num_ws, w_dim] -> img [N, img_channels, R, R] float32, nominally in [-1, 1].

        noise_gains: per-layer multiplier of the noise strength by layer name ('b64.conv0'); 0 turns
        a layer's noise off. noise_generator: seeds 'random' noise (drawn on the CPU).
        force_fp32: run every block in float32. fused_modconv: overrides speed.fused_modconv.
        capture: collects the named intermediate outputs.
        max_resolution: stop after that block and return the skip generator's running image
        there (a cheap preview: the blocks above it are never run).
        speed: how to run this call (None: `self.speed`).
        """
        if max_resolution is not None and max_resolution not in self.block_resolutions:
            raise ValueError(f"max_resolution must be one of {self.block_resolutions}")
        if max_resolution is not None and self.cfg.synthesis.architecture != "skip":
            raise ValueError("a partial image needs a skip generator (a tRGB at every resolution)")
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        ws = ws.to(torch.float32)
        noise_gains = noise_gains or {}
        x = img = None
        speed = self.speed if speed is None else speed
        memory_format = fast.feature_layout(speed, ws.device)
        if fused_modconv is None:
            fused_modconv = speed.fused_modconv
        w_idx = 0
        for res in self.block_resolutions:
            block: SynthesisBlock = getattr(self, f"b{res}")
            dtype = fast.block_dtype(block.use_fp16, ws.device, force_fp32, speed.cpu_half)
            fused = fast.block_fused_modconv(fused_modconv, self.training, dtype, ws.shape[0])
            # A block's tRGB shares its w with the next block's conv0, as in NVIDIA's
            # SynthesisNetwork (training/networks.py in stylegan2-ada-pytorch).
            block_ws = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            x, img = block(
                x,
                img,
                block_ws,
                dtype,
                memory_format,
                fused,
                speed,
                noise_mode,
                noise_gains,
                noise_generator,
                capture,
            )
            w_idx += block.num_conv
            if res == max_resolution:
                break
        assert img is not None
        return img.contiguous()
