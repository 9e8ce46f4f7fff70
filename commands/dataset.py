"""`stylegan2 dataset`: build a training zip from a folder of images, the procedural faces the
bundled models train on, or emoji from the Noto Color Emoji font (see training.dataset_tool,
training.faces, training.emoji)."""

from __future__ import annotations

import argparse

from stylegan2.cli.common import count_int, int_in, resolution_int, seed_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dataset",
        help="build a training zip from a folder of images, procedural faces or an emoji font",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--source", help="folder (searched recursively) or zip")
    src.add_argument("--emoji-font", help="render every emoji of this Noto Color Emoji TTF")
    src.add_argument(
        "--faces",
        type=count_int,
        metavar="N",
        help="draw N procedural cartoon faces (the bundled models' dataset, training.faces)",
    )
    p.add_argument(
        "--emoji-set",
        choices=["all", "faces"],
        default=None,
        help="with --emoji-font: every pictographic emoji (all, the default), or only the "
        "faces (training.emoji)",
    )
    p.add_argument("--dest", required=True, help="output .zip")
    p.add_argument(
        "--resolution", type=resolution_int, required=True, help="a power of two, 4-2048"
    )
    p.add_argument(
        "--crop",
        choices=["center", "none"],
        default=None,
        help="with --source: cut non-square images to their centre square (center, the "
        "default) or skip them (none)",
    )
    p.add_argument(
        "--labels", action="store_true", help="with --source: classes from sub-folder names"
    )
    p.add_argument(
        "--max-images",
        type=count_int,
        default=None,
        help="with --source or --emoji-font: stop after this many images are written, 1-10^7 "
        "(default: all)",
    )
    p.add_argument(
        "--seed",
        type=seed_int,
        default=None,
        help="with --faces: which faces, 0 to 2^32-1 (default 0)",
    )
    p.add_argument(
        "--workers",
        type=int_in(1, 1024),
        default=None,
        help="with --faces: processes that draw the faces (the zip is the same for any number; "
        "default: this machine's cores)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stylegan2.cli.common import CLIError, check_memory, check_output, refuse_overwrite
    from training.dataset import DatasetError
    from training.dataset_tool import build_dataset, build_emoji_dataset, build_faces_dataset

    refuse_overwrite([("--dest", args.dest)], [("--emoji-font", args.emoji_font)])
    check_output(args.dest, ".zip")  # before the images are made, not after

    # An option the chosen source ignores would silently do nothing: refuse it.
    for flags, source, wanted in (
        ((("--workers", args.workers), ("--seed", args.seed)), "--faces", args.faces is not None),
        ((("--emoji-set", args.emoji_set),), "--emoji-font", bool(args.emoji_font)),
        ((("--crop", args.crop), ("--labels", args.labels or None)), "--source", bool(args.source)),
        ((("--max-images", args.max_images),), "--source or --emoji-font", args.faces is None),
    ):
        given = [flag for flag, value in flags if value is not None]
        if given and not wanted:
            raise CLIError(
                f"{' and '.join(given)} only go{'es' if len(given) == 1 else ''} with {source}"
            )
    try:
        if args.faces is not None:
            # The images are held in memory before the zip is written.
            check_memory("the faces", args.faces * args.resolution**2 * 3)
            from training.faces import default_workers

            workers = args.workers or default_workers()
            n = build_faces_dataset(args.dest, args.resolution, args.faces, args.seed or 0, workers)
            print(f"{args.dest}: wrote {n} procedural faces")
            return 0
        if args.emoji_font:
            n = build_emoji_dataset(
                args.emoji_font,
                args.dest,
                args.resolution,
                args.max_images,
                args.emoji_set or "all",
            )
            print(f"{args.dest}: wrote {n} emoji")
            return 0
        report = build_dataset(
            args.source,
            args.dest,
            args.resolution,
            args.crop or "center",
            args.labels,
            args.max_images,
        )
    except (DatasetError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    print(f"{args.dest}: {report.summary()}")
    return 0
