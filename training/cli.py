"""`stylegan2-train`: train StyleGAN2 (or its AdaIN twin) on a folder or zip of images.

Every TrainOptions field is a flag, generated from the field's metadata, so the parser and the
options cannot disagree; the few flags that are not options (threads, progress bar, --bench)
follow them."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import types
import typing
from typing import Any

from training.options import TrainOptions

_DESCRIPTION = "Train StyleGAN2 (or its AdaIN twin) on a folder or zip of images."
_HINTS = typing.get_type_hints(TrainOptions)


def _value_type(name: str) -> type:
    """int for `int | None`, and so on."""
    hint = _HINTS[name]
    if isinstance(hint, types.UnionType):
        (hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
    return typing.get_origin(hint) or hint


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in text.split(",") if m.strip())


def shown_default(f: dataclasses.Field) -> str:
    """The default as --help words it."""
    if f.metadata["shown"] is not None:
        return f.metadata["shown"]
    if isinstance(f.default, bool):
        return "off"  # a bool's flag switches away from its default
    return str(f.default)


def add_option_flags(p: argparse.ArgumentParser) -> None:
    for f in dataclasses.fields(TrainOptions):
        meta, kind = f.metadata, _value_type(f.name)
        kw: dict[str, Any] = {"dest": f.name}
        if f.default is dataclasses.MISSING:
            kw.update(required=True, help=meta["help"])
            p.add_argument(meta["flag"], **kw)
            continue
        kw["help"] = f"{meta['help']} (default: {shown_default(f)})"
        if kind is bool:
            kw.update(action="store_false" if f.default else "store_true", default=f.default)
        elif kind is tuple:
            kw.update(type=_comma_list, default=f.default, metavar="LIST")
        else:
            kw.update(type=kind, default=f.default)
            if meta["choices"]:
                kw["choices"] = meta["choices"]
            elif kind in (int, float):
                kw["metavar"] = "N" if kind is int else "X"
        p.add_argument(meta["flag"], **kw)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stylegan2-train", description=_DESCRIPTION)
    add_option_flags(p)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: $STYLEGAN2_THREADS, else the cores that other work "
        "leaves free, from the load average: two-thread regions stall badly when the other "
        "core is busy, so runs started side by side take one each)",
    )
    p.add_argument(
        "--no-progress", action="store_true", help="no progress bar, log lines only (default: off)"
    )
    p.add_argument(
        "--bench",
        action="store_true",
        help="measure img/s per phase on random data at this config, then exit (default: off)",
    )
    # For the multi-process equivalence test: no per-sample noise, mbstd groups of one and no
    # path-length term, whose batch differs by design between one and N processes.
    p.add_argument("--test-equivalence", action="store_true", help=argparse.SUPPRESS)
    return p


def options_from_args(args: argparse.Namespace) -> TrainOptions:
    """The TrainOptions a parsed command line gives (ValueError for values out of range)."""
    opts = TrainOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainOptions)})
    if args.test_equivalence:
        opts = dataclasses.replace(opts, use_noise=False, mbstd_group=1, pl_weight=0.0)
    return opts


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        opts = options_from_args(args)
    except ValueError as exc:  # one line, not argparse's usage block
        print(f"stylegan2-train: error: {exc}", file=sys.stderr)
        return 2
    from stylegan2.threads import apply_threads, choose_threads

    try:
        threads = choose_threads(args.threads)
    except ValueError as exc:
        print(f"stylegan2-train: error: {exc}", file=sys.stderr)
        return 2
    apply_threads(threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from stylegan2.checkpoints import CheckpointError
    from stylegan2.device import DeviceError
    from training.dataset import DatasetError
    from training.loop import train
    from training.run_folder import RunFolderError

    try:
        if args.bench:
            return _bench(opts)
        interrupted: list[str] = []
        run_dir = train(opts, progress=not args.no_progress, on_interrupt=interrupted.append)
    except (
        DatasetError,
        CheckpointError,
        DeviceError,
        RunFolderError,
        ValueError,
        FileNotFoundError,
    ) as exc:
        print(f"stylegan2-train: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk or a folder that went away mid-run
        print(
            f"stylegan2-train: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr
        )
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C while the first one's snapshot was written
        print("stylegan2-train: interrupted", file=sys.stderr)
        return 130
    print(f"run folder: {run_dir}")
    if interrupted:  # a snapshot was written: the run resumes, but it did not finish
        print(f"stylegan2-train: interrupted by {interrupted[0]}", file=sys.stderr)
        return 130 if interrupted[0] == "SIGINT" else 143
    return 0


def _bench(opts: TrainOptions) -> int:
    import torch

    from stylegan2.device import resolve_device
    from stylegan2.networks import Generator
    from training.bench import bench_training
    from training.dataset import ImageDataset
    from training.options import resolve, use_mixed_precision

    ds = ImageDataset(opts.data, use_labels=opts.use_labels)
    device = resolve_device(opts.device)
    mixed = use_mixed_precision(opts, device.type)
    rc = resolve(opts, ds.resolution, ds.num_channels, ds.c_dim, mixed=mixed)
    res = bench_training(rc, device)
    g = sum(p.numel() for p in Generator(rc.G).parameters())
    print(
        f"{ds.resolution} px, batch {rc.batch}, G {g / 1e6:.1f} M params, device {device}, "
        f"{torch.get_num_threads()} threads, {'mixed' if mixed else 'fp32'} precision"
    )
    width = max(map(len, res))
    for k, v in res.items():
        print(f"{k:>{width}}: {v:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
