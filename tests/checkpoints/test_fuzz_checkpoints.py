"""Hostile checkpoints of every kind the loaders read, made small in the test: each is refused in
one line (exit status 2 from the command) before the memory it asks for is allocated.

The generators build files that pass the allow-lists (nothing in them runs) but state sizes,
views, configs or nesting that would exhaust memory or time if they were trusted.
"""

from __future__ import annotations

import collections
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from stylegan2.checkpoints import CheckpointError, load_network
from stylegan2.checkpoints.native import save_checkpoint
from stylegan2.cli.main import main
from stylegan2.latents import LatentFileError, load_w
from stylegan2.networks import Generator
from tests.checkpoints.conftest import ROSI, Fakes, _to_fake
from tests.conftest import micro_config

# Fuzz, fault, subprocess and whole-app checks: CI runs them, the quick loop skips them.
pytestmark = pytest.mark.slow

# Generators ----------------------------------------------------------------------------------


class _Tensor:
    """Pickles as torch's own tensor record with any storage, size and stride we choose."""

    def __init__(self, storage: torch.storage.TypedStorage, size: tuple, stride: tuple) -> None:
        self.args = (storage, 0, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class _NumpyRecord:
    """Pickles as numpy's array record: `_reconstruct(ndarray, shape, b'b')` + a BUILD state."""

    def __init__(self, shape: tuple, state: object = None) -> None:
        self.shape, self.state = shape, state

    def __reduce__(self):
        from numpy._core import multiarray

        args = (np.ndarray, self.shape, b"b")
        return (multiarray._reconstruct, args) + ((self.state,) if self.state is not None else ())


class _StorageBytes:
    """Pickles as `torch.storage._load_from_bytes(data)`, how a pickled storage travels."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (self.data,))


def _lying_storage_bytes() -> _StorageBytes:
    """A torch.save (zip) of four floats whose record claims 10^9."""
    import zipfile

    buf = io.BytesIO()
    torch.save(_storage(4), buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("data.pkl"):
                data = data.replace(b"K\x04t", b"J\x00\xca\x9a\x3bt")
            dst.writestr(name, data)
    return _StorageBytes(out.getvalue())


def _storage(n: int) -> torch.storage.TypedStorage:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.zeros(n).storage()


def _fc0(snapshot: dict) -> dict:
    mapping = snapshot["G_ema"].meta["state"]["_modules"]["mapping"]
    return mapping.meta["state"]["_modules"]["fc0"].meta["state"]


def _ada(fakes: Fakes, edit: Callable[[dict], None]) -> Path:
    snapshot = _to_fake(fakes.ada_stubs())
    edit(snapshot)
    return fakes.write_bytes(pickle.dumps(snapshot, protocol=4))


def _set_weight(value: object) -> Callable[[dict], None]:
    def edit(snapshot: dict) -> None:
        _fc0(snapshot)["_parameters"]["weight"] = value

    return edit


def _laughs(snapshot: dict) -> None:
    x: list = [0]
    for _ in range(60):  # 2^60 leaves once written out; 60 lists in the pickle
        x = [x, x]
    snapshot["training_set_kwargs"] = {"path": x}


def _deep(snapshot: dict) -> None:
    x: list = []
    for _ in range(200):
        x = [x]
    snapshot["training_set_kwargs"] = {"path": x}


ADA_CASES: dict[str, tuple[Callable[[dict], None], str]] = {
    "stride-0 tensor (4 TB expanded)": (
        _set_weight(_Tensor(_storage(1), (10**6, 10**6), (0, 0))),
        "zero stride",
    ),
    "tensor past its storage": (_set_weight(_Tensor(_storage(4), (32, 32), (32, 1))), "reaches"),
    "overlapping strides": (
        _set_weight(_Tensor(_storage(20_000), (10**4, 10**4), (1, 1))),
        "overlapping",
    ),
    "storage bytes claiming 4 GB": (
        lambda snap: _set_weight(_Tensor(_lying_storage_bytes(), (32, 32), (32, 1)))(snap),
        "bytes",
    ),
    "numpy record with no data (3 GB)": (
        _set_weight(_NumpyRecord((10**9,))),
        "no data",
    ),
    "numpy state as a list (object-array guard)": (
        _set_weight(_NumpyRecord((0,), [1, (1,), np.dtype("O"), False, ["x"]])),
        "numpy array record",
    ),
    "billion laughs in training_set_kwargs": (_laughs, "metadata"),
    "metadata nested 200 deep": (_deep, "metadata"),
}


def _tf(fakes: Fakes, edit: Callable[[dict], None]) -> Path:
    # The fixture's own module (pytest imports conftest files under their own names): its
    # FakeNetwork is the one renamed to dnnlib.tflib.network.
    to_fake = type(fakes).write_tf.__globals__["_to_fake"]
    nets = tuple(to_fake(n) for n in fakes.tf_stubs())
    for net in nets:  # Gs is read first, G and D give the metadata
        edit(net.__dict__["_state"])
    return fakes.write_bytes(pickle.dumps(nets, protocol=3))


def _tf_variable(value: object) -> Callable[[dict], None]:
    def edit(state: dict) -> None:
        state["variables"] = [("dlatent_avg", value), *state["variables"][1:]]

    return edit


def _tf_laughs(state: dict) -> None:
    x: list = [0]
    for _ in range(60):
        x = [x, x]
    state["static_kwargs"] = {**state["static_kwargs"], "structure": x}


TF_CASES: dict[str, tuple[Callable[[dict], None], str]] = {
    "numpy record with no data (3 GB)": (_tf_variable(_NumpyRecord((10**9,))), "no data"),
    "numpy state as a list": (
        _tf_variable(_NumpyRecord((0,), [1, (1,), np.dtype("O"), False, ["x"]])),
        "numpy array record",
    ),
    "billion laughs in static_kwargs": (_tf_laughs, "metadata"),
    "10^5 mapping layers": (
        lambda st: st["static_kwargs"].update(mapping_layers=10**5),
        "mapping",
    ),
}


def _rosinality(tmp_path: Path, name: str, value: object) -> Path:
    sd = torch.load(ROSI, weights_only=True)
    g = sd.get("g_ema", sd)
    g["style.1.weight"] = value
    path = tmp_path / f"{name}.pt"
    torch.save(sd, path)
    return path


def _legacy_lie(tmp_path: Path) -> Path:
    """A pre-zip torch.save whose one storage claims 10^9 floats but holds four."""
    marker = object()

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if obj is marker:
                return ("storage", torch.FloatStorage, "0", "cpu", 10**9, None)
            return None

    f = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}
    pickle.dump(sys_info, f, protocol=2)
    P(f, protocol=2).dump({"g_ema": {"style.1.weight": marker}})
    pickle.dump(["0"], f, protocol=2)
    f.write(struct.pack("<q", 4) + bytes(16))
    path = tmp_path / "legacy_lie.pt"
    path.write_bytes(f.getvalue())
    return path


def _tiny_native(tmp_path: Path) -> Path:
    cfg = micro_config()
    return save_checkpoint(tmp_path / "tiny.safetensors", Generator(cfg))


def _rewrite_native(src: Path, dst: Path, edit: Callable[[dict], str | None]) -> Path:
    """Copy a native file with its JSON header edited (`edit` may return raw header text)."""
    raw = src.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    text = edit(header) or json.dumps(header)
    data = text.encode()
    data += b" " * (-len(data) % 8)
    dst.write_bytes(struct.pack("<Q", len(data)) + data + raw[8 + n :])
    return dst


def _config_edit(**changes: object) -> Callable[[dict], None]:
    def edit(header: dict) -> None:
        cfg = json.loads(header["__metadata__"]["G_ema_config"])
        for key, value in changes.items():
            *parents, leaf = key.split(".")
            node = cfg
            for part in parents:
                node = node[part]
            node[leaf] = value
        header["__metadata__"]["G_ema_config"] = json.dumps(cfg)

    return edit


def _deep_header(header: dict) -> str:
    return json.dumps(header)[:-1] + ', "zz": ' + "[" * 100_000 + "]" * 100_000 + "}"


def _deep_card(header: dict) -> None:
    header["__metadata__"]["card"] = "[" * 100_000 + "]" * 100_000


NATIVE_CASES: dict[str, tuple[Callable[[dict], str | None], str]] = {
    "10^5 mapping layers": (_config_edit(**{"mapping.num_layers": 10**5}), "num_layers"),
    "resolution 2^20": (_config_edit(img_resolution=1 << 20), "power of two"),
    "resolution 96": (_config_edit(img_resolution=96), "power of two"),
    "channel_base below the resolution": (
        _config_edit(**{"synthesis.channel_base": 4}),
        "channel_base",
    ),
    "zero-sum resample filter": (_config_edit(**{"synthesis.resample_filter": [1, -1]}), "zero"),
    "10^6 filter taps": (_config_edit(**{"synthesis.resample_filter": [1] * 10**6}), "taps"),
    "10^6 channels": (_config_edit(**{"synthesis.channel_max": 10**6}), "channel_max"),
    "architecture far larger than the weights": (
        _config_edit(
            img_resolution=2048,
            **{"synthesis.channel_base": 1 << 24, "synthesis.channel_max": 4096},
        ),
        "the file holds",
    ),
    "non-finite torgb_gain": (_config_edit(**{"synthesis.torgb_gain": -1.0}), "torgb_gain"),
    "string where a number belongs": (_config_edit(w_dim="8"), "w_dim"),
    "JSON header nested 100,000 deep": (_deep_header, "nested"),
    "config nested 100,000 deep": (
        lambda h: h["__metadata__"].update(G_ema_config="[" * 10**5 + "]" * 10**5),
        "nested",
    ),
}


def hostile_files(tmp_path: Path, fakes: Fakes) -> dict[str, tuple[Path, str]]:
    """Every generator's file: name -> (path, a word the refusal must contain)."""
    files = {f"ada: {k}": (_ada(fakes, edit), word) for k, (edit, word) in ADA_CASES.items()}
    files.update({f"tf: {k}": (_tf(fakes, edit), word) for k, (edit, word) in TF_CASES.items()})
    files["pt: stride-0 tensor"] = (
        _rosinality(tmp_path, "stride0", torch.zeros(1).expand(10**6, 10**6)),
        "zero stride",
    )
    files["pt: tensor past its storage"] = (
        _rosinality(tmp_path, "past", _Tensor(_storage(4), (32, 32), (32, 1))),
        "reaches",
    )
    files["pt: legacy storage claiming 4 GB"] = (_legacy_lie(tmp_path), "bytes")
    good = _tiny_native(tmp_path)
    for k, (edit, word) in NATIVE_CASES.items():
        dst = tmp_path / f"native_{len(files)}.safetensors"
        files[f"safetensors: {k}"] = (_rewrite_native(good, dst, edit), word)
    return files


# Tests ---------------------------------------------------------------------------------------


def _one_line_refusal(path: Path, word: str) -> str:
    with pytest.raises(CheckpointError) as info:
        load_network(path)
    msg = str(info.value)
    assert "\n" not in msg, msg
    assert word.lower() in msg.lower(), msg
    return msg


def test_every_hostile_checkpoint_is_refused_in_one_line(tmp_path, fakes):
    for name, (path, word) in hostile_files(tmp_path, fakes).items():
        try:
            _one_line_refusal(path, word)
        except BaseException as exc:
            raise AssertionError(f"{name}: {type(exc).__name__}: {exc}") from None


def test_a_hostile_card_is_reported_not_fatal(tmp_path):
    path = _rewrite_native(_tiny_native(tmp_path), tmp_path / "card.safetensors", _deep_card)
    G = load_network(path)  # documentation only: the network still loads
    assert G.img_resolution == 8


def test_hostile_checkpoints_exit_2_from_the_command(tmp_path, fakes, capsys):
    files = hostile_files(tmp_path, fakes)
    for name in ("ada: stride-0 tensor (4 TB expanded)", "pt: stride-0 tensor"):
        assert main(["info", str(files[name][0])]) == 2, name
        err = capsys.readouterr().err.strip()
        assert err.startswith("stylegan2 info: error:") and "\n" not in err, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "net.pkl"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_network(fifo)
    with pytest.raises(LatentFileError, match="not a regular file"):
        load_w(fifo, 6, 32)


def _npy(header: str, body: bytes) -> bytes:
    header = header + " " * (117 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + body


@pytest.mark.parametrize(
    ("shape", "needle"),
    [("(100000000000,)", "larger than any latent"), ("(6, 32)", "more data than the file")],
)
def test_a_lying_npy_header_is_one_line(tmp_path, shape, needle):
    path = tmp_path / "w.npy"
    path.write_bytes(_npy(f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", b""))
    with pytest.raises(LatentFileError, match=needle) as info:
        load_w(path, 6, 32)
    assert "\n" not in str(info.value)


def test_an_object_npy_is_refused(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.array([["x"] * 32] * 6, dtype=object), allow_pickle=True)
    with pytest.raises(LatentFileError, match="objects"):
        load_w(path, 6, 32)


_MEASURE = textwrap.dedent(
    """
    import resource, sys, time
    from stylegan2.checkpoints import CheckpointError, load_network
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worst = 0.0
    for path in sys.argv[1:]:
        t = time.time()
        try:
            load_network(path)
            print("LOADED", path)
        except CheckpointError:
            pass
        worst = max(worst, time.time() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"GROWTH_MB {(peak - base) / 1024:.0f} WORST_S {worst:.1f}")
    """
)


def test_hostile_checkpoints_stay_within_memory_and_time(tmp_path, fakes):
    """All of them in one process: peak memory grows by less than 300 MB over the baseline
    (the files ask for up to 4 TB), and none takes more than a few seconds."""
    paths = [str(p) for p, _ in hostile_files(tmp_path, fakes).values()]
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *paths],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=root,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "LOADED" not in out.stdout, out.stdout
    words = out.stdout.split()
    growth, worst = float(words[-3]), float(words[-1])
    assert growth < 300, out.stdout
    assert worst < 20, out.stdout


def _zip_with(path: Path, flag_bits: int = 0, method: int | None = None) -> Path:
    """A torch.save archive whose central directory says every entry is encrypted (flag bit 0)
    or compressed with an unknown method: zipfile raises RuntimeError / NotImplementedError."""
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buf)
    data = bytearray(buf.getvalue())
    i = data.find(b"PK\x01\x02")
    while i != -1:
        flags = struct.unpack_from("<H", data, i + 8)[0]
        struct.pack_into("<H", data, i + 8, flags | flag_bits)
        if method is not None:
            struct.pack_into("<H", data, i + 10, method)
        i = data.find(b"PK\x01\x02", i + 4)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("flag_bits, method", [(1, None), (0, 99)])
def test_a_damaged_zip_archive_is_one_line(tmp_path, capsys, flag_bits, method):
    from stylegan2.weight_files import read_weight_file

    bad = _zip_with(tmp_path / "bad.pt", flag_bits, method)
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(ValueError):
        read_weight_file(bad, "VGG16 weights")
