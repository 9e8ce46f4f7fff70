"""What models of the procedural faces draw, read back by the face probe (training/face_probe.py):

- the probe's accuracy on fresh faces it never saw, per factor: how far the numbers below can be
  trusted. It is measured on real faces only; generated faces are blurrier, and no number here
  says how much worse the probe reads them;
- coverage: per factor, how often each value is drawn among N samples (psi 1, random noise)
  against the training faces, both as the probe reads them (so that its misreadings weigh on
  both sides), as the total variation distance of the two shares (0: the same mix, 1: nothing
  in common), and the values drawn less than half as often as in the data. N fresh faces, read
  the same way, give the floor: what a model drawing exactly the data's mix would score;
- style bands: for P pairs of seeds (a, b), seed a's ws with one band's ws from seed b (coarse
  4-8 px, middle 16-32 px, fine 64+ px, each ws counted at the lowest resolution it drives;
  stylegan2.bands), noise constant. Per factor, among the pairs the probe reads differently,
  the share whose mix reads as b: the factors a band controls, beside the share a value drawn
  at random from the model's samples would get.

    python tools/factor_coverage.py NETWORK [NETWORK ...] --data TRAIN.zip --fresh FRESH.zip
        [--probe PROBE.safetensors] [--samples 1000] [--pairs 200]

The fresh faces must come from another dataset seed than the training faces (`stylegan2 dataset
--faces 1000 --seed 1`). The probe is trained on --data (about 15 minutes on one busy CPU thread
for 20,000 faces) unless --probe names one saved before; with --probe and no such file, the
trained one is saved there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from stylegan2.bands import BANDS, ws_in_band
from stylegan2.checkpoints import CheckpointError, load_checkpoint
from stylegan2.networks import Generator, z_from_seed
from stylegan2.render import to_uint8_nchw
from training.face_probe import (
    CATEGORIES,
    accuracy,
    faces_meta,
    load_faces,
    load_probe,
    save_probe,
    train_probe,
)


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


def transfer_rates(a: dict, b: dict, mixed: dict, share: dict) -> dict[str, tuple]:
    """Factor -> (share of the pairs read differently in a and b whose mix reads as b, the share
    a mix drawn at random from the model's values (`share`) would get, how many pairs were
    read differently)."""
    out = {}
    for k in CATEGORIES:
        differ = a[k] != b[k]
        n = int(differ.sum())
        if not n:
            out[k] = (float("nan"), float("nan"), 0)
            continue
        took = float((mixed[k][differ] == b[k][differ]).float().mean())
        out[k] = (took, float(share[k][b[k][differ]].mean()), n)
    return out


@torch.no_grad()
def samples(G: Generator, count: int, batch: int = 50) -> torch.Tensor:
    noise = torch.Generator().manual_seed(0)
    out = []
    for i in range(0, count, batch):
        z = torch.cat([z_from_seed(s, G.z_dim) for s in range(i, min(i + batch, count))])
        ws = G.mapping(z, None)
        out.append(to_uint8_nchw(G.synthesis(ws, noise_mode="random", noise_generator=noise)))
    return torch.cat(out)


@torch.no_grad()
def band_mixes(
    G: Generator, pairs: int, batch: int = 50
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Images of seeds a = 0..pairs-1 and b = a + pairs, and of a with each band's ws from b
    (bands with no ws in this network are left out)."""
    layers = G.synthesis.layers()
    imgs_a, imgs_b = [], []
    mixed: dict[str, list] = {band: [] for band in BANDS if ws_in_band(layers, band)}
    for i in range(0, pairs, batch):
        seeds = range(i, min(i + batch, pairs))
        wa = G.mapping(torch.cat([z_from_seed(s, G.z_dim) for s in seeds]), None)
        wb = G.mapping(torch.cat([z_from_seed(s + pairs, G.z_dim) for s in seeds]), None)
        imgs_a.append(to_uint8_nchw(G.synthesis(wa, noise_mode="const")))
        imgs_b.append(to_uint8_nchw(G.synthesis(wb, noise_mode="const")))
        for band in mixed:
            idx = ws_in_band(layers, band)
            w = wa.clone()
            w[:, idx] = wb[:, idx]
            mixed[band].append(to_uint8_nchw(G.synthesis(w, noise_mode="const")))
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
    except (OSError, ValueError, CheckpointError) as e:  # DatasetError is a ValueError too
        print(f"factor_coverage: error: {e}", file=sys.stderr)
        return 1


def _report(args: argparse.Namespace) -> int:
    # Every input is checked before the minutes of probe training.
    networks = []
    for path in args.networks:
        G = load_checkpoint(path).G_ema.eval()
        if G.img_channels != 3 or G.c_dim:
            raise ValueError(f"{path}: the probe reads unconditional RGB networks only")
        networks.append((path, G))
    seed = faces_meta(args.data)["faces_seed"]
    if seed == faces_meta(args.fresh)["faces_seed"]:
        raise ValueError(
            f"{args.fresh} was drawn from the same seed ({seed}) as {args.data}: its faces are "
            "training faces (`stylegan2 dataset --faces N --seed S` with another S)"
        )
    saved = bool(args.probe) and Path(args.probe).is_file()
    if args.probe and not saved and not Path(args.probe).resolve().parent.is_dir():
        raise ValueError(f"{args.probe}: no folder to save the probe in")
    train_imgs, train_cls = load_faces(args.data)
    fresh_imgs, fresh_cls = load_faces(args.fresh)
    if saved:
        probe = load_probe(args.probe)
    else:
        probe = train_probe(train_imgs, train_cls, epochs=args.epochs, log=print)
        if args.probe:
            save_probe(probe, args.probe, note=f"trained on {Path(args.data).name} (seed {seed})")
    acc = accuracy(probe, fresh_imgs, fresh_cls)
    # The reference is the training faces as the probe reads them, so that its misreadings
    # weigh on both sides; fresh faces, as many as the samples, give the floor: what a model
    # drawing exactly the data's mix would score.
    reference = shares(probe.predict(train_imgs))
    floor = coverage(shares(probe.predict(fresh_imgs[: args.samples])), reference)
    sure = probe.confidence(fresh_imgs)
    n_floor = min(args.samples, len(fresh_imgs))
    print(f"## The probe on {len(fresh_imgs)} fresh faces\n")
    print(f"Floor: {n_floor} fresh faces as the probe reads them, against the training faces as")
    print("it reads them (what a model drawing exactly the data's mix would score).\n")
    print("| factor | values | read right | the commonest value's share | floor: total variation "
          "| floor: under half as often |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for k, names in CATEGORIES.items():
        common = float(shares(fresh_cls)[k].max())
        tv, rare = floor[k]
        print(
            f"| {k} | {len(names)} | {_pct(acc[k])} | {_pct(common)} | {tv:.2f} "
            f"| {', '.join(rare) or '–'} |"
        )
    for path, G in networks:
        print(f"\n## {Path(path).name}\n")
        images = samples(G, args.samples)
        read = shares(probe.predict(images))
        cov = coverage(read, reference)
        sure_here = probe.confidence(images)
        print(f"Coverage: {args.samples} samples against the training faces, both as the probe")
        print("reads them; the probe's mean confidence in what it reads, on these samples and")
        print("on the fresh faces (much lower on samples: they look unlike its training).\n")
        print("| factor | total variation | drawn under half as often as in the data "
              "| confidence: samples | fresh faces |")  # fmt: skip
        print("|---|---|---|---|---|")
        for k, (tv, rare) in cov.items():
            print(
                f"| {k} | {tv:.2f} | {', '.join(rare) or '–'} | {_pct(sure_here[k])} "
                f"| {_pct(sure[k])} |"
            )
        a, b, mixed = band_mixes(G, args.pairs)
        ra, rb = probe.predict(a), probe.predict(b)
        rates = {band: transfer_rates(ra, rb, probe.predict(m), read) for band, m in mixed.items()}
        layers = G.synthesis.layers()
        heads = " | ".join(f"{band} (ws {ws_in_band(layers, band)})" for band in BANDS)
        print(f"\nStyle bands, {args.pairs} pairs (a, b): among the pairs the probe reads")
        print("differently, the share whose mix (a with one band's ws from b) reads as b. Chance:")
        print("the share a value drawn at random from the model's samples would match b's.\n")
        print(f"| factor (pairs) | {heads} | chance |\n|---|{'---|' * (len(BANDS) + 1)}")
        first = next(iter(rates.values()), None)  # pairs and chance are the same for every band
        for k in CATEGORIES:
            _, chance, n = first[k] if first else (None, float("nan"), 0)
            cells = " | ".join(_pct(rates[band][k][0]) if band in rates else "–" for band in BANDS)
            print(f"| {k} ({n}) | {cells} | {_pct(chance)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
