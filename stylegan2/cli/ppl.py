"""`stylegan2 ppl`: perceptual path length with the official protocol (Karras et al. 2020;
NVIDIA's metrics/perceptual_path_length.py)."""

from __future__ import annotations

import argparse
import json

from stylegan2.cli.common import (
    CLIError,
    add_device_arg,
    add_lpips_arg,
    count_int,
    int_in,
    seed_int,
)

QUICK_SAMPLES, FULL_SAMPLES = 1000, 50_000


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ppl", help="perceptual path length (official protocol)")
    p.add_argument("--network", required=True)
    p.add_argument("--space", choices=["w", "z"], default="w")
    p.add_argument("--sampling", choices=["end", "full"], default="end")
    p.add_argument("--crop", action="store_true", help="face crop (the paper's ppl_* metrics)")
    many = p.add_mutually_exclusive_group()
    many.add_argument(
        "--samples",
        type=count_int,
        default=None,
        help="1-10^7 (default 1000, about a minute for a small network on a CPU; --full: 50000)",
    )
    many.add_argument(
        "--full",
        action="store_true",
        help="the paper's protocol: 50,000 samples (hours on a CPU; the progress bar shows an ETA)",
    )
    p.add_argument("--batch", type=int_in(1, 1024), default=8, help="1-1024 (default 8)")
    p.add_argument("--seed", type=seed_int, default=0, help="0 to 2^32-1 (default 0)")
    p.add_argument(
        "--downsample",
        choices=["tf", "ada"],
        default="tf",
        help="box-downsampling rule: tf (paper numbers) or ada (stylegan2-ada-pytorch)",
    )
    add_lpips_arg(p)
    p.add_argument("--json", action="store_true")
    add_device_arg(p)
    p.set_defaults(func=run, fetch_lpips=True)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from stylegan2.checkpoints import load_network
    from stylegan2.device import resolve_device
    from stylegan2.lpips import LPIPSError, load_distance
    from stylegan2.ppl import filtered_mean, sample_ppl

    if args.samples is None:
        args.samples = FULL_SAMPLES if args.full else QUICK_SAMPLES
    if args.samples < 2:
        raise CLIError("--samples must be at least 2")
    device = resolve_device(args.device)
    G = load_network(args.network, device=device)
    try:
        dist = load_distance(args.lpips_weights, device)
    except LPIPSError as exc:
        raise CLIError(str(exc)) from None
    with tqdm(total=args.samples, unit="sample", disable=args.json) as bar:
        d = sample_ppl(
            G,
            dist,
            args.samples,
            args.space,
            args.sampling,
            args.crop,
            args.batch,
            args.seed,
            args.downsample,
            progress=bar.update,
        )
    value = filtered_mean(d)
    name = f"ppl_{args.space}{args.sampling}" + ("" if args.crop else " (no crop)")
    if args.json:
        print(
            json.dumps(
                {
                    "metric": name,
                    "value": value,
                    "distance": dist.name,
                    "samples": args.samples,
                    "downsample": args.downsample,
                }
            )
        )
    else:
        print(f"{name}: {value:.5g}  [{dist.name}; {args.samples} samples; 1st-99th percentile]")
    return 0
