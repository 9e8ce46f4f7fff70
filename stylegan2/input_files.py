"""What is wrong with a path given to be read, before anything opens it: missing, a folder, or
a pipe or device (a FIFO blocks a reader forever; /dev/zero streams without end)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def file_problem(path: str | os.PathLike[str]) -> str | None:
    """'no such file', 'a folder, not a file', 'not a regular file (a pipe or a device)', or
    None for a regular file (links followed)."""
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe or a device)"
    return None
