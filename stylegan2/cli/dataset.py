"""`stylegan2 dataset`: build a training zip from a folder of images (see training.dataset_tool)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dataset", help="build a training zip from a folder of images")
    p.add_argument("--source", required=True, help="folder (searched recursively) or zip")
    p.add_argument("--dest", required=True, help="output .zip")
    p.add_argument("--resolution", type=int, required=True)
    p.add_argument("--crop", choices=["center", "none"], default="center")
    p.add_argument("--labels", action="store_true", help="classes from sub-folder names")
    p.add_argument("--max-images", type=int, default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stylegan2.cli.common import CLIError
    from training.dataset import DatasetError
    from training.dataset_tool import build_dataset

    try:
        report = build_dataset(
            args.source, args.dest, args.resolution, args.crop, args.labels, args.max_images
        )
    except DatasetError as exc:
        raise CLIError(str(exc)) from None
    print(f"{args.dest}: {report.summary()}")
    return 0
