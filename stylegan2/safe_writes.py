"""Writing files without destroying anything: whether an output is the command's own input (a
snapshot, a photo folder's zip, a projection target), temporary names of our own beside an
output, and text written whole or not at all."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def file_id(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(device, inode) of an existing file, else None. The lexically normalised path is tried
    too: 'new/../net.pt' names net.pt once a command has created 'new'."""
    path = os.path.expanduser(path)
    for p in (path, os.path.abspath(path)):
        try:
            st = os.stat(p)
        except (OSError, ValueError):
            continue
        return st.st_dev, st.st_ino
    return None


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when `a` and `b` name one file (links and relative paths resolved), or, where
    either does not exist yet, one path."""
    ia, ib = file_id(a), file_id(b)
    if ia is not None and ib is not None:
        return ia == ib
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    return pa.absolute().resolve() == pb.absolute().resolve()


def folder_problem(path: str | os.PathLike[str]) -> str | None:
    """Why `path` cannot be written (its folder is missing or unwritable), or None: for
    commands to refuse an output before any work is done. A file is created there and removed,
    since permission bits do not tell everything (root in /proc, a read-only mount)."""
    folder = Path(path).expanduser().absolute().parent
    if not folder.is_dir():
        return f"cannot write {path}: no folder {folder}"
    if not os.access(folder, os.W_OK):
        return f"cannot write {path}: the folder {folder} is not writable"
    try:
        new_temp(path).unlink()
    except OSError as exc:
        return f"cannot write {path}: no file can be created in {folder} ({exc.strerror or exc})"
    return None


def new_temp(beside: str | os.PathLike[str], suffix: str = "", folder: bool = False) -> Path:
    """A new, empty temporary file (or folder) next to `beside`, under a name nobody else uses
    (so deleting it on failure can only delete our own work). It gets the permissions any new
    file gets (the umask applies), unlike tempfile's private 0600 / 0700."""
    beside = Path(beside).expanduser().absolute()
    for _ in range(100):
        tmp = beside.with_name(f".{beside.name}.{secrets.token_hex(4)}.part{suffix}")
        try:
            if folder:
                os.mkdir(tmp, 0o777)
            else:
                os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temporary name beside {beside}")


#: a temporary left by an interrupted write is this old before the next write removes it (a
#: live writer touches its file far more often)
STALE_TEMP_SECONDS = 600


def remove_stale_temps(beside: str | os.PathLike[str], min_age: float = STALE_TEMP_SECONDS) -> int:
    """Remove temporaries of `new_temp` beside `beside` that a killed writer left behind
    (`.NAME.XXXXXXXX.part*`, untouched for `min_age` seconds); returns how many."""
    beside = Path(beside).expanduser().absolute()
    pattern = re.compile(re.escape(f".{beside.name}.") + r"[0-9a-f]{8}\.part.*")
    removed = 0
    try:
        entries = list(beside.parent.iterdir())
    except OSError:
        return 0
    now = time.time()
    for p in entries:
        if not pattern.fullmatch(p.name):
            continue
        try:
            if now - p.lstat().st_mtime < min_age:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed += 1
        except OSError:
            continue
    return removed


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (os.umask can only
    read it by setting it, which other threads creating files at that moment would see)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(
    path: str | os.PathLike[str], suffix: str = "", in_place: bool = True
) -> Iterator[Path]:
    """Write to the yielded temporary path: on success it replaces `path`; on any failure
    (a full disk, Ctrl-C) it is removed and `path` is as it was. OSError for a missing or
    unwritable folder comes from here, for the caller to word.

    A link is followed (its target is replaced, the link stays); an existing path that is not a
    regular file (/dev/null, /dev/stdout, a pipe) is yielded itself, to be written in place:
    renaming over it would replace the device with a file. Writers that cannot write in place
    (safetensors renames a file of its own over its target) pass in_place=False: then such a
    path is an OSError."""
    path = Path(os.path.realpath(Path(path).expanduser()))
    if path.exists() and not path.is_file() and not path.is_dir():
        if not in_place:
            raise OSError(f"{path} is not a regular file (a device or a pipe)")
        yield path
        return
    tmp = new_temp(path, suffix)
    try:
        yield tmp
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """The new text, or (after a crash or a full disk) the old file untouched."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
