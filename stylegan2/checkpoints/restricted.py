"""The generic restricted unpickler: globals resolve only through an allow-list the caller passes
in, persistent ids only through a handler it passes in; anything else is a one-line
`CheckpointError`. The allow-lists themselves, and the inert replacements they map to, live in
safe_unpickle.py; torch_scan.py subclasses this to measure a torch file before it is loaded."""

from __future__ import annotations

import collections
import pickle
import pickletools
import struct
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

from stylegan2.checkpoints.common import CheckpointError

# Errors a corrupt or truncated pickle can raise from inside the unpickler or the few functions
# it may call. Kept explicit so that programming errors elsewhere still surface as tracebacks.
CORRUPT_DATA_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    pickle.UnpicklingError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    MemoryError,
    UnicodeDecodeError,
    struct.error,
    RuntimeError,
)


AllowList = Mapping[tuple[str, str], Any]
# Opcodes that store into the unpickler's memo at an index the file chooses. CPython's unpickler
# grows its memo array to twice that index, so one 5-byte LONG_BINPUT can ask for gigabytes.
_MEMO_STORES = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})


def refusal(global_name: str) -> CheckpointError:
    return CheckpointError(
        f"refusing to load: the file references {global_name}, "
        "which is not on the allow-list of safe names"
    )


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves globals only through `allowed`; refuses persistent ids unless given a handler."""

    def __init__(
        self,
        file: BinaryIO,
        allowed: AllowList,
        persistent_load: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__(file)
        self._file = file
        self._allowed = allowed
        self._persistent_handler = persistent_load
        self.globals_seen: collections.Counter[str] = collections.Counter()

    def load(self) -> Any:
        check_memo_indices(self._file)
        return super().load()

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        self.globals_seen[full] += 1
        try:
            return self._allowed[(module, name)]
        except (KeyError, TypeError):
            raise refusal(full) from None

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent_handler is None:
            raise CheckpointError(
                "refusing to load: the file uses a pickle persistent id, which this reader "
                "does not accept"
            )
        return self._persistent_handler(pid)


def check_memo_indices(file: BinaryIO) -> None:
    """Refuse a pickle whose memo indices run ahead of its opcodes, before it is unpickled.

    Picklers number memo entries 0, 1, 2, ... as they write them, so an index is never larger
    than the count of opcodes before it; a larger one can only be a crafted or corrupt file, and
    would make the unpickler allocate memory in proportion to the index. Reads one pickle from
    the file's position (through its STOP) and seeks back; a stream that cannot seek is left to
    the unpickler. Other damage is left to the unpickler too, which reports it in its own words.
    """
    if not file.seekable():
        return
    start = file.tell()
    try:
        for count, (op, arg, _) in enumerate(pickletools.genops(file)):
            if op.name in _MEMO_STORES and isinstance(arg, int) and arg > count:
                raise CheckpointError(
                    f"refusing to load: the pickle stores memo entry {arg:,} after only "
                    f"{count:,} opcodes (a crafted or corrupt file)"
                )
    except CORRUPT_DATA_ERRORS:
        pass
    finally:
        file.seek(start)
