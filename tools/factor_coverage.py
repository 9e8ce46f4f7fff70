"""What models of the procedural faces draw, read back by the face probe (training/face_probe.py):

- the probe's accuracy on fresh faces it never saw, per factor: how far the numbers below can be
  trusted (a factor read near chance says nothing);
- coverage: per factor, how often each value is drawn among N samples (psi 1, random noise)
  against the training faces, as the total variation distance of the two shares (0: the same
  mix, 1: nothing in common), and the values drawn less than half as often as in the data. The
  fresh faces as the probe reads them give the floor: what a model that drew exactly the
  data's mix would score, the probe's misreadings and sampling included;
- style bands: for P pairs of seeds (a, b), seed a's ws with one band's ws from seed b (coarse
  4-8 px, middle 16-32 px, fine 64+ px; stylegan2.bands), noise constant. Per factor, among the
  pairs where the probe reads a and b differently, the share in which the mixed image takes b's
  value: the factors a band controls.

    python tools/factor_coverage.py NETWORK [NETWORK ...] --data TRAIN.zip --fresh FRESH.zip
        [--probe PROBE.safetensors] [--samples 1000] [--pairs 200]

The probe is trained on --data (a few minutes on one CPU thread for 20,000 faces) unless --probe
names one saved before; with --probe and no such file, the trained one is saved there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from stylegan2.bands import BANDS, ws_in_band
from stylegan2.checkpoints import CheckpointError, load_checkpoint
from stylegan2.networks import z_from_seed
from training.face_probe import (
    CATEGORIES,
    accuracy,
    load_faces,
    load_probe,
    save_probe,
    train_probe,
)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    return (x * 127.5 + 128).clamp(0, 255).to(torch.uint8)


def shares(classes: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Factor -> share of each value."""
    return {
        k: torch.bincount(classes[k], minlength=len(v)).float() / len(classes[k])
        for k, v in CATEGORIES.items()
    }


def coverage(model: dict[str, torch.Tensor], data: dict[str, torch.Tensor]) -> dict[str, tuple]:
    """Factor -> (total variation distance, [values drawn under half as often as in the data])."""
    out = {}
    for k, names in CATEGORIES.items():
        tv = float((model[k] - data[k]).abs().sum() / 2)
        rare = [names[i] for i in range(len(names)) if model[k][i] < 0.5 * data[k][i]]
        out[k] = (tv, rare)
    return out


def transfer_rates(a: dict, b: dict, mixed: dict) -> dict[str, tuple[float, int]]:
    """Factor -> (share of the pairs read differently in a and b whose mix reads as b, how many
    pairs were read differently)."""
    out = {}
    for k in CATEGORIES:
        differ = a[k] != b[k]
        n = int(differ.sum())
        took = float((mixed[k][differ] == b[k][differ]).float().mean()) if n else float("nan")
        out[k] = (took, n)
    return out


@torch.no_grad()
def samples(G, count: int, batch: int = 50) -> torch.Tensor:
    noise = torch.Generator().manual_seed(0)
    out = []
    for i in range(0, count, batch):
        z = torch.cat([z_from_seed(s, G.z_dim) for s in range(i, min(i + batch, count))])
        ws = G.mapping(z, None)
        out.append(to_uint8(G.synthesis(ws, noise_mode="random", noise_generator=noise)))
    return torch.cat(out)


@torch.no_grad()
def band_mixes(G, pairs: int, batch: int = 50) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Images of seeds a = 0..pairs-1 and b = a + pairs, and of a with each band's ws from b."""
    layers = G.synthesis.layers()
    imgs_a, imgs_b, mixed = [], [], {band: [] for band in BANDS}
    for i in range(0, pairs, batch):
        seeds = range(i, min(i + batch, pairs))
        wa = G.mapping(torch.cat([z_from_seed(s, G.z_dim) for s in seeds]), None)
        wb = G.mapping(torch.cat([z_from_seed(s + pairs, G.z_dim) for s in seeds]), None)
        imgs_a.append(to_uint8(G.synthesis(wa, noise_mode="const")))
        imgs_b.append(to_uint8(G.synthesis(wb, noise_mode="const")))
        for band in BANDS:
            idx = ws_in_band(layers, band)
            w = wa.clone()
            w[:, idx] = wb[:, idx]
            mixed[band].append(to_uint8(G.synthesis(w, noise_mode="const")))
    return torch.cat(imgs_a), torch.cat(imgs_b), {k: torch.cat(v) for k, v in mixed.items()}


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.0f} %"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("networks", nargs="+")
    p.add_argument("--data", required=True, help="the faces zip the models trained on")
    p.add_argument("--fresh", required=True, help="faces of the same kind no model or probe saw")
    p.add_argument("--probe", help="a saved probe to use, or where to save the one trained")
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--pairs", type=int, default=200)
    p.add_argument("--epochs", type=int, default=6, help="probe training epochs")
    args = p.parse_args(argv)
    if args.samples < 1 or args.pairs < 1 or args.epochs < 1:
        p.error("--samples, --pairs and --epochs must be positive")
    torch.set_num_threads(1)
    try:
        return _report(args)
    except (OSError, ValueError, CheckpointError) as e:  # DatasetError is a ValueError
        print(f"factor_coverage: error: {e}", file=sys.stderr)
        return 1


def _report(args: argparse.Namespace) -> int:
    train_imgs, train_cls = load_faces(args.data)
    if args.probe and Path(args.probe).is_file():
        probe = load_probe(args.probe)
    else:
        probe = train_probe(train_imgs, train_cls, epochs=args.epochs, log=print)
        if args.probe:
            save_probe(probe, args.probe, note=f"trained on {Path(args.data).name}")
    fresh_imgs, fresh_cls = load_faces(args.fresh)
    acc = accuracy(probe, fresh_imgs, fresh_cls)
    data_share = shares(train_cls)
    # What a model that drew exactly the data's mix would score: fresh faces as the probe reads
    # them, against the training faces' true shares (the probe's errors and sampling together).
    floor = coverage(shares(probe.predict(fresh_imgs)), data_share)
    print(f"## The probe on {len(fresh_imgs)} fresh faces\n")
    print("| factor | values | read right | chance (the commonest value) | total variation |")
    print("|---|---|---|---|---|")
    for k, names in CATEGORIES.items():
        chance = float(shares(fresh_cls)[k].max())
        print(f"| {k} | {len(names)} | {_pct(acc[k])} | {_pct(chance)} | {floor[k][0]:.2f} |")
    for path in args.networks:
        G = load_checkpoint(path).G_ema.eval()
        print(f"\n## {Path(path).name}\n")
        read = probe.predict(samples(G, args.samples))
        cov = coverage(shares(read), data_share)
        print(f"Coverage, {args.samples} samples against the training faces:\n")
        print("| factor | total variation | drawn under half as often as in the data |")
        print("|---|---|---|")
        for k, (tv, rare) in cov.items():
            print(f"| {k} | {tv:.2f} | {', '.join(rare) or '–'} |")
        a, b, mixed = band_mixes(G, args.pairs)
        ra, rb = probe.predict(a), probe.predict(b)
        rates = {band: transfer_rates(ra, rb, probe.predict(m)) for band, m in mixed.items()}
        layers = G.synthesis.layers()
        heads = " | ".join(f"{band} (ws {ws_in_band(layers, band)})" for band in BANDS)
        print(f"\nStyle bands, {args.pairs} pairs: the share of differing pairs whose mix takes")
        print("the second seed's value (in brackets: how many pairs the probe read differently)\n")
        print(f"| factor | {heads} |\n|---|{'---|' * len(BANDS)}")
        for k in CATEGORIES:
            n = rates["coarse"][k][1]
            cells = " | ".join(_pct(rates[band][k][0]) for band in BANDS)
            print(f"| {k} ({n}) | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
