"""Read the tensors of a TorchScript archive (e.g. NVIDIA's metric networks `vgg16.pt`,
`inception-2015-12-05.pt`) as data, without running TorchScript.

`data.pkl` is unpickled with an allow-list: every `__torch__.*` class becomes an inert record of
its attributes, storages are read from `<archive>/data/<key>`, tensors are rebuilt as views with
bounds checks. The result is a flat dict of dotted attribute paths to tensors.
"""

from __future__ import annotations

import collections
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any

import torch

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class ScriptObject:
    """An inert stand-in for a `__torch__` class: it only keeps the attribute dict."""

    def __init__(self, *args: Any) -> None:
        self.class_name = ""
        self.attrs: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, dict):
            self.attrs = dict(state)
        elif isinstance(state, tuple) and state and isinstance(state[0], dict):
            self.attrs = dict(state[0])


class _StorageType:
    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


def _rebuild_tensor(storage: Any, offset: int, size: Any, stride: Any, *rest: Any) -> torch.Tensor:
    if not isinstance(storage, torch.Tensor):
        raise ValueError("corrupt TorchScript archive: a tensor without storage")
    return storage.as_strided(tuple(size), tuple(stride), int(offset)).clone()


def _build_intlist(values: Any) -> list:
    return list(values)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(file)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            cls = type(name, (ScriptObject,), {})
            return cls
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch.jit._pickle" and name.startswith("build_"):
            return _build_intlist
        raise ValueError(f"refusing to load: the archive references {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise ValueError("corrupt TorchScript archive: unknown persistent id")
        stype, key = pid[1], str(pid[2])
        if not isinstance(stype, _StorageType):
            raise ValueError("corrupt TorchScript archive: bad storage type")
        try:
            raw = self.archive.read(f"{self.prefix}/data/{key}")
        except KeyError:
            raise ValueError(f"corrupt TorchScript archive: storage {key} is missing") from None
        return torch.frombuffer(bytearray(raw), dtype=stype.dtype) if raw else torch.empty(0)


def read_torchscript_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Dotted attribute path -> tensor, for every tensor attribute in the archive's module tree."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"not a TorchScript archive ({exc})") from None
    try:
        root = _read_root(archive)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, zlib.error) as exc:
        # an entry marked encrypted, an unknown compression method, a corrupt deflate stream
        raise ValueError(f"damaged TorchScript archive ({type(exc).__name__})") from None
    out: dict[str, torch.Tensor] = {}

    def walk(obj: Any, name: str) -> None:
        if isinstance(obj, torch.Tensor):
            out[name] = obj
        elif isinstance(obj, ScriptObject):
            for key, value in obj.attrs.items():
                walk(value, f"{name}.{key}" if name else key)

    walk(root, "")
    return out


def _read_root(archive: zipfile.ZipFile) -> Any:
    with archive:
        pkls = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        has_code = any("/code/" in n for n in archive.namelist())
        if len(pkls) != 1 or not has_code:
            raise ValueError("not a TorchScript archive")
        prefix = pkls[0][: -len("/data.pkl")]
        with archive.open(pkls[0]) as f:
            try:
                root = _Unpickler(f, archive, prefix).load()
            except (pickle.UnpicklingError, EOFError, RuntimeError, TypeError) as exc:
                raise ValueError(f"corrupt TorchScript archive ({exc})") from None
    return root
