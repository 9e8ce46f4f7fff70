"""A plain-data description of a loaded checkpoint (for `stylegan2 info` and the explorer)."""

from __future__ import annotations

from typing import Any

from stylegan2.checkpoints import LoadedCheckpoint


def roles(ckpt: LoadedCheckpoint, g_ema_only: bool = False) -> str:
    names = ["G_ema"]
    if not g_ema_only:
        names += [r for r in ("G", "D") if getattr(ckpt, r) is not None]
    return ", ".join(names)


def describe(ckpt: LoadedCheckpoint) -> dict[str, Any]:
    G = ckpt.G_ema
    cfg = G.cfg
    info: dict[str, Any] = {
        "path": str(ckpt.path),
        "format": ckpt.format,
        "networks": roles(ckpt),
        "resolution": cfg.img_resolution,
        "img_channels": cfg.img_channels,
        "z_dim": cfg.z_dim,
        "w_dim": cfg.w_dim,
        "c_dim": cfg.c_dim,
        "num_ws": G.num_ws,
        "mapping_layers": cfg.mapping.num_layers,
        "architecture": cfg.synthesis.architecture,
        "normalization": cfg.synthesis.normalization,
        "channels": {str(r): cfg.channels(r) for r in cfg.resolutions},
        "conv_clamp": cfg.synthesis.conv_clamp,
        "num_fp16_res": cfg.synthesis.num_fp16_res,
        "parameters": {
            "G_ema": sum(p.numel() for p in G.parameters()),
            "mapping": sum(p.numel() for p in G.mapping.parameters()),
            "synthesis": sum(p.numel() for p in G.synthesis.parameters()),
        },
    }
    if ckpt.D is not None:
        info["parameters"]["D"] = sum(p.numel() for p in ckpt.D.parameters())
        info["discriminator_architecture"] = ckpt.D.cfg.architecture
    card = ckpt.metadata.get("card")
    if card:
        info["card"] = card
    return info
