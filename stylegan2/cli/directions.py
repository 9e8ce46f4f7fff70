"""`stylegan2 directions` (SeFa / PCA) and `stylegan2 edit` (a grid of seeds x strengths)."""

from __future__ import annotations

import argparse

import numpy as np

from stylegan2.cli.common import (
    MAX_LIST,
    CLIError,
    add_device_arg,
    check_image_bytes,
    check_memory,
    check_output,
    index_int,
    int_in,
    parse_range,
    psi_float,
    refuse_overwrite,
    strength_float,
)
from stylegan2.io import save_png


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("directions", help="semantic directions in W (SeFa or PCA)")
    p.add_argument("--network", required=True)
    p.add_argument("--method", choices=["sefa", "pca"], default="sefa")
    p.add_argument("--layers", type=parse_range, help="ws range they apply to, e.g. 0-5")
    p.add_argument("--top", type=int_in(1, 4096), default=10, help="directions kept, 1-4096")
    p.add_argument(
        "--samples", type=int_in(2, 10**7), default=100_000, help="w samples for PCA, 2-10^7"
    )
    p.add_argument("--out", required=True, help="directions file (.npz)")
    add_device_arg(p)
    p.set_defaults(func=run_directions)

    p = sub.add_parser("edit", help="move seeds along a direction: a seeds x strengths grid")
    p.add_argument("--network", required=True)
    p.add_argument("--seeds", type=parse_range, default=[0, 1, 2, 3])
    p.add_argument("--direction", required=True, help="file from `stylegan2 directions`")
    p.add_argument("--index", type=index_int, default=0, help="which direction in the file (0+)")
    p.add_argument(
        "--strengths",
        type=parse_strengths,
        default="-5,0,5",
        help="comma-separated numbers, -10000 to 10000; write --strengths=-5,0,5 (a leading minus "
        "looks like a flag)",
    )
    p.add_argument("--trunc", type=psi_float, default=1.0, help="truncation psi, -100 to 100")
    p.add_argument("--out", required=True, help="grid PNG")
    add_device_arg(p)
    p.set_defaults(func=run_edit)


def parse_strengths(text: str) -> list[float]:
    """'-5,0,5' -> [-5.0, 0.0, 5.0]: at least one, each within +-MAX_STRENGTH (NaN, inf or
    1e30 would render black), at most MAX_LIST."""
    parts = [v.strip() for v in text.split(",") if v.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("needs at least one number, e.g. --strengths=-5,0,5")
    if len(parts) > MAX_LIST:
        raise argparse.ArgumentTypeError(f"{len(parts):,} strengths; at most {MAX_LIST:,}")
    return [strength_float(v) for v in parts]


def _layers(arg: list[int] | None) -> tuple[int, int] | None:
    """The one contiguous range of ws that --layers names ('3', '0-5', '0,1,2')."""
    if arg is None:
        return None
    lo, hi = min(arg), max(arg)
    if sorted(set(arg)) != list(range(lo, hi + 1)):
        raise CLIError(f"--layers must be one range such as {lo}-{hi}; directions apply to a run")
    return lo, hi


def run_directions(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from stylegan2.checkpoints import load_network
    from stylegan2.device import resolve_device
    from stylegan2.directions import pca, sefa

    check_output(args.out)
    refuse_overwrite([("--out", args.out)], [("--network", args.network)])
    layers = _layers(args.layers)
    G = load_network(args.network, device=resolve_device(args.device))
    try:
        if args.method == "sefa":
            d = sefa(G, layers, args.top)
        else:
            # the w's in float64, centred, then their SVD
            check_memory(f"PCA over {args.samples:,} samples", args.samples * G.w_dim * 8 * 3)
            with tqdm(total=args.samples, unit="w") as bar:
                d = pca(G, args.samples, layers, args.top, progress=bar.update)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    try:
        d.save(args.out)
    except OSError as exc:
        raise CLIError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(
        f"wrote {len(d.vectors)} {args.method} directions for ws {d.layers[0]}-{d.layers[1]} "
        f"to {args.out}"
    )
    for name in d.names:
        print(f"  {name}")
    return 0


def run_edit(args: argparse.Namespace) -> int:
    from stylegan2.checkpoints import load_network
    from stylegan2.device import resolve_device
    from stylegan2.directions import Directions
    from stylegan2.render import Latent, Renderer, RenderRequest

    refuse_overwrite(
        [("--out", args.out)], [("--network", args.network), ("--direction", args.direction)]
    )
    check_output(args.out, ".png")
    try:
        d = Directions.load(args.direction)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    if not 0 <= args.index < len(d.vectors):
        raise CLIError(f"--index {args.index}: the file holds {len(d.vectors)} directions")
    G = load_network(args.network, device=resolve_device(args.device))
    if d.vectors.shape[1] != G.w_dim or d.layers[1] >= G.num_ws:
        raise CLIError(
            f"{args.direction}: made for a different network (directions of {d.vectors.shape[1]} "
            f"numbers for ws {d.layers[0]}-{d.layers[1]}; this network has w_dim {G.w_dim} and "
            f"ws 0-{G.num_ws - 1})"
        )
    side, strengths = G.img_resolution, args.strengths
    # the rows and the grid joined from them are held at once
    check_image_bytes("the grid", len(args.seeds) * side, len(strengths) * side, 2 * G.img_channels)
    for s in strengths:
        with np.errstate(over="ignore"):  # a huge strength times the vector: inf in float32
            moved = s * d.vectors[args.index]
        if not np.isfinite(moved).all():
            raise CLIError(f"--strengths {s:g} is too large for this direction (w overflows)")
    r = Renderer(G)
    rows = []
    for seed in args.seeds:
        row = []
        for s in strengths:
            off = d.offset(args.index, s, G.num_ws)
            req = RenderRequest(latent=Latent.from_seed(seed), psi=args.trunc, w_offset=off)
            res = r.render(req)
            if res.error:
                raise CLIError(res.error)
            row.append(res.image)
        rows.append(np.concatenate(row, axis=1))
    save_png(np.concatenate(rows, axis=0), args.out)
    name = d.names[args.index]
    print(f"wrote {args.out}: {len(args.seeds)} seeds x strengths {strengths} along {name}")
    return 0
