"""`stylegan2 generate` and `stylegan2 mix`: images with NVIDIA's generate.py / style_mixing.py
semantics (same file + seed -> same pixels)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from stylegan2.cli.common import (
    MAX_LIST,
    SEEDS_HELP,
    CLIError,
    add_device_arg,
    check_image_bytes,
    check_output,
    ensure_dir,
    index_int,
    int_in,
    parse_range,
    psi_float,
    read_state,
    refuse_overwrite,
)
from stylegan2.io import save_png
from stylegan2.render import Latent, Renderer, RenderRequest, style_mixing_grid

log = logging.getLogger(__name__)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="images for seeds (as NVIDIA's generate.py)")
    p.add_argument("--network", required=True, help="checkpoint path (any supported format)")
    p.add_argument(
        "--seeds", type=parse_range, default=None, help=f"e.g. 0-3,7 (default 0); {SEEDS_HELP}"
    )
    p.add_argument(
        "--state",
        help="an explorer state (its Save state JSON, or a PNG its Save image wrote): render "
        "exactly what the explorer showed",
    )
    _add_common(p)
    p.add_argument(
        "--class", dest="class_idx", type=index_int, default=None, help="class label (0+)"
    )
    p.add_argument("--outdir", required=True)
    p.add_argument(
        "--grid",
        type=int_in(1, MAX_LIST),
        default=None,
        metavar="COLS",
        help="write one grid.png with COLS images per row instead of one file per seed",
    )
    p.set_defaults(func=run_generate)

    p = sub.add_parser("mix", help="style-mixing grid (as NVIDIA's style_mixing.py)")
    p.add_argument("--network", required=True, help="checkpoint path (any supported format)")
    p.add_argument(
        "--rows", type=parse_range, required=True, help=f"row seeds, e.g. 85,100; {SEEDS_HELP}"
    )
    p.add_argument(
        "--cols", type=parse_range, required=True, help=f"column seeds, e.g. 55,821; {SEEDS_HELP}"
    )
    p.add_argument(
        "--styles",
        type=parse_range,
        default=None,
        help="ws indices taken from the column seed (default 0-6, as NVIDIA's style_mixing.py, "
        "or every ws but the last on a network with fewer)",
    )
    _add_common(p)
    p.add_argument("--out", required=True, help="grid PNG path")
    p.set_defaults(func=run_mix)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--trunc", type=psi_float, default=1.0, help="truncation psi, -100 to 100 (default 1)"
    )
    p.add_argument(
        "--trunc-cutoff", type=index_int, default=None, help="truncate only the first N ws (0+)"
    )
    p.add_argument("--noise-mode", choices=["const", "random", "none"], default="const")
    add_device_arg(p)


def _renderer(args: argparse.Namespace) -> Renderer:
    from stylegan2.checkpoints import load_network
    from stylegan2.device import resolve_device

    G = load_network(args.network, device=resolve_device(args.device))
    if getattr(args, "class_idx", None) is not None and G.c_dim == 0:
        raise CLIError(f"--class {args.class_idx}: this network is not conditional (no classes)")
    return Renderer(G)


def _render(renderer: Renderer, req: RenderRequest) -> np.ndarray:
    result = renderer.render(req)
    if result.error:
        raise CLIError(result.error)
    assert result.image is not None
    return result.image


def run_generate(args: argparse.Namespace) -> int:
    if args.state and args.seeds:
        raise CLIError("--state and --seeds cannot be combined")
    outputs = _generate_outputs(args)
    refuse_overwrite(outputs, [("--network", args.network), ("--state", args.state)])
    # One stat per output (a long seed list stays cheap): a folder in the way fails now.
    folder = next((p for _, p in outputs if p.is_dir()), None)
    if folder is not None:
        raise CLIError(f"{folder} is a folder, where an image would be written")
    renderer = _renderer(args)
    outdir = ensure_dir(args.outdir)
    if args.state:
        return _generate_state(renderer, args.state, outdir)
    seeds = args.seeds or [0]
    if args.grid is not None:
        res, cols = renderer.G.img_resolution, min(args.grid, len(seeds))
        rows = -(-len(seeds) // args.grid)
        check_image_bytes("the grid", rows * res, cols * res, 2 * renderer.G.img_channels)
    images = []
    for seed in seeds:
        req = RenderRequest(
            latent=Latent.from_seed(seed, args.class_idx),
            psi=args.trunc,
            cutoff=args.trunc_cutoff,
            noise_mode=args.noise_mode,
        )
        image = _render(renderer, req)
        if args.grid is not None:
            images.append(image)
            continue
        save_png(image, outdir / _seed_name(seed))
        log.info("seed %d -> %s", seed, outdir / _seed_name(seed))
    if args.grid is not None:
        save_png(image_grid(images, args.grid), outdir / GRID_NAME)
        print(f"wrote a grid of {len(seeds)} images to {outdir / GRID_NAME}")
        return 0
    print(f"wrote {len(seeds)} image(s) to {outdir}")
    return 0


GRID_NAME = "grid.png"


def _seed_name(seed: int) -> str:
    return f"seed{seed:04d}.png"


def _state_name(state_path: str) -> str:
    return Path(state_path).stem + ".png"


def _generate_outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The files `generate` will write (the names the writers below use), by the flag."""
    if args.state:
        names = [_state_name(args.state)]
    elif args.grid is not None:
        names = [GRID_NAME]
    else:
        names = [_seed_name(seed) for seed in args.seeds or [0]]
    return [("--outdir", Path(args.outdir) / name) for name in names]


def image_grid(images: list[np.ndarray], cols: int) -> np.ndarray:
    """Row-major grid of equal-sized HWC images; empty cells stay black."""
    h, w, c = images[0].shape
    rows = -(-len(images) // cols)
    grid = np.zeros((rows * h, min(cols, len(images)) * w, c), dtype=images[0].dtype)
    for i, image in enumerate(images):
        r, q = divmod(i, cols)
        grid[r * h : (r + 1) * h, q * w : (q + 1) * w] = image
    return grid


def _generate_state(renderer: Renderer, state_path: str, outdir) -> int:
    from stylegan2.render import request_from_dict

    data = read_state(state_path)
    if not isinstance(data.get("request"), dict):
        raise CLIError(f"{state_path}: holds no image request (not a state the explorer saved)")
    try:
        req = request_from_dict(data["request"])
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
        raise CLIError(f"{state_path}: not an explorer state file ({exc})") from None
    out = outdir / _state_name(state_path)
    save_png(_render(renderer, req), out)
    print(f"wrote {out}")
    return 0


def run_mix(args: argparse.Namespace) -> int:
    refuse_overwrite([("--out", args.out)], [("--network", args.network)])
    check_output(args.out, ".png")
    renderer = _renderer(args)
    num_ws = renderer.G.num_ws
    if args.styles is None:
        args.styles = list(range(min(7, num_ws - 1)))
    bad = [s for s in args.styles if not 0 <= s < num_ws]
    if bad:
        raise CLIError(f"--styles {bad[:5]} out of range: this network has ws 0-{num_ws - 1}")
    res = renderer.G.img_resolution
    check_image_bytes("the mixing grid", (len(args.rows) + 1) * res, (len(args.cols) + 1) * res, 3)
    try:
        grid = style_mixing_grid(
            renderer,
            args.rows,
            args.cols,
            args.styles,
            args.trunc,
            args.trunc_cutoff,
            args.noise_mode,
        )
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    save_png(grid, args.out)
    print(f"wrote {args.out}")
    return 0
