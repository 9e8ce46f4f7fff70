"""What is wrong with a path given to be read, before anything opens it: missing, a folder, or
a pipe or device (a FIFO blocks a reader forever; /dev/zero streams without end); and a name
that libraries taking only UTF-8 paths can open."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def utf8_name(path: str | os.PathLike[str]) -> Iterator[str]:
    """A name for `path` that libraries taking only UTF-8 paths (safetensors) can open: the
    path itself, or for a name that is not UTF-8 (bytes from another system's encoding) its
    open descriptor's /proc path, valid inside the `with`; ValueError where there is none."""
    name = str(path)
    try:
        name.encode("utf-8")  # (undecodable bytes are surrogates here, which UTF-8 refuses)
    except UnicodeEncodeError:
        pass
    else:
        yield name
        return
    if not Path("/proc/self/fd").is_dir():
        raise ValueError("its name is not valid UTF-8, which safetensors cannot open: rename it")
    fd = os.open(path, os.O_RDONLY)
    try:
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)
