"""Argument helpers shared by the CLI commands."""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from stylegan2.config import MAX_PSI, MAX_SEED
from stylegan2.device import memory_limit
from stylegan2.input_files import file_problem
from stylegan2.safe_writes import file_id, folder_problem


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


#: entries in one list of seeds or indices
MAX_LIST = 100_000
#: what --help says about every list of seeds
SEEDS_HELP = "numbers 0 to 2^32-1, at most 100,000 in all"
#: frames in one video (a list of frame times is made up front)
MAX_FRAMES = 1_000_000
#: a side of an output image or frame
MAX_SIDE = 16_384
#: the largest image (grid, frame) a command holds in memory at once
MAX_IMAGE_BYTES = 2 * 1024**3


def parse_range(text: str) -> list[int]:
    """'0-3,7,10-11' -> [0, 1, 2, 3, 7, 10, 11]: numbers from 0 to MAX_SEED, each range in
    order, at most MAX_LIST in all (counted before the list is made)."""
    spans: list[tuple[int, int]] = []
    total = 0
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise argparse.ArgumentTypeError(f"not a number or range of numbers from 0: {part!r}")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise argparse.ArgumentTypeError(f"empty range: {part!r} (write the lower end first)")
        if hi > MAX_SEED:
            raise argparse.ArgumentTypeError(f"{part!r}: numbers go up to {MAX_SEED}")
        total += hi - lo + 1
        if total > MAX_LIST:
            raise argparse.ArgumentTypeError(
                f"{text[:40]!r} names {total:,}+ numbers; at most {MAX_LIST:,}"
            )
        spans.append((lo, hi))
    if not spans:
        raise argparse.ArgumentTypeError("empty list")
    return [v for lo, hi in spans for v in range(lo, hi + 1)]


def _checked(cast: type, ok: Callable[[Any], bool], need: str) -> Callable[[str], Any]:
    """An argparse type: `cast` the text, then refuse values that fail `ok`."""
    noun = "an integer" if cast is int else "a number"

    def parse(text: str):
        try:
            value = cast(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"not {noun}: {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {need}, got {text}")
        return value

    return parse


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type for an integer from `lo` to `hi`."""
    return _checked(int, lambda v: lo <= v <= hi, f"{lo}-{hi}")


def float_in(lo: float, hi: float) -> Callable[[str], float]:
    """An argparse type for a finite number from `lo` to `hi`."""
    return _checked(float, lambda v: lo <= v <= hi, f"a number from {lo:g} to {hi:g}")


#: frame counts: an integer of at least 1
positive_int = _checked(int, lambda v: v >= 1, "at least 1")
#: counts bounded by memory or time (samples, steps): 1 to 10^7
count_int = int_in(1, 10_000_000)
#: indices (class, ws, direction): 0 or more
index_int = int_in(0, MAX_LIST)
#: a single seed
seed_int = int_in(0, MAX_SEED)
#: a number that must be finite (NaN or inf would render black)
finite_float = _checked(float, math.isfinite, "a finite number")
#: truncation psi: within +-render.MAX_PSI (beyond, float32 overflows and images turn black)
psi_float = float_in(-MAX_PSI, MAX_PSI)
#: a strength along a unit direction in W, where ws lie some tens from w_avg
MAX_STRENGTH = 10_000.0
strength_float = float_in(-MAX_STRENGTH, MAX_STRENGTH)


def resolution_int(text: str) -> int:
    """An image resolution: a power of two from 4 to 2048."""
    value = int_in(4, 2048)(text)
    if value & (value - 1):
        raise argparse.ArgumentTypeError(f"must be a power of two, got {text}")
    return value


def parse_size(text: str) -> tuple[int, int]:
    """'512x384' -> (512, 384): each side 1 to MAX_SIDE."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"must look like 512x512, got {text!r}")
    w, h = int(m[1]), int(m[2])
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise argparse.ArgumentTypeError(f"each side must be 1-{MAX_SIDE}, got {text}")
    return w, h


def check_memory(what: str, nbytes: int) -> None:
    """Refuse, with the number, work whose estimated memory exceeds `memory_limit()`."""
    limit = memory_limit()
    if nbytes > limit:
        raise CLIError(
            f"{what} would need about {nbytes / 1024**3:.1f} GiB of memory; "
            f"the limit is {limit / 1024**3:.1f} GiB (half of this machine's)"
        )


def check_image_bytes(what: str, height: int, width: int, channels: int = 3) -> None:
    """Refuse, with the number, an image too large to hold in memory."""
    need = height * width * channels
    if need > MAX_IMAGE_BYTES:
        raise CLIError(
            f"{what} would be {width:,}x{height:,} pixels ({need / 1024**3:.1f} GiB); "
            f"the limit is {MAX_IMAGE_BYTES / 1024**3:.0f} GiB"
        )
    check_memory(what, need)


#: the largest JSON file (explorer state, calibration) a command reads
MAX_JSON_BYTES = 64 * 1024**2


def read_json(path: str | Path, what: str) -> Any:
    """A JSON file a command was given, or a one-line CLIError: only a regular file (a FIFO
    would block), at most MAX_JSON_BYTES, nesting bounded (no RecursionError)."""
    p = Path(path)
    problem = file_problem(p)
    if problem:
        raise CLIError(f"{p}: {problem}")
    if p.stat().st_size > MAX_JSON_BYTES:
        raise CLIError(f"{p}: larger than any {what} ({MAX_JSON_BYTES // 1024**2} MiB at most)")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise CLIError(f"{p}: not a readable {what} ({exc})") from None
    return _parse_json(text, p, what)


def _parse_json(text: str, p: Path, what: str) -> Any:
    from stylegan2.checkpoints.budget import MAX_NESTING
    from stylegan2.user_json import json_depth, loads_user_json

    if json_depth(text) > MAX_NESTING:
        raise CLIError(f"{p}: nested deeper than any {what}")
    try:
        return loads_user_json(text)
    except ValueError as exc:
        raise CLIError(f"{p}: not a readable {what} ({exc})") from None


def read_state(path: str | Path) -> dict[str, Any]:
    """An explorer state, from its JSON file or from a PNG the explorer saved (the state rides
    in a text chunk), as a JSON object; anything else is a one-line CLIError."""
    from stylegan2.io import png_state

    p = Path(path)
    if p.suffix.lower() == ".png":
        problem = file_problem(p)
        if problem:
            raise CLIError(f"{p}: {problem}")
        try:
            data = _parse_json(png_state(p), p, "explorer state")
        except ValueError as exc:
            raise CLIError(f"{p}: {exc}") from None
    else:
        data = read_json(p, "explorer state file")
    if not isinstance(data, dict):
        raise CLIError(f"{p}: not an explorer state (it holds a JSON {type(data).__name__})")
    return data


def add_lpips_arg(
    p: argparse.ArgumentParser, without: str = "the result is labelled as such"
) -> None:
    """--lpips-weights for a command that measures LPIPS (with `fetch_lpips=True` in its
    defaults it fetches NVIDIA's file unasked: see stylegan2.cli.main.ParserHook); `without`
    says what happens with a pixel distance."""
    p.add_argument(
        "--lpips-weights",
        default=None,
        help="VGG16 trunk for LPIPS: a file or URL (torchvision vgg16-397923af.pth or NVIDIA "
        "vgg16.pt); default: the cached copy of NVIDIA's vgg16.pt, downloaded once unless "
        f"--offline; with none a pixel distance is used and {without}",
    )


def add_device_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")


def check_output(path: str | Path, suffix: str | None = None) -> None:
    """Refuse an output file whose folder is missing or unwritable, or that is a folder, or
    (with `suffix`) whose name ends otherwise, before any work is done."""
    if not str(path):
        raise CLIError("an output needs a file name")
    if suffix is not None and Path(path).suffix.lower() != suffix:
        raise CLIError(f"{path}: the file is written as {suffix[1:].upper()}; name it {suffix}")
    problem = folder_problem(path)
    if problem:
        raise CLIError(problem)
    if Path(path).expanduser().is_dir():
        raise CLIError(f"{path} is a folder: choose a file name")


#: (flag, path) pairs: what a command reads or writes; None for a flag not given
Named = Iterable[tuple[str, "str | os.PathLike[str] | None"]]


def refuse_overwrite(outputs: Named, inputs: Named) -> None:
    """Refuse, before any work, an output that names one of the command's own inputs (the
    network, a state or directions file, an image), through links and relative paths alike:
    writing it would destroy what was read. One stat per output, so long lists stay cheap."""
    known = {}
    for flag, p in inputs:
        ident = file_id(p) if p else None
        if ident is not None:
            known.setdefault(ident, flag)
    if not known:
        return
    for out_flag, out in outputs:
        flag = known.get(file_id(out)) if out else None
        if flag is not None:
            raise CLIError(
                f"{out_flag} {out} is the {flag} being read: it would be written over; "
                "choose another name"
            )


def ensure_dir(path: str | Path) -> Path:
    if not str(path).strip():  # (Path("") would be the current folder)
        raise CLIError("an output folder needs a name")
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CLIError(f"{path} is a file, not a folder: choose a folder name") from None
    except OSError as exc:
        raise CLIError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path
