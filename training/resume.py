"""Resuming a run: a snapshot's weights and Adam moments loaded into the trainer's networks, and
the card's history of machines and datasets for a run that moved between them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from stylegan2.checkpoints import CheckpointError
from stylegan2.networks import Discriminator, Generator
from training.snapshot import earlier_snapshot_hint, load_snapshot

log = logging.getLogger("training")


def with_history(before: str | None, now: str, at_kimg: float) -> str:
    """A card's machine (or dataset) after a resume: `now`, after what the run had before, so a
    run that moved between machines keeps every one ("A (to 100.8 kimg); then B")."""
    if not before or before.rsplit("; then ", 1)[-1] == now:
        return before or now
    return f"{before} (to {at_kimg:.1f} kimg); then {now}"


def load_into(
    path: Path,
    device: torch.device,
    nets: tuple[Generator, Discriminator, Generator],
    optimizers: dict[str, torch.optim.Optimizer],
) -> tuple[dict[str, Any], list[str]]:
    """Load G, D, G_ema and every optimizer the snapshot has; returns the snapshot (counters,
    card, pl_mean) and the names of the optimizers that start afresh (a joined hand-off,
    training/handoff.py, carries no Adam moments)."""
    try:
        snap = load_snapshot(path, device)
    except CheckpointError as exc:  # a damaged file: the run's one before it may be whole
        raise CheckpointError(f"{exc}{earlier_snapshot_hint(path)}") from None
    G, D, G_ema = nets
    old, new = snap["G"].cfg.synthesis, G.cfg.synthesis
    if (old.num_fp16_res, old.conv_clamp) != (new.num_fp16_res, new.conv_clamp):
        log.warning(
            "resuming with num_fp16_res %s, conv_clamp %s (the snapshot had %s, %s): "
            "--precision or the device differs from the run's start",
            new.num_fp16_res,
            new.conv_clamp,
            old.num_fp16_res,
            old.conv_clamp,
        )
    for name, ours, theirs in (("G", G, snap["G"]), ("D", D, snap["D"])):
        problem = misfit(ours.state_dict(), theirs.state_dict())
        if problem:
            raise ValueError(
                f"{Path(path).name} does not fit these options: its {name} {problem} (trained "
                "with another --cfg, --channel-max, --map, --norm, --arch, resolution, labels or "
                "image channels: grey against colour)"
            )
    G.load_state_dict(snap["G"].state_dict())
    D.load_state_dict(snap["D"].state_dict())
    G_ema.load_state_dict(snap["G_ema"].state_dict())
    fresh = [name for name in optimizers if name not in snap["optimizers"]]
    for name, opt in optimizers.items():
        if name not in fresh:
            try:
                opt.load_state_dict(snap["optimizers"][name])
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(
                    f"{Path(path).name}: its {name} optimizer state does not fit these networks "
                    f"({exc})"
                ) from None
            problem = moments_misfit(opt)
            if problem:
                raise CheckpointError(f"{Path(path).name}: its {name} optimizer state {problem}")
    return snap, fresh


def moments_misfit(opt: torch.optim.Optimizer) -> str | None:
    """A loaded Adam state whose moments do not have their parameters' shapes, in words (torch
    takes it and fails at the first step), or None."""
    for group in opt.param_groups:
        for k, p in enumerate(group["params"]):
            state = opt.state.get(p, {})
            for key in ("exp_avg", "exp_avg_sq"):
                v = state.get(key)
                if v is not None and (not torch.is_tensor(v) or v.shape != p.shape):
                    shape = tuple(v.shape) if torch.is_tensor(v) else type(v).__name__
                    return f"has {key} of shape {shape} for parameter {k} of {tuple(p.shape)}"
            step = state.get("step")
            if step is not None and (not torch.is_tensor(step) or step.numel() != 1):
                return f"has a step count that is not one number for parameter {k}"
    return None


def misfit(ours: dict[str, torch.Tensor], theirs: dict[str, torch.Tensor]) -> str | None:
    """The first difference between two state dicts' names and shapes, in words, or None."""
    for key in sorted(ours.keys() - theirs.keys()):
        return f"lacks {key}"
    for key in sorted(theirs.keys() - ours.keys()):
        return f"has {key}, which these options do not make"
    for key, t in ours.items():
        if tuple(t.shape) != tuple(theirs[key].shape):
            return f"{key} is {list(theirs[key].shape)}, these options make {list(t.shape)}"
    return None
