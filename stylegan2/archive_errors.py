"""What reading a damaged zip can raise, in one place for every reader of zips (checkpoints,
datasets): besides BadZipFile and OSError, an entry marked encrypted (RuntimeError), an unknown
compression method or an unsupported version (NotImplementedError), a corrupt deflate stream
(zlib.error) and a member cut short (EOFError)."""

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
)


def error_name(exc: BaseException) -> str:
    """A short name for a message: zlib's bare `error` says nothing on its own."""
    name = type(exc).__name__
    return f"{type(exc).__module__}.{name}" if name == "error" else name
