"""`stylegan2 metrics`: FID (Heusel et al. 2017) and precision/recall (Kynkäänniemi et al. 2019)
of a network against a dataset, with the detector weights given, cached or downloaded once, and
precision/recall in pixel space, which needs none."""

from __future__ import annotations

import argparse
import json

from stylegan2.cli.common import CLIError, add_device_arg, ensure_dir, int_in


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metrics", help="FID / precision-recall against a dataset")
    p.add_argument("--network", required=True)
    p.add_argument("--data", required=True, help="folder of images or dataset zip (the reals)")
    p.add_argument(
        "--metrics",
        default="fid50k_full",
        help="comma-separated: fid<N>k[_full], pr<N>k3[_full], or pxpr<N>k3[_full] "
        "(precision/recall and diversity in 32x32 pixel space: no weights needed) "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--inception",
        help="inception-2015-12-05.pt (NVIDIA) or pytorch-fid's .pth, a file or URL (default: "
        "NVIDIA's, cached or downloaded once unless --offline)",
    )
    p.add_argument(
        "--vgg16",
        help="vgg16.pt (NVIDIA) or torchvision's vgg16-397923af.pth, a file or URL (default: "
        "NVIDIA's, cached or downloaded once unless --offline)",
    )
    p.add_argument(
        "--batch",
        type=int_in(1, 1024),
        default=32,
        help="images per forward pass, 1-1024 (default 32)",
    )
    p.add_argument("--cache", default=None, help="folder for cached real-image features")
    p.add_argument("--json", action="store_true")
    add_device_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from stylegan2.checkpoints import load_network
    from stylegan2.cli.models import cli_weights
    from stylegan2.device import resolve_device
    from stylegan2.metrics import MetricWeightsError, parse_metric
    from stylegan2.metrics.runner import DETECTOR_NEEDS
    from training.dataset import DatasetError, ImageDataset
    from training.metrics import check_metrics, check_reals, evaluate

    if not any(n.strip() for n in args.metrics.split(",")):
        raise CLIError("--metrics names no metric, e.g. --metrics fid50k_full,pxpr1k3")
    try:
        kinds = {parse_metric(n).kind for n in args.metrics.split(",") if n.strip()}
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    # Detector weights not given come from the cache, or NVIDIA's published files (unless
    # --offline), only for the metrics asked for.
    for need in {DETECTOR_NEEDS[k] for k in kinds} - {None}:
        if getattr(args, need.weights) is None:
            fetched = cli_weights(
                need.weights, None, offline=args.offline, cache_dir=args.cache_dir
            )
            setattr(args, need.weights, fetched)
    try:
        specs = check_metrics(args.metrics.split(","), args.inception, args.vgg16)
        check_reals(specs, len(ImageDataset(args.data).names))  # before any image is drawn
    except (ValueError, FileNotFoundError, DatasetError) as exc:
        raise CLIError(str(exc)) from None
    if args.cache is not None:
        ensure_dir(args.cache)  # a file of that name is said now, not after the network loads
    G = load_network(args.network, device=resolve_device(args.device))
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if args.json:
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total or None, desc=stage, unit="img")
        bar.update(done - bar.n)

    try:
        result = evaluate(
            G, args.data, specs, args.inception, args.vgg16, args.cache, args.batch, progress
        )
    except (MetricWeightsError, DatasetError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    finally:
        for bar in bars.values():
            bar.close()
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k}: {v:.4f}")
    return 0
