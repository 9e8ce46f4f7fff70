"""Turn checkpoint contents into ready networks: build from the config, check every tensor's name
and shape, then load. A network is returned complete or not at all."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from stylegan2.checkpoints.common import (
    CheckpointContents,
    CheckpointError,
    NetworkWeights,
    named_path,
)
from stylegan2.checkpoints.native import is_native, read_native
from stylegan2.config import ConfigError, DiscriminatorConfig, GeneratorConfig
from stylegan2.downloads import refetch_hint
from stylegan2.networks import Discriminator, Generator

log = logging.getLogger(__name__)


@dataclass
class LoadedCheckpoint:
    path: Path
    format: str
    G_ema: Generator
    G: Generator | None = None
    D: Discriminator | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def read_checkpoint_any(path: str | Path) -> CheckpointContents:
    """Read any supported file into plain data (no network is built)."""
    from stylegan2.checkpoints.sniff import read_checkpoint

    path = named_path(path)
    try:
        if path.is_file() and is_native(path):
            return read_native(path)
        return read_checkpoint(path)
    except CheckpointError as exc:
        hint = refetch_hint(path)
        if hint:
            raise CheckpointError(f"{exc}{hint}") from None
        raise


def least_weights(cfg: GeneratorConfig | DiscriminatorConfig) -> int:
    """A lower bound on the weights an architecture holds: its 3x3 convs between resolutions
    (G's up convs, D's down convs) and its mapping layers. Every honest file holds at least this
    many elements, so a file holding fewer is refused before its network is built."""
    res = cfg.resolutions
    total = sum(9 * cfg.channels(r // 2) * cfg.channels(r) for r in res[1:])
    if isinstance(cfg, GeneratorConfig):
        hidden = cfg.mapping.layer_features or cfg.w_dim
        total += (cfg.mapping.num_layers - 1) * hidden * min(hidden, cfg.w_dim)
    return total


def build_network(weights: NetworkWeights, what: str = "network") -> Generator | Discriminator:
    """Build our module from a config and fill it, refusing any mismatch with a one-line error."""
    cfg = weights.config
    held = sum(t.numel() for t in weights.state_dict.values() if isinstance(t, torch.Tensor))
    need = least_weights(cfg)
    if need > held:
        raise CheckpointError(
            f"{what}: the architecture needs at least {need:,} weights, the file holds {held:,}"
        )
    try:
        net: Generator | Discriminator
        net = Generator(cfg) if isinstance(cfg, GeneratorConfig) else Discriminator(cfg)
    except (ConfigError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{what}: cannot build the architecture ({exc})") from None
    expected = net.state_dict()
    got = weights.state_dict
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {_few(missing)}")
        if unexpected:
            parts.append(f"unexpected {_few(unexpected)}")
        raise CheckpointError(f"{what}: tensors do not fit the architecture: {'; '.join(parts)}")
    for name, ref in expected.items():
        t = got[name]
        if not isinstance(t, torch.Tensor):
            raise CheckpointError(f"{what}: {name} is not a tensor")
        if tuple(t.shape) != tuple(ref.shape):
            raise CheckpointError(
                f"{what}: wrong shape for {name}: file has {list(t.shape)}, "
                f"the architecture needs {list(ref.shape)}"
            )
        if not t.is_floating_point():
            raise CheckpointError(f"{what}: {name} has non-float dtype {t.dtype}")
        if not torch.isfinite(t).all():
            raise CheckpointError(f"{what}: {name} contains NaN or infinite values")
    net.load_state_dict({k: v.to(torch.float32) for k, v in got.items()}, strict=True)
    return net.eval().requires_grad_(False)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> LoadedCheckpoint:
    """Load every network a checkpoint holds (G_ema always; G and D when present)."""
    path = named_path(path)
    contents = read_checkpoint_any(path)
    G_ema = build_network(contents.G_ema, f"{path.name} (G_ema)")
    if contents.w_avg_missing:
        log.info("%s has no w average; estimating it from 4096 mapped samples", path.name)
        G_ema.estimate_w_avg(4096)
    G = build_network(contents.G, f"{path.name} (G)") if contents.G is not None else None
    D = build_network(contents.D, f"{path.name} (D)") if contents.D is not None else None
    if G is not None and contents.w_avg_missing:
        G.mapping.w_avg.copy_(G_ema.mapping.w_avg)
    return LoadedCheckpoint(
        path=path,
        format=contents.format,
        G_ema=G_ema.to(device),  # type: ignore[arg-type]
        G=G.to(device) if G is not None else None,  # type: ignore[arg-type]
        D=D.to(device) if D is not None else None,  # type: ignore[arg-type]
        metadata=contents.metadata,
    )


def load_network(path: str | Path, device: str | torch.device = "cpu") -> Generator:
    """The generator to explore (G_ema) from any supported checkpoint, in eval mode."""
    return load_checkpoint(path, device).G_ema


def _few(names: list[str], n: int = 3) -> str:
    shown = ", ".join(names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")
