"""Argument helpers shared by the CLI commands."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from stylegan2.safe_writes import folder_problem


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def parse_range(text: str) -> list[int]:
    """'0-3,7,10-11' -> [0, 1, 2, 3, 7, 10, 11]."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(-?\d+)(?:-(\d+))?", part)
        if not m:
            raise argparse.ArgumentTypeError(f"not a number or range: {part!r}")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise argparse.ArgumentTypeError(f"empty range: {part!r}")
        out.extend(range(lo, hi + 1))
    if not out:
        raise argparse.ArgumentTypeError("empty list")
    return out


def _checked(cast: type, ok, need: str):
    """An argparse type: `cast` the text, then refuse values that fail `ok`."""
    noun = "an integer" if cast is int else "a number"

    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {noun}: {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {need}, got {text}")
        return value

    return parse


#: fps, durations: a finite number above zero
positive_float = _checked(float, lambda v: 0 < v < float("inf"), "above 0")
#: frame counts: an integer of at least 1
positive_int = _checked(int, lambda v: v >= 1, "at least 1")


def add_device_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")


def check_output(path: str | Path) -> None:
    """Refuse an output file whose folder is missing or unwritable before any work is done."""
    problem = folder_problem(path)
    if problem:
        raise CLIError(problem)


def ensure_dir(path: str | Path) -> Path:
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path
