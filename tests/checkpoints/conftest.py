"""Helpers for the importer tests: the golden fixtures, and writers for synthetic variants.

Synthetic ada/TF pickles are made by re-pickling the stubs our own restricted loader produced,
through stand-in classes registered under the upstream module names (`torch_utils.persistence`,
`dnnlib.tflib.network`) for the duration of one test. Nothing from upstream is imported or run.
"""

from __future__ import annotations

import collections
import pickle
import struct
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stylegan2.checkpoints.safe_unpickle import (
    ADA_ALLOWED,
    TF_ALLOWED,
    PersistentStub,
    TFNetworkStub,
    restricted_load,
)

DATA = Path(__file__).resolve().parent.parent / "data"
ADA = DATA / "sg2ada_tiny_snapshot.pkl"
TF = DATA / "tf_tiny_network.pkl"
ROSI = DATA / "rosinality_tiny_g_ema.pt"


def _never_called(*args: Any) -> None:
    raise AssertionError("a stand-in reconstructor was called: the reader ran pickled code")


class FakePersistent:
    """Pickles exactly like a torch_utils.persistence object: a call with a meta dict."""

    def __init__(self, meta: dict[str, Any]) -> None:
        self.meta = meta

    def __reduce__(self):
        return (sys.modules["torch_utils.persistence"]._reconstruct_persistent_obj, (self.meta,))


class FakeNetwork:
    """Pickles like dnnlib.tflib.network.Network: NEWOBJ + BUILD(state dict)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.__dict__["_state"] = state

    def __getstate__(self) -> dict[str, Any]:
        return self._state

    def __setstate__(self, state: dict[str, Any]) -> None:  # only for symmetry
        self.__dict__["_state"] = state


class Fakes:
    """Readers and writers for synthetic checkpoints (see the module docstring)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.count = 0

    # Golden fixtures as editable plain data ------------------------------------------------
    @staticmethod
    def ada_stubs() -> dict[str, Any]:
        return restricted_load(ADA, ADA_ALLOWED)[0]

    @staticmethod
    def tf_stubs() -> tuple[TFNetworkStub, TFNetworkStub, TFNetworkStub]:
        return restricted_load(TF, TF_ALLOWED)[0]

    def path(self, suffix: str = ".pkl") -> Path:
        self.count += 1
        return self.tmp_path / f"synthetic{self.count}{suffix}"

    # Writers ------------------------------------------------------------------------------
    def write_ada(self, snapshot: dict[str, Any]) -> Path:
        p = self.path()
        p.write_bytes(pickle.dumps(_to_fake(snapshot), protocol=4))
        return p

    def write_tf(self, nets: tuple[Any, Any, Any]) -> Path:
        p = self.path()
        p.write_bytes(pickle.dumps(tuple(_to_fake(n) for n in nets), protocol=3))
        return p

    def write_bytes(self, data: bytes, suffix: str = ".pkl") -> Path:
        p = self.path(suffix)
        p.write_bytes(data)
        return p

    # Raw pickle opcodes for hand-made payloads ----------------------------------------------
    @staticmethod
    def op_str(s: str) -> bytes:
        b = s.encode()
        return b"X" + struct.pack("<I", len(b)) + b

    @staticmethod
    def op_global(module: str, name: str) -> bytes:
        return b"c" + module.encode() + b"\n" + name.encode() + b"\n"

    @classmethod
    def op_call(cls, module: str, name: str, *args: str) -> bytes:
        return cls.op_global(module, name) + b"(" + b"".join(cls.op_str(a) for a in args) + b"tR"

    @staticmethod
    def wrap(body: bytes) -> bytes:
        """A complete protocol-2 pickle around a body of opcodes."""
        return b"\x80\x02" + body + b"."


def _to_fake(obj: Any) -> Any:
    """Replace our stubs/guarded arrays by objects that pickle under the upstream names."""
    if isinstance(obj, PersistentStub):
        meta = {
            "type": "class",
            "version": obj.version,
            "module_src": "# synthetic test module",
            "class_name": obj.class_name,
            "state": _to_fake(obj.state),
        }
        return FakePersistent(meta)
    if isinstance(obj, TFNetworkStub):
        return FakeNetwork(_to_fake(obj.state))
    if isinstance(obj, FakePersistent | FakeNetwork):
        return obj
    if isinstance(obj, collections.OrderedDict):
        return collections.OrderedDict((k, _to_fake(v)) for k, v in obj.items())
    if isinstance(obj, dict):  # plain dicts and the reader's EasyDict stand-in
        return {k: _to_fake(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_fake(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_to_fake(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return np.array(obj)  # drop the reader's ndarray subclass
    return obj


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    persistence = types.ModuleType("torch_utils.persistence")
    _never_called.__module__ = "torch_utils.persistence"
    _never_called.__qualname__ = "_reconstruct_persistent_obj"
    persistence._reconstruct_persistent_obj = _never_called  # type: ignore[attr-defined]
    network = types.ModuleType("dnnlib.tflib.network")
    FakeNetwork.__module__ = "dnnlib.tflib.network"
    FakeNetwork.__qualname__ = FakeNetwork.__name__ = "Network"
    network.Network = FakeNetwork  # type: ignore[attr-defined]
    for name, mod in {
        "torch_utils": types.ModuleType("torch_utils"),
        "torch_utils.persistence": persistence,
        "dnnlib": types.ModuleType("dnnlib"),
        "dnnlib.tflib": types.ModuleType("dnnlib.tflib"),
        "dnnlib.tflib.network": network,
    }.items():
        monkeypatch.setitem(sys.modules, name, mod)
    return Fakes(tmp_path)
