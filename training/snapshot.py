"""Training snapshots: networks plus everything needed to continue exactly (optimizer moments,
counters, the loss's running path-length mean), in one atomically written safetensors file that
`load_network` also opens like any other checkpoint."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from stylegan2.checkpoints import CheckpointError, load_checkpoint, save_checkpoint

SNAPSHOT_RE = re.compile(r"network-snapshot-(\d{6}(?:\.\d{3})?)\.safetensors$")


def numbered_path(run_dir: Path, prefix: str, nimg: int, suffix: str) -> Path:
    """<prefix><kimg><suffix>, as NVIDIA names snapshots and grids. A second file within the same
    kimg (ticks under 1 kimg, a Ctrl-C soon after a tick) is named to the image,
    <prefix><kimg>.<rest><suffix>, instead of replacing the first."""
    plain = run_dir / f"{prefix}{nimg // 1000:06d}{suffix}"
    # At a whole kimg an existing plain name can only be this very state (image counts only
    # grow within a run folder): write it again rather than a tie like 000080 / 000080.000.
    # A finer name of this kimg without the plain one: --keep removed the plain (earlier) one,
    # and a plain name now would sort before the files it follows.
    finer = run_dir.glob(f"{prefix}{nimg // 1000:06d}.[0-9][0-9][0-9]{suffix}")
    if nimg % 1000 == 0 or not (plain.exists() or any(finer)):
        return plain
    return run_dir / f"{prefix}{nimg // 1000:06d}.{nimg % 1000:03d}{suffix}"


def snapshot_path(run_dir: Path, nimg: int) -> Path:
    """network-snapshot-<kimg>.safetensors (see numbered_path)."""
    return numbered_path(run_dir, "network-snapshot-", nimg, ".safetensors")


def snapshot_kimg(path: Path) -> float:
    """The kimg a snapshot's name gives (to the image for the finer names)."""
    m = SNAPSHOT_RE.search(path.name)
    if m is None:
        raise ValueError(f"{path.name}: not a snapshot name")
    return float(m.group(1))


def _flatten_optimizer(name: str, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors = {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            tensors[f"{name}.{idx}.{key}"] = torch.as_tensor(value)
    return tensors, {"param_groups": sd["param_groups"]}


def _unflatten_optimizer(name: str, tensors: dict, meta: dict) -> dict:
    state: dict[int, dict[str, torch.Tensor]] = {}
    prefix = name + "."
    for key, value in tensors.items():
        if key.startswith(prefix):
            idx, _, field = key[len(prefix) :].partition(".")
            if not idx.isdigit() or not field:
                raise CheckpointError(f"optimizer state tensor {key!r} is not named as saved")
            state.setdefault(int(idx), {})[field] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_snapshot(
    path: Path,
    G: torch.nn.Module,
    D: torch.nn.Module,
    G_ema: torch.nn.Module,
    optimizers: dict[str, torch.optim.Optimizer],
    counters: dict[str, Any],
    pl_mean: torch.Tensor,
    card: dict[str, Any] | None = None,
) -> Path:
    tensors: dict[str, torch.Tensor] = {"pl_mean": pl_mean.reshape([1])}
    opt_meta = {}
    for name, opt in optimizers.items():
        t, m = _flatten_optimizer(f"opt_{name}", opt)
        tensors.update(t)
        opt_meta[name] = m
    return save_checkpoint(
        path,
        G_ema,
        G=G,
        D=D,
        card=card,
        extra_metadata={"counters": counters, "optimizers": opt_meta},
        extra_tensors=tensors,
    )


#: the counters a snapshot records, and what each must be: a whole number not below zero,
#: a number not below zero, or any finite number (times are differences of the wall clock,
#: which a clock set back can make negative in a good snapshot)
COUNTERS = {
    "cur_nimg": "whole",
    "step": "whole",
    "tick": "whole",
    "elapsed": "finite",
    "augment_p": "not negative",
    "maintenance": "finite",
    "maintenance_from_kimg": "not negative",
}
_ADAM_FLAGS = ("amsgrad", "maximize", "capturable", "differentiable")


def _number(v: Any, whole: bool = False, signed: bool = False) -> bool:
    """A finite JSON number, not below zero unless `signed` (a whole one with `whole`)."""
    if not isinstance(v, int | float) or isinstance(v, bool):
        return False
    try:
        f = float(v)
    except OverflowError:
        return False
    return math.isfinite(f) and (signed or f >= 0) and (not whole or f.is_integer())


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:40] + "…"


def snapshot_counters(path: str | Path, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The training counters a snapshot's metadata holds ({} for none), each checked: a
    damaged field raises CheckpointError naming it, instead of failing in arithmetic later."""
    extra = metadata.get("extra") or {}
    if not isinstance(extra, Mapping):
        raise CheckpointError(f"{path}: its training state is damaged (not a JSON object)")
    return checked_counters(path, extra.get("counters", {}))


def checked_counters(path: str | Path, counters: Any) -> dict[str, Any]:
    """`counters` (a snapshot's or a hand-off's) when each known field is a number that fits
    it; else CheckpointError naming the field."""
    if not isinstance(counters, Mapping):
        raise CheckpointError(f"{path}: its training counters are damaged (not a JSON object)")
    for key, kind in COUNTERS.items():
        if key in counters and not _number(
            counters[key], whole=kind == "whole", signed=kind == "finite"
        ):
            raise CheckpointError(
                f"{path}: its training counter {key} is damaged ({_short(counters[key])})"
            )
    return dict(counters)


def _optimizer_meta(path: str | Path, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The optimizers' settings a snapshot holds, checked as Adam's: what is not raises
    CheckpointError (torch would take a string learning rate and fail at the first step)."""
    meta = extra.get("optimizers", {})
    if not isinstance(meta, Mapping):
        raise CheckpointError(f"{path}: its optimizer settings are damaged (not a JSON object)")
    for name, m in meta.items():
        groups = m.get("param_groups") if isinstance(m, Mapping) else None
        if not isinstance(groups, list) or not groups:
            raise CheckpointError(f"{path}: optimizer {name!r} has no parameter groups")
        for g in groups:
            problem = _group_problem(g)
            if problem:
                raise CheckpointError(f"{path}: optimizer {name!r}: {problem}")
    return dict(meta)


def _group_problem(g: Any) -> str | None:
    if not isinstance(g, Mapping):
        return f"a parameter group is {_short(g)}, not a JSON object"
    lr, eps, betas = g.get("lr"), g.get("eps", 1e-8), g.get("betas", (0.9, 0.999))
    params = g.get("params")
    if not _number(lr) or lr == 0:
        return f"learning rate {_short(lr)} is not a positive number"
    if not _number(eps):
        return f"eps {_short(eps)} is not a number"
    if not _number(g.get("weight_decay", 0)):
        return f"weight_decay {_short(g.get('weight_decay'))} is not a number"
    if not (
        isinstance(betas, list | tuple)
        and len(betas) == 2
        and all(_number(b) and b < 1 for b in betas)
    ):
        return f"betas {_short(betas)} are not two numbers in [0, 1)"
    if not isinstance(params, list) or not all(_number(i, whole=True) for i in params):
        return f"params {_short(params)} are not parameter numbers"
    for flag in _ADAM_FLAGS:
        if not isinstance(g.get(flag, False), bool):
            return f"{flag} {_short(g.get(flag))} is not true or false"
    return None


def load_snapshot(path: Path, device: torch.device) -> dict[str, Any]:
    """Networks, optimizer state dicts, counters and pl_mean of a training snapshot."""
    ckpt = load_checkpoint(path, device=device)
    if ckpt.G is None or ckpt.D is None:
        raise CheckpointError(f"{path}: holds no G and D, so training cannot resume from it")
    counters = snapshot_counters(path, ckpt.metadata)  # (which checks "extra" is an object)
    opt_meta = _optimizer_meta(path, ckpt.metadata.get("extra") or {})
    tensors = ckpt.metadata.get("state_tensors", {})
    return {
        "G": ckpt.G,
        "D": ckpt.D,
        "G_ema": ckpt.G_ema,
        "optimizers": {
            n: _unflatten_optimizer(f"opt_{n}", tensors, m) for n, m in opt_meta.items()
        },
        "counters": counters,
        "pl_mean": tensors["pl_mean"][0] if "pl_mean" in tensors else torch.zeros([]),
        "card": ckpt.metadata.get("card") or {},
    }


def prune_snapshots(run_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest snapshots of a run folder (by kimg); returns what went.
    Only complete snapshots count: the temporary file of a save in progress is not touched."""
    snaps = _snapshots(run_dir)
    gone = snaps[:-keep] if keep > 0 else []
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def latest_snapshot(run_dir: Path) -> Path | None:
    """By the kimg in the name, not by the name: 'network-snapshot-000080.512' comes after
    'network-snapshot-000080' though it sorts before it."""
    snaps = _snapshots(run_dir)
    return snaps[-1] if snaps else None


def _snapshots(run_dir: Path) -> list[Path]:
    """A run folder's complete snapshots, oldest first (by kimg; no temporary file)."""
    found = (
        p for p in run_dir.glob("network-snapshot-*.safetensors") if SNAPSHOT_RE.search(p.name)
    )
    return sorted(found, key=snapshot_kimg)


def earlier_snapshot_hint(path: Path) -> str:
    """For a snapshot that failed to load (a kill while it was copied, a damaged disk): "; the
    run's snapshot before it may be whole: --resume PATH", or "" without one."""
    path = Path(path)
    if not SNAPSHOT_RE.search(path.name):
        return ""
    earlier = [p for p in _snapshots(path.parent) if snapshot_kimg(p) < snapshot_kimg(path)]
    if not earlier:
        return ""
    return f"; the run's snapshot before it may be whole: --resume {earlier[-1]}"
