"""Argument helpers shared by the CLI commands."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
from PIL import Image


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


def add_device_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")


def ensure_dir(path: str | Path) -> Path:
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path


def save_png(image: np.ndarray, path: str | Path) -> None:
    """Save uint8 HWC (C = 1 or 3) as PNG, atomically, with a clear error."""
    path = Path(path)
    arr = image[:, :, 0] if image.shape[2] == 1 else image
    tmp = path.with_name(path.name + ".part")
    try:
        Image.fromarray(arr).save(tmp, format="PNG")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}") from None
