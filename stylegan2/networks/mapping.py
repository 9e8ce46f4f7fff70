"""Mapping network z (+ class c) -> w, with w-average tracking and the truncation trick (Karras et
al. 2019, "A Style-Based Generator Architecture for GANs", section 2 and appendix B)."""

from __future__ import annotations

import torch
from torch import nn

from stylegan2 import ops
from stylegan2.config import MappingConfig
from stylegan2.networks.layers import FullyConnectedLayer


class MappingNetwork(nn.Module):
    def __init__(
        self,
        z_dim: int,  # 0: no z (the discriminator's mapping of c alone)
        c_dim: int,  # 0: unconditional
        w_dim: int,
        num_ws: int | None,  # broadcast w to [N, num_ws, w_dim]; None: return [N, w_dim]
        cfg: MappingConfig,
    ) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.c_dim = c_dim
        self.w_dim = w_dim
        self.num_ws = num_ws
        self.num_layers = cfg.num_layers
        self.w_avg_beta = cfg.w_avg_beta
        embed_features = cfg.embed_features
        if embed_features is None:
            embed_features = w_dim
        if c_dim == 0:
            embed_features = 0
        layer_features = w_dim if cfg.layer_features is None else cfg.layer_features
        features = [z_dim + embed_features] + [layer_features] * (cfg.num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(cfg.num_layers):
            layer = FullyConnectedLayer(
                features[idx],
                features[idx + 1],
                activation=cfg.activation,
                lr_multiplier=cfg.lr_multiplier,
            )
            setattr(self, f"fc{idx}", layer)
        if num_ws is not None and cfg.w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(
        self,
        z: torch.Tensor | None,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        update_w_avg: bool | None = None,
    ) -> torch.Tensor:
        """z: [N, z_dim]; c: [N, c_dim] -> ws [N, num_ws, w_dim] (or [N, w_dim]).

        Truncation moves ws toward w_avg: `w_avg + psi * (w - w_avg)`, for the first
        `truncation_cutoff` ws only when a cutoff is given.
        `update_w_avg` defaults to the training mode.
        """
        x = None
        if self.z_dim > 0:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"z must be [N, {self.z_dim}]")
            x = ops.normalize_2nd_moment(z.to(torch.float32))
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                raise ValueError(f"this network is conditional: c must be [N, {self.c_dim}]")
            y = ops.normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = torch.cat([x, y], dim=1) if x is not None else y
        assert x is not None
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)

        if update_w_avg is None:
            update_w_avg = self.training
        if update_w_avg and hasattr(self, "w_avg"):
            with torch.no_grad():
                self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))

        if self.num_ws is None:
            return x
        x = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            x = truncate(x, self.w_avg, truncation_psi, truncation_cutoff)
        return x


def truncate(
    ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None = None
) -> torch.Tensor:
    """The truncation trick on [N, num_ws, w_dim] ws; returns a new tensor."""
    if psi == 1:
        return ws
    w_avg = w_avg.to(ws.dtype)
    if cutoff is None:
        return w_avg.lerp(ws, psi)
    ws = ws.clone()
    ws[:, :cutoff] = w_avg.lerp(ws[:, :cutoff], psi)
    return ws
