"""The library's commands and their error handling. The `stylegan2` command itself
(commands.main) adds the commands that need the trainer through `extra`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from assets import default_network
from stylegan2.cli import (
    analysis,
    bench,
    convert_info,
    detect,
    directions,
    generate,
    models,
    ppl,
    project,
    video,
)
from stylegan2.cli.common import CLIError, int_in
from stylegan2.threads import ENV_VAR, MAX_THREADS, apply_threads, choose_threads

#: arguments that name a network: a path, an http(s) URL or a published network's short name
#: (stylegan2.catalogue), resolved to a local file before the command runs
NETWORK_DESTS = ("network", "compare_network")
#: arguments that name detector weights, and which weights
WEIGHT_DESTS = {"lpips_weights": "vgg16", "vgg16": "vgg16", "inception": "inception"}

#: adds one command's sub-parser. Besides `func`, a command's defaults may say
#: `network_positional=DEST` (its network is that positional argument: it is resolved like
#: --network) and `fetch_lpips=True` (it measures LPIPS and fetches NVIDIA's vgg16.pt when no
#: weights are given; `bundle` does not, so that a model card never depends on whether the
#: machine could download them).
ParserHook = Callable[[argparse._SubParsersAction], None]


def build_parser(extra: Sequence[ParserHook] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stylegan2",
        description="StyleGAN2 generators from the command line: images, mixing grids, videos, "
        "projection, analysis, metrics, checkpoints and datasets. "
        "`stylegan2 COMMAND --help` describes each command.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    generate.add_parsers(sub)
    convert_info.add_parsers(sub)
    bench.add_parser(sub)
    ppl.add_parser(sub)
    analysis.add_parsers(sub)
    project.add_parser(sub)
    video.add_parser(sub)
    directions.add_parsers(sub)
    detect.add_parser(sub)
    for hook in extra:
        hook(sub)
    models.add_parser(sub)
    for command in sub.choices.values():
        dests = {a.dest for a in command._actions}
        if command.get_default("network_positional"):
            dests.add("network")  # gets --offline and --cache-dir below
        for action in command._actions:
            if action.dest == "network" and action.required:
                # Like the explorer, every command opens the bundled model by default.
                action.required = False
                action.help = (
                    f"{action.help or 'the network'}: a file, an http(s) URL or a published "
                    "name (see `stylegan2 models`); default: the bundled model"
                )
                command.set_defaults(default_network=True)
        if dests & {*NETWORK_DESTS, *WEIGHT_DESTS} and "offline" not in dests:
            models.add_download_args(command)
        if not any("--threads" in a.option_strings for a in command._actions):
            command.add_argument(
                "--threads",
                type=int_in(1, MAX_THREADS),
                default=None,
                help=f"torch CPU threads (default: ${ENV_VAR}, else the cores other work leaves "
                "free, from the load average)",
            )
    return parser


def main(argv: list[str] | None = None, extra: Sequence[ParserHook] = ()) -> int:
    from stylegan2.checkpoints import CheckpointError
    from stylegan2.device import DeviceError
    from stylegan2.io import ImageIOError

    args = build_parser(extra).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    try:
        try:
            apply_threads(choose_threads(args.threads))
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        _resolve_downloads(args)
        return int(args.func(args) or 0)
    except (CLIError, CheckpointError, DeviceError, ImageIOError) as exc:
        print(f"stylegan2 {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stylegan2 {args.command}: interrupted", file=sys.stderr)
        return 130


def _resolve_downloads(args: argparse.Namespace) -> None:
    """Networks and weights named by URL or short name become cached local files. LPIPS weights
    that were not given come from the cache or NVIDIA's published file (unless --offline), since
    every command that takes them measures LPIPS with them and falls back to pixels without;
    Inception and VGG16 for `metrics` are fetched there, only for the metrics that need them."""
    offline = getattr(args, "offline", False)
    cache = getattr(args, "cache_dir", None)
    if getattr(args, "default_network", False) and args.network is None:
        args.network = default_network()
        if args.network is None:
            raise CLIError("--network is required: no bundled model is installed")
    positional = getattr(args, "network_positional", None)
    named = [positional] if positional is not None else []
    for dest in [*named, *NETWORK_DESTS, *WEIGHT_DESTS]:
        if getattr(args, dest, None) == "":  # Path("") is "." and would read as a folder
            flag = "the network argument" if dest == positional else "--" + dest.replace("_", "-")
            what = "a file or a URL" if dest in WEIGHT_DESTS else "a file, URL or published network"
            raise CLIError(f"{flag} is empty: name {what}")
    if positional is not None:
        value = getattr(args, positional)
        if isinstance(value, str) and not os.path.exists(value):  # a local file or run folder wins
            setattr(args, positional, models.cli_network(value, offline=offline, cache_dir=cache))
    for dest in NETWORK_DESTS:
        value = getattr(args, dest, None)
        if isinstance(value, str):
            setattr(args, dest, models.cli_network(value, offline=offline, cache_dir=cache))
    for dest, kind in WEIGHT_DESTS.items():
        if not hasattr(args, dest):
            continue
        value = getattr(args, dest)
        if value is not None or (dest == "lpips_weights" and getattr(args, "fetch_lpips", False)):
            setattr(args, dest, models.cli_weights(kind, value, offline=offline, cache_dir=cache))


if __name__ == "__main__":
    sys.exit(main())
