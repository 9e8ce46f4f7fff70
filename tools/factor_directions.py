"""Named directions for a model of the procedural faces: the face probe (training/face_probe.py)
labels N samples, and each direction runs from the mean w of the samples without a factor to the
mean w of those with it (stylegan2.directions.from_labels), over every ws. The file it writes
loads in the explorer's Directions tab and in `stylegan2 edit`.

It then checks each direction on seeds it was not fitted on: the share of samples the probe
reads with the factor at strengths -1, 0 and +1, and how many of the other factors the probe
reads well change between 0 and +1 (what else the direction moves). Only directions whose share
rises by --min-move (default 0.2) or more from -1 to +1 are written.

    python tools/factor_directions.py NETWORK --probe PROBE.safetensors --out DIRS.npz
        [--samples 3000] [--check 200]

Only factors the probe reads right at least 85 % of the time on fresh faces are used (see
tools/factor_coverage.py): brows, nose and iris are too small at 64 px for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from stylegan2.checkpoints import CheckpointError, load_checkpoint
from stylegan2.directions import Directions, from_labels
from stylegan2.networks import z_from_seed
from stylegan2.render import to_uint8_nchw
from training.face_probe import CATEGORIES, load_probe


def _is(factor: str, *values: str) -> tuple[str, Callable]:
    idx = [CATEGORIES[factor].index(v) for v in values]
    return factor, lambda c: np.isin(c, idx)


#: direction name -> (factor, which of its classes count as having it)
CONTRASTS: dict[str, tuple[str, Callable]] = {
    "glasses": _is("glasses", "round", "square"),
    "bald": _is("hair", "bald"),
    "long hair": _is("hair", "long"),
    "hair bun": _is("hair", "bun"),
    "smiling mouth": _is("mouth", "smile"),
    "open mouth": _is("mouth", "open", "teeth", "o"),
    "happy eyes": _is("eyes", "happy"),
    "darker skin": _is("skin", "tone 3", "tone 4", "tone 5"),  # the three darkest tones
    "blush": _is("blush", "yes"),
    "freckles": _is("freckles", "yes"),
    "ears": _is("ears", "yes"),
}
#: the factors the probe reads well (read right >= 85 % on fresh faces)
WELL_READ = ("hair", "ears", "eyes", "mouth", "glasses", "skin", "hair colour", "pattern",
             "freckles", "blush")  # fmt: skip


@torch.no_grad()
def _images(G, w: torch.Tensor, batch: int = 50) -> torch.Tensor:
    out = []
    for i in range(0, len(w), batch):
        ws = w[i : i + batch, None].repeat(1, G.num_ws, 1)
        out.append(to_uint8_nchw(G.synthesis(ws, noise_mode="const")))
    return torch.cat(out)


@torch.no_grad()
def sample_w(G, seeds: range) -> torch.Tensor:
    z = torch.cat([z_from_seed(s, G.z_dim) for s in seeds])
    return G.mapping(z, None)[:, 0]


def fit(G, probe, samples: int) -> Directions:
    w = sample_w(G, range(samples))
    read = probe.predict(_images(G, w))
    labels = {name: f(read[factor].numpy()) for name, (factor, f) in CONTRASTS.items()}
    return from_labels(w.numpy(), labels, (0, G.num_ws - 1))


def check(G, probe, d: Directions, seeds: range) -> list[tuple[str, list[float], float]]:
    """Per direction: shares read with its factor at strengths -1, 0, +1, and the mean share of
    samples whose read of another well-read factor changes between 0 and +1."""
    w = sample_w(G, seeds)
    base = probe.predict(_images(G, w))
    rows = []
    for k, name in enumerate(d.names):
        factor, has = CONTRASTS[name]
        vec = torch.from_numpy(d.vectors[k])
        shares, moved = [], 0.0
        for strength in (-1.0, 0.0, 1.0):
            read = base if strength == 0 else probe.predict(_images(G, w + strength * vec))
            shares.append(float(has(read[factor].numpy()).mean()))
            if strength == 1.0:
                others = [f for f in WELL_READ if f != factor]
                moved = float(np.mean([(read[f] != base[f]).float().mean() for f in others]))
        rows.append((name, shares, moved))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("network")
    p.add_argument("--probe", required=True, help="a probe saved by tools/factor_coverage.py")
    p.add_argument("--out", required=True, help="the directions file to write (.npz)")
    p.add_argument("--samples", type=int, default=3000, help="samples the directions fit")
    p.add_argument("--check", type=int, default=200, help="other seeds they are checked on")
    p.add_argument(
        "--min-move", type=float, default=0.2, help="the least rise, -1 to +1, a direction kept"
    )
    args = p.parse_args(argv)
    if args.samples < 2 or args.check < 1:
        p.error("--samples must be at least 2 and --check positive")
    torch.set_num_threads(1)
    try:
        G = load_checkpoint(args.network).G_ema.eval()
        probe = load_probe(args.probe)
        d = fit(G, probe, args.samples)
        rows = check(G, probe, d, range(args.samples, args.samples + args.check))
        # A direction kept must move its factor on seeds it was not fitted on: the separation
        # alone overrates a rare factor (a few samples' mean in 512 dimensions is mostly noise).
        keep = [k for k, (_, (lo, _mid, hi), _) in enumerate(rows) if hi - lo >= args.min_move]
        if not keep:
            raise ValueError(f"no direction moves its factor by {args.min_move:.0%} or more")
        kept = Directions(
            d.vectors[keep], d.scores[keep], d.layers, d.method, [d.names[k] for k in keep]
        )
        kept.save(args.out)
    except (OSError, ValueError, CheckpointError) as e:
        print(f"factor_directions: error: {e}", file=sys.stderr)
        return 1
    print(f"## {Path(args.network).name}: {len(keep)} directions -> {args.out}\n")
    print(f"Fitted on seeds 0-{args.samples - 1}, checked on the next {args.check}, every ws;")
    print(f"kept where the share read with the factor grows by {args.min_move:.0%} or more from")
    print("strength -1 to +1.\n")
    print("| direction | separation (d') | with it at -1 | at 0 | at +1 | others changed at +1 "
          "| kept |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for k, (name, (lo, mid, hi), moved) in enumerate(rows):
        print(
            f"| {name} | {d.scores[k]:.2f} | {100 * lo:.0f} % | {100 * mid:.0f} % "
            f"| {100 * hi:.0f} % | {100 * moved:.0f} % | {'yes' if k in keep else 'no'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
