"""What reading a damaged zip can raise, in one place for every reader of zips (checkpoints,
datasets): besides BadZipFile and OSError, an entry marked encrypted (RuntimeError), an unknown
compression method or an unsupported version (NotImplementedError), a corrupt deflate stream
(zlib.error), a member cut short (EOFError) and names flagged UTF-8 that are not
(UnicodeDecodeError). Also numpy's words for a refused pickle, which this program replaces."""

from __future__ import annotations

import zipfile
import zlib

ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    OSError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    EOFError,
    UnicodeDecodeError,
)


def error_name(exc: BaseException) -> str:
    """A short name for a message: zlib's bare `error` says nothing on its own."""
    name = type(exc).__name__
    return f"{type(exc).__module__}.{name}" if name == "error" else name


def numpy_load_message(exc: BaseException) -> str:
    """What np.load(allow_pickle=False) raised, for a message: its refusal of pickled data
    suggests loading the file unsafely, which this program never does; it says so instead."""
    text = str(exc)
    if "allow_pickle" in text or "pickled" in text:
        return "it holds pickled Python objects, which this program never loads"
    return text
