"""`stylegan2 bench`: median ms/image of mapping + synthesis, reference path beside fast path."""

from __future__ import annotations

import argparse
import json
import platform

import torch

from stylegan2.cli.common import (
    CLIError,
    add_device_arg,
    check_memory,
    float_in,
    int_in,
    resolution_int,
)
from stylegan2.device import cpu_has_bf16


def add_parser(sub: argparse._SubParsersAction) -> None:
    from stylegan2.presets import PRESETS

    p = sub.add_parser("bench", help="generator speed: reference vs fast path (medians)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--network", help="checkpoint to time")
    src.add_argument(
        "--config",
        choices=sorted(PRESETS),
        default="small",
        help="time a random-weight preset architecture (default small)",
    )
    p.add_argument(
        "--resolution",
        type=resolution_int,
        default=None,
        help="override the preset resolution (a power of two, 4-2048)",
    )
    p.add_argument("--batch", type=int_in(1, 1024), default=1, help="1-1024 (default 1)")
    p.add_argument(
        "--paths",
        default=None,
        help="comma list of reference,fast,bf16,fp16,preview2,preview4 (default: reference,fast "
        "plus bf16 on CPUs that have it, fp16 on CUDA)",
    )
    p.add_argument(
        "--min-time", type=float_in(0, 3600), default=3.0, help="seconds per path (default 3)"
    )
    p.add_argument("--json", action="store_true")
    add_device_arg(p)
    p.set_defaults(func=run_bench)


def _default_paths(device: torch.device) -> tuple[str, ...]:
    if device.type == "cuda":
        return ("reference", "fast", "fp16")
    paths: tuple[str, ...] = ("reference", "fast")
    if cpu_has_bf16():
        paths += ("bf16",)
    return paths


def run_bench(args: argparse.Namespace) -> int:
    from stylegan2.bench import PATHS, bench_generator
    from stylegan2.device import resolve_device
    from stylegan2.networks import Generator
    from stylegan2.presets import generator_preset

    device = resolve_device(args.device)
    if args.network:
        from stylegan2.checkpoints import load_network

        G = load_network(args.network, device=device)
        what = args.network
    else:
        G = Generator(generator_preset(args.config, args.resolution)).eval().to(device)
        what = f"--config {args.config} ({G.img_resolution} px, random weights)"
    paths = tuple(args.paths.split(",")) if args.paths else _default_paths(device)
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise CLIError(f"unknown path(s) {unknown}; choose from {', '.join(PATHS)}")
    # A few float32 maps of the largest layer live at once (input, modulated output, noise,
    # the upsampling buffer), and the reference path's images are kept for the comparison.
    largest = max(x.channels * x.resolution**2 for x in G.layers())
    need = args.batch * (6 * largest + 2 * G.img_channels * G.img_resolution**2) * 4
    if device.type == "cpu":
        check_memory(f"bench at batch {args.batch} and {G.img_resolution} px", need)
    try:
        rows = bench_generator(G, batch=args.batch, paths=paths, min_time=args.min_time)
    except (RuntimeError, MemoryError) as exc:
        if "memory" not in str(exc).lower() and not isinstance(exc, MemoryError):
            raise
        raise CLIError(
            f"not enough memory for batch {args.batch} at {G.img_resolution} px; "
            "choose a smaller --batch"
        ) from None
    params = sum(p.numel() for p in G.parameters())
    if args.json:
        print(
            json.dumps(
                {
                    "network": what,
                    "device": str(device),
                    "threads": torch.get_num_threads(),
                    "resolution": G.img_resolution,
                    "parameters": params,
                    "cpu": platform.processor() or platform.machine(),
                    "torch": torch.__version__,
                    "rows": [r.as_dict() for r in rows],
                },
                indent=2,
            )
        )
        return 0
    print(
        f"{what}: {G.img_resolution} px, {params / 1e6:.1f} M parameters, device {device}, "
        f"{torch.get_num_threads()} threads, batch {args.batch}"
    )
    print(f"{'path':>10} {'median ms/img':>14} {'min':>9} {'reps':>5} {'speedup':>8}  pixel error")
    for r in rows:
        err = ""
        if r.max_abs_error is not None:
            err = f"max {r.max_abs_error:.3g}, PSNR {r.psnr_db:.1f} dB"
        speed = f"{r.speedup_vs_reference:.2f}x" if r.speedup_vs_reference else "-"
        print(
            f"{r.path:>10} {r.ms_per_image:>14.1f} {r.ms_min:>9.1f} {r.reps:>5} {speed:>8}  {err}"
        )
    return 0
