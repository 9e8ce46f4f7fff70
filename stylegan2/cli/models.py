"""`stylegan2 models`: the published networks a short name opens (and which are downloaded
already), and with `--weights` the detector weights with the SHA-256 recorded at download.

Also the commands' side of downloads: `add_download_args` gives a command `--offline` and
`--cache-dir`; `cli_network` and `cli_weights` resolve a network or weights argument with a tqdm
bar on stderr while a download runs, and turn a failed download into a one-line CLIError.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from stylegan2.cli.common import CLIError

CACHE_DIR_HELP = (
    "the download cache (default: $STYLEGAN2_CACHE, else $XDG_CACHE_HOME/stylegan2-explorer/"
    "downloads, else ~/.cache/stylegan2-explorer/downloads)"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list the published networks a short name opens, and the detector weights",
        description="Published StyleGAN2 networks: give a NAME wherever a network is expected "
        "(`stylegan2 generate --network ffhq ...`); it is downloaded once into the cache. "
        "NVIDIA's networks and weights are for non-commercial use only.",
    )
    p.add_argument(
        "--weights",
        action="store_true",
        help="list the detector weights (VGG16 for LPIPS, Inception for FID) with their SHA-256",
    )
    p.add_argument("--cache-dir", help=CACHE_DIR_HELP)
    p.set_defaults(func=run)


def add_download_args(p: argparse.ArgumentParser) -> None:
    """`--offline` and `--cache-dir` for a command that takes networks or weights by URL."""
    p.add_argument(
        "--offline",
        action="store_true",
        help="never download: URLs and published names must already be in the cache",
    )
    p.add_argument("--cache-dir", help=CACHE_DIR_HELP)


def run(args: argparse.Namespace) -> int:
    from stylegan2.downloads import resolve_cache_dir

    folder = resolve_cache_dir(args.cache_dir)
    lines = _weights_table(folder) if args.weights else _networks_table(folder)
    print("\n".join(lines))
    return 0


def _mb(size: int) -> str:
    return f"~{size} MB"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows
    ]


def _networks_table(folder: Path) -> list[str]:
    from stylegan2.catalogue import NETWORKS
    from stylegan2.downloads import cached

    out = [
        "Published StyleGAN2 networks: give a NAME wherever a network is expected; it is "
        "downloaded once. Sizes are approximate.",
        f"Cache: {folder}",
    ]
    for group in dict.fromkeys(n.group for n in NETWORKS):
        entries = [n for n in NETWORKS if n.group == group]
        out += ["", entries[0].source, f"Licence: {entries[0].licence}"]
        rows = [["NAME", "RES", "LABELS", "SIZE", "CACHED", "URL"]]
        for n in entries:
            have = "yes" if cached(n.url, folder) else "no"
            labels = "classes" if n.conditional else "-"
            rows.append([n.name, str(n.resolution), labels, _mb(n.size_mb), have, n.url])
        out += _table(rows)
    return out


def _weights_table(folder: Path) -> list[str]:
    from stylegan2.catalogue import DETECTORS
    from stylegan2.downloads import cached, recorded_sha256, sha256_of

    out = [
        "Detector weights, fetched on first use unless a command is given --offline or a file.",
        f"Cache: {folder}",
    ]
    for d in DETECTORS.values():
        path = cached(d.url, folder)
        out += ["", f"{d.kind}: {d.used_for}", f"  source:  {d.source}"]
        out += [f"  licence: {d.licence}", f"  url:     {d.url}", f"  size:    {_mb(d.size_mb)}"]
        if path is None:
            out.append("  cached:  no")
            continue
        out.append(f"  cached:  {path}")
        recorded = recorded_sha256(d.url, folder)
        if recorded:
            out.append(f"  sha256:  {recorded} (recorded at download)")
        else:
            out.append(f"  sha256:  {sha256_of(path)} (put there by hand: computed now)")
    return out


@contextmanager
def download_bar(label: str = "download") -> Iterator[Callable[[int, int | None], None]]:
    """A progress callback drawing a tqdm bar labelled `label` on stderr once a download starts
    (a cache hit draws nothing); the finished bar stays as a record of the download."""
    from tqdm import tqdm

    bars: list = []

    def update(done: int, total: int | None) -> None:
        if not bars:
            bars.append(
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=label,
                    file=sys.stderr,
                    leave=True,
                )
            )
        bars[0].update(done - bars[0].n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()


def cli_network(
    arg: str, *, offline: bool = False, cache_dir: str | os.PathLike[str] | None = None
) -> str:
    """`resolve_network` for a command: a tqdm bar while downloading, CLIError on failure."""
    from stylegan2.catalogue import resolve_network
    from stylegan2.downloads import DownloadError, is_url, url_label

    with download_bar(url_label(arg) if is_url(arg) else os.path.basename(arg)) as progress:
        try:
            return resolve_network(arg, offline=offline, progress=progress, cache_dir=cache_dir)
        except DownloadError as exc:
            raise CLIError(str(exc)) from None


def cli_weights(
    kind: str,
    given: str | None,
    *,
    offline: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
) -> str | None:
    """`resolve_weights` for a command: a tqdm bar while downloading, CLIError on failure;
    None when offline and not cached (the command keeps its labelled fallback)."""
    from stylegan2.catalogue import resolve_weights
    from stylegan2.downloads import DownloadError

    with download_bar(kind) as progress:
        try:
            return resolve_weights(
                kind, given, offline=offline, progress=progress, cache_dir=cache_dir
            )
        except DownloadError as exc:
            raise CLIError(str(exc)) from None
