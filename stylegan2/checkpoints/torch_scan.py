"""Size check of a `torch.save` file before `torch.load` allocates anything.

`torch.load(weights_only=True)` runs no code, but it trusts the sizes a file states: a legacy
(pre-zip) file makes it allocate every storage's stated size before any data is read, and a tensor
view may have zero strides (an expanded tensor of terabytes over one element) or reach past its
storage (uninitialised memory read as weights). This module reads the file's pickle once with
inert stand-ins, checks every storage against the bytes that hold it and every tensor view against
its storage (`budget.check_view`), and counts elements against the file's size. Globals are not
judged here: `torch.load`'s own allow-list does that afterwards.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from stylegan2.archive_errors import ARCHIVE_ERRORS, error_name
from stylegan2.checkpoints.budget import LoadBudget, check_view
from stylegan2.checkpoints.common import CheckpointError
from stylegan2.checkpoints.restricted import CORRUPT_DATA_ERRORS, RestrictedUnpickler

#: element sizes of the storage classes torch.save names (torch.FloatStorage, ...)
_STORAGE_SIZES = {
    "FloatStorage": 4,
    "DoubleStorage": 8,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
    "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
    "UntypedStorage": 1,
}
_TENSOR_REBUILDS = {"_rebuild_tensor", "_rebuild_tensor_v2"}
_PASS_THROUGH = {"_rebuild_parameter", "_rebuild_parameter_with_state"}


class _Inert:
    """Whatever else the pickle names: accepts construction, state and items, does nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __new__(cls, *args: Any, **kwargs: Any) -> _Inert:
        return object.__new__(_Inert)

    def __call__(self, *args: Any) -> _Inert:
        return _Inert()

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, value: Any) -> None:
        pass

    def extend(self, values: Any) -> None:
        pass


class _StorageType:
    __slots__ = ("element_size",)

    def __init__(self, element_size: int) -> None:
        self.element_size = element_size


class _Storage:
    __slots__ = ("elements",)

    def __init__(self, elements: int) -> None:
        self.elements = elements


class _ScanUnpickler(RestrictedUnpickler):
    def __init__(self, file: BinaryIO, scan: _Scan) -> None:
        super().__init__(file, {})
        self._scan = scan

    def find_class(self, module: str, name: str) -> Any:
        if module in ("torch", "torch.storage") and name in _STORAGE_SIZES:
            return _StorageType(_STORAGE_SIZES[name])
        if module == "torch._utils" and name in _TENSOR_REBUILDS:
            return self._scan.rebuild
        if module == "torch._utils" and name in _PASS_THROUGH:
            return lambda data, *rest: data
        if module.startswith("torch") and name.startswith("_rebuild"):
            raise CheckpointError(f"refusing to load: a tensor of an unsupported kind ({name})")
        return _Inert

    def persistent_load(self, pid: Any) -> Any:
        return self._scan.storage(pid)


class _Scan:
    """State of one scan: storages by key, and the element budget."""

    def __init__(self, label: str, size: int, record_bytes: Any) -> None:
        self.label = label
        self.storages: dict[str, _Storage] = {}
        self.storage_bytes = 0
        self.record_bytes = record_bytes  # key -> bytes in the file, or None (legacy format)
        self.budget = LoadBudget(size, label)

    def storage(self, pid: Any) -> _Storage:
        if not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] != "storage":
            raise CheckpointError(f"{self.label}: corrupt storage record")
        stype, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(stype, _StorageType):
            raise CheckpointError(f"{self.label}: corrupt storage record (unknown storage type)")
        if isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
            raise CheckpointError(f"{self.label}: corrupt storage record (bad size)")
        if len(pid) == 6 and pid[5] is not None:
            raise CheckpointError(f"{self.label}: storage views are not supported")
        if key in self.storages:
            return self.storages[key]
        nbytes = numel * stype.element_size
        if self.record_bytes is not None:
            have = self.record_bytes(key)
            if have != nbytes:
                raise CheckpointError(
                    f"refusing to load: {self.label} states a storage of {nbytes:,} bytes "
                    f"where the file holds {have if have is not None else 'none'}"
                )
        self.storage_bytes += nbytes + 8  # the legacy format writes a size before each
        if self.storage_bytes > self.budget.limit:
            raise CheckpointError(
                f"refusing to load: {self.label} states storages of more bytes than it holds"
            )
        self.storages[key] = _Storage(numel)
        return self.storages[key]

    def rebuild(self, storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> _Inert:
        if not isinstance(storage, _Storage):
            raise CheckpointError(f"{self.label}: corrupt tensor record (no storage)")
        out = _Inert()
        self.budget.add(out, check_view(storage.elements, offset, size, stride))
        return out


def _unpickle(f: BinaryIO, scan: _Scan) -> None:
    try:
        _ScanUnpickler(f, scan).load()
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError(f"{scan.label}: nested too deeply to be a checkpoint") from None
    except CORRUPT_DATA_ERRORS as exc:
        raise CheckpointError(
            f"{scan.label}: not a readable torch file (truncated or corrupt: {type(exc).__name__})"
        ) from None


def scan_torch_bytes(data: bytes, label: str) -> None:
    """`scan_torch_file` for a torch.save held in memory (a pickled storage's bytes)."""
    if data.startswith(b"PK\x03\x04"):
        _scan_zip(io.BytesIO(data), len(data), label)
    else:
        _scan_stream(io.BytesIO(data), len(data), label)


def scan_torch_file(path: str | os.PathLike[str]) -> None:
    """Refuse, before `torch.load`, a torch.save file whose sizes do not fit its bytes."""
    p = Path(path)
    size = p.stat().st_size
    if zipfile.is_zipfile(p):
        _scan_zip(p, size, p.name)
    else:
        with p.open("rb") as f:
            _scan_stream(f, size, p.name)


def _scan_zip(p: Path | BinaryIO, size: int, label: str) -> None:
    try:
        with zipfile.ZipFile(p) as z:
            infos = {i.filename: i for i in z.infolist()}
            pkl = [n for n in infos if n == "data.pkl" or n.endswith("/data.pkl")]
            if not pkl:
                return  # not a torch archive: torch.load says so in its own words
            name = min(pkl, key=len)
            prefix = name[: -len("data.pkl")]
            info = infos[name]
            if info.file_size > size:
                raise CheckpointError(f"refusing to load: {label} unpacks to more than its size")

            def record_bytes(key: str) -> int | None:
                rec = infos.get(f"{prefix}data/{key}")
                return None if rec is None else rec.file_size

            scan = _Scan(label, size, record_bytes)
            with z.open(info) as f:
                _unpickle(io.BytesIO(f.read()), scan)
    except (*ARCHIVE_ERRORS, ValueError) as exc:
        raise CheckpointError(f"{label}: damaged torch archive ({error_name(exc)})") from None


def _scan_stream(f: BinaryIO, size: int, label: str) -> None:
    """The legacy format: three small pickles (magic, protocol, system info), then the one
    that names the storages, then each storage's data."""
    head = f.read(1)
    if head != b"\x80":
        return  # not a pickle: torch.load reports it
    f.seek(0)
    try:
        for _ in range(3):
            RestrictedUnpickler(f, {}).load()
    except (CheckpointError, RecursionError, *CORRUPT_DATA_ERRORS):
        return  # not a legacy torch file: torch.load reports it
    scan = _Scan(label, max(size - f.tell(), 0), None)
    _unpickle(f, scan)
    if scan.storage_bytes > size - f.tell():
        raise CheckpointError(
            f"refusing to load: {label} states {scan.storage_bytes:,} bytes of storages "
            f"but has {size - f.tell():,} left"
        )
