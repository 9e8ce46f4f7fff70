"""Measurements behind the bundled pair's notes (docs/bundled-models.md), for any snapshots:

- noise: how far two noise draws move the pixels for the same ws (mean |difference|, 0-255);
- one-pixel share: per conv layer from 16 px, the largest share of one channel's variance that a
  single pixel holds (the paper's droplet dominates its channel's statistics; spikes that do not
  leave this small);
- blob scores at 64 px with the noise inputs on and off (whether spikes are the noise's);
- with --data and --fresh: the discriminator's scores on training images, on fresh images of
  the same distribution (e.g. `stylegan2 dataset --faces 1000 --seed 1`), and on fakes. A D that
  scores training images above fresh ones has memorised them; one that scores both alike but far
  above the fakes is simply winning.

    python tools/pair_diagnostics.py SNAPSHOT [SNAPSHOT ...] [--data TRAIN.zip --fresh FRESH.zip]

Seeds 0-31 throughout (32 images each); D scores over up to 500 images of each kind (at least
20: whole minibatch-std groups). Unconditional networks only (the bundled ones).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from stylegan2.blobs import blob_scores_over_seeds
from stylegan2.checkpoints import load_checkpoint
from stylegan2.networks import Capture, z_from_seed

SEEDS = range(32)


def noise_move(G) -> float:
    z = torch.cat([z_from_seed(s, G.z_dim) for s in SEEDS])
    ws = G.mapping(z, None)
    draws = [
        G.synthesis(ws, noise_mode="random", noise_generator=torch.Generator().manual_seed(k))
        for k in (1, 2)
    ]
    return float((draws[0] - draws[1]).abs().mean() * 127.5)


def one_pixel_share(G) -> dict[str, tuple[float, float]]:
    """layer -> (mean, max) over seeds of the channel-max one-pixel variance share."""
    layers = [lay for lay in G.layers() if lay.kind != "torgb" and lay.resolution >= 16]
    shares: dict[str, list[float]] = {lay.name: [] for lay in layers}
    for seed in SEEDS:
        cap = Capture([lay.name for lay in layers])
        G(z_from_seed(seed, G.z_dim), None, noise_mode="const", capture=cap)
        for lay in layers:
            x = cap.outputs[lay.name][0].float().flatten(1)
            d = (x - x.mean(1, keepdim=True)) ** 2
            shares[lay.name].append(float((d.max(1).values / d.sum(1).clamp_min(1e-12)).max()))
    return {n: (float(np.mean(v)), float(np.max(v))) for n, v in shares.items()}


def blobs_at_top(G, noise_mode: str) -> float:
    scores = blob_scores_over_seeds(G, list(SEEDS), noise_mode=noise_mode)
    top = [s["peak_to_median"] for s in scores.values() if s["resolution"] == G.img_resolution]
    return float(np.mean(top))


def _images(path: str, count: int) -> torch.Tensor:
    from training.dataset import ImageDataset

    ds = ImageDataset(path)
    return torch.stack([ds[i][0] for i in range(min(count, len(ds)))]).float() / 127.5 - 1


def d_scores(ck, train: torch.Tensor, fresh: torch.Tensor) -> dict[str, torch.Tensor]:
    D, G = ck.D.eval(), ck.G_ema.eval()
    n, step = min(len(train), len(fresh)), 20  # a multiple of the minibatch-std group
    n -= n % step
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(0))
    fake = torch.cat([G(z[i : i + step], None) for i in range(0, n, step)])
    out = {}
    for name, x in (("train", train[:n]), ("fresh", fresh[:n]), ("fake", fake)):
        out[name] = torch.cat([D(x[i : i + step], None) for i in range(0, n, step)]).flatten()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("snapshots", nargs="+")
    p.add_argument("--data", help="the training zip (for the D scores)")
    p.add_argument("--fresh", help="images of the same distribution D never saw")
    args = p.parse_args(argv)
    if bool(args.data) != bool(args.fresh):
        p.error("--data and --fresh go together")
    torch.set_num_threads(1)
    reals = (_images(args.data, 500), _images(args.fresh, 500)) if args.data else None
    if reals is not None and min(len(r) for r in reals) < 20:
        p.error("--data and --fresh need at least 20 images each")
    for path in args.snapshots:
        ck = load_checkpoint(path)
        G = ck.G_ema.eval()
        print(f"== {Path(path).parent.name}/{Path(path).name}")
        with torch.no_grad():
            print(f"noise: two draws move the pixels by {noise_move(G):.2f} of 255 on average")
            for name, (mean, top) in one_pixel_share(G).items():
                print(
                    f"one-pixel share {name:10s} mean {100 * mean:5.1f} %  max {100 * top:5.1f} %"
                )
            on, off = blobs_at_top(G, "const"), blobs_at_top(G, "none")
            print(f"blob peak/median at {G.img_resolution} px: noise on {on:.2f}, off {off:.2f}")
            if reals is not None and ck.D is not None:
                s = d_scores(ck, *reals)
                above = float((s["train"][:, None] > s["fresh"][None]).float().mean())
                said = "  ".join(
                    f"{k} {float(v.mean()):+.2f}±{float(v.std()):.2f}" for k, v in s.items()
                )
                print(f"D scores: {said}  P(train > fresh) {above:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
