"""A restricted unpickler for third-party checkpoints: data only, never code.

Official StyleGAN2 pickles embed Python source and import hooks; the official loaders `exec` them.
We never do. Every global a pickle names must be on an explicit allow-list (one table per reader),
and each allowed name resolves to a small, inert replacement or a vetted torch/numpy function
(stylegan2-ada-pytorch's torch_utils/persistence.py, the TF code's dnnlib/tflib/network.py).
Anything else, and any persistent id, is refused with a one-line `CheckpointError` that names
the offending global.
"""

from __future__ import annotations

import collections
import hashlib
import io
import logging
import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch._utils

from stylegan2.checkpoints.budget import budget_for, charge, check_view
from stylegan2.checkpoints.common import MAX_CHECKPOINT_BYTES, CheckpointError, named_path
from stylegan2.checkpoints.restricted import (
    CORRUPT_DATA_ERRORS,
    AllowList,
    RestrictedUnpickler,
    refusal,
)

log = logging.getLogger(__name__)


# Inert replacements ---------------------------------------------------------------------------
class _Frozen(type):
    """Metaclass for the classes a pickle can name: a BUILD opcode aimed at the class object
    itself must not be able to rewrite it for later loads."""

    def __setattr__(cls, name: str, value: Any) -> None:
        raise CheckpointError(
            f"refusing to load: the file tries to modify the class {cls.__name__}"
        )


class EasyDict(dict, metaclass=_Frozen):
    """Stands in for `dnnlib.util.EasyDict`: a plain dict; attribute access is not needed."""


class PersistentStub:
    """What `torch_utils.persistence` objects become: their recorded state, never their code."""

    __slots__ = ("class_name", "module_sha256", "state", "version")

    def __init__(self, class_name: str, version: Any, state: Any, module_sha256: str) -> None:
        self.class_name = class_name
        self.version = version
        self.state = state
        self.module_sha256 = module_sha256

    def __repr__(self) -> str:
        return f"PersistentStub({self.class_name!r}, version={self.version!r})"


class TFNetworkStub(metaclass=_Frozen):
    """Stands in for `dnnlib.tflib.network.Network`: keeps the state dict, builds no graph."""

    def __init__(self, *args: Any) -> None:  # NEWOBJ may pass arguments; there is nothing to do
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise CheckpointError(
                f"corrupt TF network: its state is a {type(state).__name__}, not a dict"
            )
        self.state = state

    def __repr__(self) -> str:
        return f"TFNetworkStub({self.state.get('name')!r})"


class _GuardedArray(np.ndarray):
    """Arrays rebuilt from a pickle; refuses object dtypes before any element is stored in one,
    and counts the elements against the load's budget."""

    def __setstate__(self, state: Any) -> None:
        # numpy also accepts a list here; only its own layout, a 4- or 5-tuple, is let through,
        # so that the dtype test below cannot be bypassed.
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise CheckpointError("corrupt numpy array record")
        shape, dtype = (state[1], state[2]) if len(state) == 5 else (state[0], state[1])
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            raise CheckpointError("refusing to load: the file contains a numpy object array")
        if not isinstance(shape, tuple) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise CheckpointError("corrupt numpy array record: bad shape")
        charge(self, int(np.prod(shape, dtype=object)))
        super().__setstate__(state)


class _Token:
    """A name the pickle may mention but never call (e.g. `numpy.ndarray` as an argument)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise CheckpointError("refusing to load: the file tries to modify a reader constant")

    def __repr__(self) -> str:
        return f"<{self.name}>"


class _SafeCall:
    """Wraps an allowed function so the pickle gets a callable it cannot modify (a BUILD opcode
    on a plain function could set its `__defaults__` for every later load)."""

    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        object.__setattr__(self, "_fn", fn)

    def __call__(self, *args: Any) -> Any:
        return self._fn(*args)

    def __setattr__(self, name: str, value: Any) -> None:
        raise CheckpointError("refusing to load: the file tries to modify a reader function")

    def __repr__(self) -> str:
        return f"<safe {self._fn.__name__}>"


NDARRAY_TOKEN = _Token("numpy.ndarray")


# Vetted callables ------------------------------------------------------------------------------
def reconstruct_persistent_obj(meta: Any) -> PersistentStub:
    """Replacement for `torch_utils.persistence._reconstruct_persistent_obj` (never execs)."""
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise CheckpointError("corrupt persistent object: its metadata is not a class record")
    src = meta.get("module_src", "")
    src_bytes = src.encode("utf-8", "replace") if isinstance(src, str) else b""
    return PersistentStub(
        class_name=str(meta.get("class_name")),
        version=meta.get("version"),
        state=meta.get("state"),
        module_sha256=hashlib.sha256(src_bytes).hexdigest(),
    )


def _rebuild_tensor_v2(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any,
    backward_hooks: Any,
    metadata: Any = None,
) -> torch.Tensor:
    if not isinstance(storage, (torch.storage.TypedStorage, torch.UntypedStorage)):
        raise CheckpointError("corrupt tensor record: its storage is not a torch storage")
    if backward_hooks:  # hooks are callables; a weights file has no business carrying them
        raise CheckpointError("refusing to load: a tensor carries backward hooks")
    if metadata is not None and not isinstance(metadata, dict):
        raise CheckpointError("corrupt tensor record: bad metadata")
    elements = (
        storage._untyped_storage.nbytes() // torch._utils._element_size(storage.dtype)
        if isinstance(storage, torch.storage.TypedStorage)
        else storage.nbytes()
    )
    numel = check_view(elements, storage_offset, size, stride)
    t = torch._utils._rebuild_tensor_v2(
        storage, storage_offset, size, stride, False, collections.OrderedDict(), metadata
    )
    charge(t, numel)
    return t


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any, *state: Any) -> Any:
    # Parameters become plain tensors; `state` (newer torch) only holds Python attributes.
    if not isinstance(data, torch.Tensor):
        raise CheckpointError("corrupt parameter record: it does not wrap a tensor")
    return data


def _load_from_bytes(data: Any) -> Any:
    """Replacement for `torch.storage._load_from_bytes`: a legacy torch.save of one storage."""
    if not isinstance(data, (bytes, bytearray)):
        raise CheckpointError("corrupt storage record: expected bytes")
    from stylegan2.checkpoints.torch_scan import scan_torch_bytes

    scan_torch_bytes(bytes(data), "a tensor storage")
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise torch_refusal(exc, "a tensor storage") from None
    except (*CORRUPT_DATA_ERRORS, AssertionError) as exc:  # torch asserts on bad storage keys
        raise CheckpointError(f"corrupt tensor storage ({first_line(exc)})") from None
    if not isinstance(obj, (torch.storage.TypedStorage, torch.UntypedStorage)):
        raise CheckpointError("corrupt storage record: it does not hold a storage")
    return obj


def _np_reconstruct(cls: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    if cls is not NDARRAY_TOKEN:
        raise CheckpointError(
            "refusing to load: numpy _reconstruct of something other than ndarray"
        )
    # numpy pickles an empty array here and sends shape and data with the state that follows;
    # any other shape would be allocated with no data behind it.
    if shape != (0,):
        raise CheckpointError("refusing to load: a numpy array record with no data")
    return np.ndarray.__new__(_GuardedArray, shape, dtype_code)


def _np_scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise CheckpointError("refusing to load: the file contains a numpy object scalar")
    if not isinstance(data, bytes):
        raise CheckpointError("corrupt numpy scalar record")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _np_dtype(*args: Any) -> np.dtype:
    # numpy pickles a dtype as dtype('f4', False, True) plus its state: a type code, never a
    # structured or sub-array description (those can state any size).
    if not args or not isinstance(args[0], str) or not re.fullmatch(r"[a-zA-Z]\d{0,2}", args[0]):
        raise CheckpointError("refusing to load: a numpy dtype other than a plain type code")
    # (older numpy wrote the two flags as the integers 0 and 1)
    if not all(isinstance(a, int) and a in (0, 1) for a in args[1:3]) or len(args) > 3:
        raise CheckpointError("corrupt numpy dtype record")
    return np.dtype(*args)


# Allow-lists -----------------------------------------------------------------------------------

_NUMPY: dict[tuple[str, str], Any] = {
    ("numpy", "dtype"): _SafeCall(_np_dtype),
    ("numpy", "ndarray"): NDARRAY_TOKEN,
}
for _mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _NUMPY[(_mod, "scalar")] = _SafeCall(_np_scalar)
    _NUMPY[(_mod, "_reconstruct")] = _SafeCall(_np_reconstruct)

#: stylegan2-ada-pytorch / stylegan3 snapshots (torch_utils/persistence.py).
ADA_ALLOWED: AllowList = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _SafeCall(
        reconstruct_persistent_obj
    ),
    ("torch._utils", "_rebuild_tensor_v2"): _SafeCall(_rebuild_tensor_v2),
    ("torch._utils", "_rebuild_parameter"): _SafeCall(_rebuild_parameter),
    ("torch._utils", "_rebuild_parameter_with_state"): _SafeCall(_rebuild_parameter),
    ("torch.storage", "_load_from_bytes"): _SafeCall(_load_from_bytes),
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("dnnlib.util", "EasyDict"): EasyDict,
    **_NUMPY,
}

#: TensorFlow StyleGAN / StyleGAN2 / StyleGAN2-ADA network pickles (dnnlib/tflib/network.py).
TF_ALLOWED: AllowList = {
    ("dnnlib.tflib.network", "Network"): TFNetworkStub,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("dnnlib.util", "EasyDict"): EasyDict,
    **_NUMPY,
}


def torch_refusal(exc: BaseException, what: str) -> CheckpointError:
    """One-line error for a `torch.load(weights_only=True)` refusal, naming the global if any."""
    text = str(exc)
    m = re.search(r"GLOBAL ([\w.]+)", text)
    if m:
        return refusal(m[1])
    # Skip torch's boilerplate paragraphs about the weights_only default to reach the reason.
    boiler = ("Weights only load failed", "Check the documentation", "Please file an issue")
    reasons = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith(boiler)]
    reason = reasons[0][:200] if reasons else "no reason given"
    return CheckpointError(f"torch refused to load {what} (corrupt or unsupported: {reason})")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def check_file(path: str | os.PathLike[str]) -> Path:
    """Existence, type and size checks shared by every reader. Only regular files: a FIFO or a
    device would block or never end."""
    p = named_path(path)
    if not p.exists():
        raise CheckpointError(f"{p}: no such file")
    if p.is_dir():
        raise CheckpointError(f"{p} is a directory, not a checkpoint file")
    if not p.is_file():
        raise CheckpointError(f"{p} is not a regular file (a pipe or a device?)")
    size = p.stat().st_size
    if size == 0:
        raise CheckpointError(f"{p} is empty")
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"{p} is {size / 1024**3:.1f} GiB, larger than the "
            f"{MAX_CHECKPOINT_BYTES / 1024**3:.0f} GiB limit for checkpoints"
        )
    return p


def restricted_load(
    path: str | os.PathLike[str],
    allowed: AllowList,
    what: str = "pickle",
) -> tuple[Any, collections.Counter[str]]:
    """Unpickle `path` through the allow-list; return the object and the globals it named."""
    p = check_file(path)
    with p.open("rb") as f, budget_for(p.stat().st_size, p.name):
        unpickler = RestrictedUnpickler(f, allowed)
        try:
            obj = unpickler.load()
        except CheckpointError:
            raise
        except RecursionError:
            raise CheckpointError(
                f"{p}: the {what} is nested too deeply to be a checkpoint"
            ) from None
        except CORRUPT_DATA_ERRORS as exc:
            raise CheckpointError(
                f"{p}: not a readable {what} (truncated or corrupt: "
                f"{type(exc).__name__}: {first_line(exc)})"
            ) from None
    log.debug("%s: unpickled with globals %s", p, dict(unpickler.globals_seen))
    return obj, unpickler.globals_seen
