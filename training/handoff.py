"""Hand-offs: a training run carried between machines in two small files instead of one 156 MB
snapshot, so it can travel both ways within a lent GPU's limits (files of 16 MiB, 64 MiB a call).

A hand-off is the pair
  - G_ema: any checkpoint of ours that holds the run's G_ema -- the bundled model itself, so a
    model that is shipped anyway costs nothing more to carry, and
  - a state file: D, the counters (kimg, step, ADA p, wall time), the path-length mean and the
    snapshot's card, tied to exactly that G_ema by a fingerprint of its float16 weights.

Both halves hold float16 weights. Joining them gives a snapshot that `stylegan2-train --resume`
continues from, with two deliberate differences from the snapshot they came from: G restarts
from G_ema (the smoothed generator, a known-good restart point; D was trained against a G close
to it) and the Adam moments start afresh (beta1 is 0, and the second moment forgets within about
a hundred steps at beta2 0.99). The log says so when a run resumes from one.

    python -m training.handoff split SNAPSHOT --state S.safetensors [--g-ema G.safetensors]
    python -m training.handoff join --g-ema G.safetensors --state S.safetensors --out SNAP

Neither writes over an existing file unless asked to (`force`): a joined snapshot holds no Adam
moments, so replacing a real snapshot with one would lose them, and a G_ema half written over a
shipped model would lose its card.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import struct
import sys
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from stylegan2.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from stylegan2.checkpoints.common import NetworkWeights
from stylegan2.checkpoints.loader import build_network
from stylegan2.config import ConfigError, DiscriminatorConfig
from stylegan2.input_files import utf8_name
from stylegan2.safe_writes import atomic_path, current_umask, same_file
from training.snapshot import checked_counters, save_snapshot, snapshot_counters

STATE_FORMAT = "stylegan2-explorer-handoff-state"
STATE_VERSION = 1


def fingerprint(G_ema: torch.nn.Module) -> str:
    """sha256 of the float16 weights and the buffers: what both halves of a hand-off hold, so
    the fingerprint of a split snapshot's G_ema equals that of the fp16 file made from it."""
    h = hashlib.sha256()
    for name, t in sorted(G_ema.state_dict().items()):
        t = t.detach().cpu()
        if t.is_floating_point():
            t = t.to(torch.float16)
        h.update(name.encode() + b"\0" + str(tuple(t.shape)).encode() + str(t.dtype).encode())
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()


def _check_outputs(inputs: list[str | Path], outputs: list[str | Path], force: bool) -> None:
    for out in outputs:
        for src in inputs:
            if same_file(src, out):
                raise ValueError(f"{out} would write over {src}: choose a name of its own")
        if Path(out).exists() and not force:
            raise ValueError(f"{out} exists: choose another name, or --force to replace it")
    if len(outputs) == 2 and same_file(*outputs):
        raise ValueError("--state and --g-ema must be two files")


def split(
    snapshot: str | Path,
    state_out: str | Path,
    g_ema_out: str | Path | None = None,
    force: bool = False,
) -> dict:
    """Write the state half of `snapshot` (and, if asked, its G_ema as a float16 checkpoint).
    Returns the counters."""
    _check_outputs([snapshot], [state_out] + ([g_ema_out] if g_ema_out else []), force)
    ckpt = load_checkpoint(snapshot)
    if ckpt.D is None:
        raise CheckpointError(f"{snapshot}: holds no D, so it is no training snapshot")
    meta = ckpt.metadata or {}
    counters = snapshot_counters(snapshot, meta)
    if "cur_nimg" not in counters:
        raise CheckpointError(f"{snapshot}: holds no training counters, so it is no snapshot")
    pl_mean = (meta.get("state_tensors") or {}).get("pl_mean", torch.zeros([1]))
    tensors = {
        f"D.{k}": (v.to(torch.float16) if v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in ckpt.D.state_dict().items()
    }
    tensors["state.pl_mean"] = pl_mean.reshape([1]).float().cpu()
    header = {
        "format": STATE_FORMAT,
        "format_version": str(STATE_VERSION),
        "D_config": json.dumps(ckpt.D.cfg.to_dict()),
        "counters": json.dumps(counters),
        "card": json.dumps(meta.get("card") or {}),
        "g_ema_fingerprint": fingerprint(ckpt.G_ema),
        "source": Path(snapshot).name,
    }
    # G_ema first: its float16 cast can be refused (a weight beyond 65504), and then no half
    # of the hand-off is written.
    if g_ema_out:
        Path(g_ema_out).parent.mkdir(parents=True, exist_ok=True)
        card = {
            "title": f"G_ema of {Path(snapshot).name} (hand-off half)",
            "kimg": round(counters["cur_nimg"] / 1000, 3),
            "snapshot": Path(snapshot).name,
        }
        save_checkpoint(g_ema_out, ckpt.G_ema, card=card, dtype=torch.float16)
    Path(state_out).parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(Path(state_out), in_place=False) as tmp:
            save_file(tensors, str(tmp), metadata=header)
            os.chmod(tmp, 0o666 & ~current_umask())  # safetensors' temp file is private (0600)
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"cannot write {state_out}: {exc}") from None
    return counters


def read_state(path: str | Path) -> dict[str, Any]:
    """The state half: D (a Discriminator), counters, pl_mean, card, g_ema_fingerprint."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n > path.stat().st_size:  # junk, not a header length: do not try to read it
                raise ValueError(f"header length {n} exceeds the file")
            meta = json.loads(f.read(n)).get("__metadata__") or {}
    except (OSError, ValueError, struct.error) as exc:
        raise CheckpointError(f"{path}: not a readable hand-off state ({exc})") from None
    if meta.get("format") != STATE_FORMAT:
        raise CheckpointError(
            f"{path}: not a hand-off state file (make one with `python -m training.handoff split`)"
        )
    if int(meta.get("format_version", "0")) > STATE_VERSION:
        raise CheckpointError(f"{path}: written by a newer version; please update this program")
    try:
        with utf8_name(path) as name:
            tensors = load_file(name, device="cpu")
        cfg = DiscriminatorConfig.from_dict(json.loads(meta["D_config"]))
        counters = json.loads(meta["counters"])
        card = json.loads(meta.get("card", "{}"))
    except (SafetensorError, OSError, ValueError, KeyError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"{path}: damaged hand-off state ({exc})") from None
    counters = checked_counters(path, counters)
    sd = {
        k[2:]: v.float() if v.is_floating_point() else v
        for k, v in tensors.items()
        if k.startswith("D.")
    }
    D = build_network(NetworkWeights(cfg, sd), f"{path} (D)")
    return {
        "D": D,
        "counters": counters,
        "pl_mean": tensors.get("state.pl_mean", torch.zeros([1]))[0],
        "card": card,
        "g_ema_fingerprint": meta.get("g_ema_fingerprint"),
        "source": meta.get("source", "?"),
    }


def join(g_ema: str | Path, state: str | Path, out: str | Path, force: bool = False) -> dict:
    """Write a snapshot that training resumes from: G = G_ema, D and counters from the state,
    no optimizer moments. Refuses a G_ema that is not the one the state was split with."""
    _check_outputs([g_ema, state], [out], force)
    st = read_state(state)
    ckpt = load_checkpoint(g_ema)
    if fingerprint(ckpt.G_ema) != st["g_ema_fingerprint"]:
        raise CheckpointError(
            f"{g_ema} is not the G_ema that {state} was split with (from {st['source']}): "
            "a hand-off's two halves must come from the same snapshot"
        )
    G_ema = ckpt.G_ema.eval().requires_grad_(False)
    G = copy.deepcopy(G_ema).train()
    counters = dict(st["counters"])
    card = dict(st["card"])
    # A shipped G_ema's card may carry the fuller machine history (edited there, or written by
    # `stylegan2 bundle` from a run that had moved before): keep it when it ends as the state's.
    shipped = (ckpt.metadata.get("card") or {}).get("machine")
    if isinstance(shipped, str) and shipped.endswith(card.get("machine") or "\0"):
        card["machine"] = shipped
    card["handoff"] = f"joined from {Path(g_ema).name} + {Path(state).name} ({st['source']})"
    save_snapshot(Path(out), G, st["D"].train(), G_ema, {}, counters, st["pl_mean"], card=card)
    return counters


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.handoff",
        description="Carry a training run between machines as G_ema + a small state file.",
    )
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("split", help="snapshot -> state file (and G_ema as float16)")
    s.add_argument("snapshot")
    s.add_argument("--state", required=True, help="the state file to write")
    s.add_argument("--g-ema", help="also write the snapshot's G_ema here (float16)")
    j = sub.add_parser("join", help="G_ema + state file -> a snapshot to --resume from")
    j.add_argument("--g-ema", required=True, help="a checkpoint of ours holding the G_ema")
    j.add_argument("--state", required=True)
    j.add_argument("--out", required=True, help="the snapshot to write")
    for sp in (s, j):
        sp.add_argument("--force", action="store_true", help="replace existing output files")
    args = p.parse_args(argv)
    try:
        if args.verb == "split":
            c = split(args.snapshot, args.state, args.g_ema, args.force)
        else:
            c = join(args.g_ema, args.state, args.out, args.force)
    except (CheckpointError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.verb}: {c['cur_nimg'] / 1000:.1f} kimg, ADA p {c.get('augment_p', 0.0):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
