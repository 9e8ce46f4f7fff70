"""Writing files without destroying anything: whether an output is the command's own input (a
snapshot, a photo folder's zip, a projection target), and text written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when `a` and `b` name one file (links and relative paths resolved)."""
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.absolute().resolve() == pb.absolute().resolve()


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """The new text, or (after a crash or a full disk) the old file untouched."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
