"""Hostile and broken files are refused with one-line errors, and no payload ever runs.

Every payload would create a marker file if executed; each test asserts the marker is absent.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from stylegan2.checkpoints import safe_unpickle
from stylegan2.checkpoints.ada_pkl import read_ada_pickle
from stylegan2.checkpoints.common import CheckpointError
from stylegan2.checkpoints.restricted import check_memo_indices
from stylegan2.checkpoints.rosinality import read_rosinality
from stylegan2.checkpoints.safe_unpickle import ADA_ALLOWED, restricted_load
from stylegan2.checkpoints.sniff import read_checkpoint, sniff_format
from stylegan2.checkpoints.tf_pkl import read_tf_pickle
from stylegan2.checkpoints.torch_scan import scan_torch_file

DATA = Path(__file__).resolve().parent.parent / "data"
ADA, TF, ROSI = (
    DATA / "sg2ada_tiny_snapshot.pkl",
    DATA / "tf_tiny_network.pkl",
    DATA / "rosinality_tiny_g_ema.pt",
)
READERS: list[Callable] = [read_ada_pickle, read_tf_pickle, read_checkpoint]


def refused(reader: Callable, path: Path, *needles: str) -> str:
    with pytest.raises(CheckpointError) as info:
        reader(path)
    msg = str(info.value)
    assert "\n" not in msg, msg
    for needle in needles:
        assert needle in msg, msg
    return msg


class Evil:
    """Pickles as a call to os.system (recorded as posix.system)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def payloads(f, marker: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (pickle bytes, the global the refusal must name)."""
    touch = f"touch '{marker}'"
    py_touch = f"open({str(marker)!r}, 'w').close()"
    argv_list = b"(]" + b"(" + f.op_str("touch") + f.op_str(str(marker)) + b"et"
    return {
        "os.system": (f.wrap(f.op_call("os", "system", touch)), "os.system"),
        "posix.system": (f.wrap(f.op_call("posix", "system", touch)), "posix.system"),
        "subprocess.Popen": (
            f.wrap(f.op_global("subprocess", "Popen") + argv_list + b"R"),
            "subprocess.Popen",
        ),
        "subprocess.check_output": (
            f.wrap(f.op_global("subprocess", "check_output") + argv_list + b"R"),
            "subprocess.check_output",
        ),
        "eval": (f.wrap(f.op_call("builtins", "eval", py_touch)), "builtins.eval"),
        "exec": (f.wrap(f.op_call("builtins", "exec", py_touch)), "builtins.exec"),
        # getattr(__import__('os'), 'system')('touch ...')
        "getattr chain": (
            f.wrap(
                f.op_global("builtins", "getattr")
                + b"("
                + f.op_call("builtins", "__import__", "os")
                + f.op_str("system")
                + b"tR("
                + f.op_str(touch)
                + b"tR"
            ),
            "builtins.getattr",
        ),
        "__import__": (
            f.wrap(f.op_call("builtins", "__import__", "os")),
            "builtins.__import__",
        ),
        # functools.partial(posix.system, 'touch ...')()
        "functools.partial": (
            f.wrap(
                f.op_global("functools", "partial")
                + b"("
                + f.op_global("posix", "system")
                + f.op_str(touch)
                + b"tR)R"
            ),
            "functools.partial",
        ),
        # copyreg._reconstructor(subprocess.Popen, object, None)
        "copyreg._reconstructor": (
            f.wrap(
                f.op_global("copyreg", "_reconstructor")
                + b"("
                + f.op_global("subprocess", "Popen")
                + f.op_global("builtins", "object")
                + b"NtR"
            ),
            "copyreg._reconstructor",
        ),
        # Attribute traversal through an allowed module name.
        "dotted name": (
            f.wrap(f.op_global("numpy", "dtype.__init__") + b")R"),
            "numpy.dtype.__init__",
        ),
        "torch.load": (f.wrap(f.op_call("torch", "load", str(marker))), "torch.load"),
        "torchscript": (f.wrap(f.op_call("__torch__.evil", "Payload")), "__torch__.evil.Payload"),
    }


PAYLOAD_IDS = [
    "os.system",
    "posix.system",
    "subprocess.Popen",
    "subprocess.check_output",
    "eval",
    "exec",
    "getattr chain",
    "__import__",
    "functools.partial",
    "copyreg._reconstructor",
    "dotted name",
    "torch.load",
    "torchscript",
]


@pytest.mark.parametrize("name", PAYLOAD_IDS)
@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
def test_malicious_globals_refused(fakes, tmp_path, name, reader):
    marker = tmp_path / "pwned"
    data, global_name = payloads(fakes, marker)[name]
    path = fakes.write_bytes(data)
    if reader is read_checkpoint:
        refused(reader, path)  # sniffed as an unknown pickle: never unpickled at all
    else:
        refused(reader, path, f"references {global_name},", "allow-list")
    assert not marker.exists()


def test_payloads_are_real(fakes, tmp_path):
    """Control: an ordinary unpickler does run these payloads (so the refusals mean something)."""
    marker = tmp_path / "pwned"
    for name in ("os.system", "eval"):
        pickle.loads(payloads(fakes, marker)[name][0])
        assert marker.exists(), name
        marker.unlink()


def test_persistent_id_refused(fakes, tmp_path):
    path = fakes.write_bytes(fakes.wrap(fakes.op_str("storage") + b"Q"))
    for reader in (read_ada_pickle, read_tf_pickle):
        refused(reader, path, "persistent id")


def test_payload_appended_to_real_snapshot(fakes, tmp_path):
    """The real snapshot dict gets one more key whose value is a payload, after G/D/G_ema."""
    marker = tmp_path / "pwned"
    body = ADA.read_bytes()
    assert body.endswith(b".")
    evil = fakes.op_str("payload") + fakes.op_call("posix", "system", f"touch '{marker}'") + b"s."
    path = fakes.write_bytes(body[:-1] + evil)
    assert sniff_format(path) == "ada-pkl"
    for reader in (read_ada_pickle, read_checkpoint):
        refused(reader, path, "posix.system")
    assert not marker.exists()


def test_payload_nested_deep_inside_module_state(fakes, tmp_path):
    marker = tmp_path / "pwned"
    snap = fakes.ada_stubs()
    snap["G_ema"].state["_modules"]["synthesis"].state["_modules"]["b8"].state["extra"] = [
        {"x": Evil(marker)}
    ]
    path = fakes.write_ada(snap)
    refused(read_checkpoint, path, "posix.system")
    assert not marker.exists()


def test_malicious_tensor_storage_bytes(fakes, tmp_path):
    """`torch.storage._load_from_bytes` is allowed, but its bytes are read weights-only."""
    marker = tmp_path / "pwned"
    inner = pickle.dumps(Evil(marker), protocol=2)
    blob = b"B" + len(inner).to_bytes(4, "little") + inner  # BINBYTES
    body = fakes.op_global("torch.storage", "_load_from_bytes") + b"(" + blob + b"tR"
    path = fakes.write_bytes(fakes.wrap(body))
    refused(read_ada_pickle, path, "posix.system")
    assert not marker.exists()


def test_rebuild_tensor_rejects_non_storage(fakes):
    body = fakes.op_global("torch._utils", "_rebuild_tensor_v2") + b"(" + fakes.op_str("x")
    body += b"K\x00)K\x00\x89" + fakes.op_global("collections", "OrderedDict") + b")RtR"
    refused(read_ada_pickle, fakes.write_bytes(fakes.wrap(body)), "not a torch storage")


def test_torch_zip_with_malicious_global(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"g_ema": {"style.1.weight": Evil(marker)}}, path)
    assert sniff_format(path) == "torch-zip"
    for reader in (read_rosinality, read_checkpoint):
        refused(reader, path, "posix.system", "allow-list")
    assert not marker.exists()


def test_rosinality_args_namespace_is_allowed_but_nothing_else(tmp_path):
    sd = torch.load(ROSI, weights_only=True)
    sd["args"] = argparse.Namespace(size=16, channel_multiplier=2, r1=10.0)
    path = tmp_path / "train.pt"
    torch.save(sd, path)
    contents = read_checkpoint(path)
    assert contents.metadata["args"] == {"size": 16, "channel_multiplier": 2, "r1": 10.0}


def test_object_arrays_refused(fakes):
    obj_array = np.array([1, "a", None], dtype=object)
    path = fakes.write_bytes(pickle.dumps({"x": obj_array}, protocol=3))
    refused(read_ada_pickle, path, "object array")
    g, d, gs = fakes.tf_stubs()
    gs.state["variables"].append(("oops", obj_array))
    refused(read_tf_pickle, fakes.write_tf((g, d, gs)), "object array")


def test_globals_resolved_once_and_only_the_expected_ones():
    _, seen = restricted_load(ADA, ADA_ALLOWED)
    assert set(seen) == {
        "torch_utils.persistence._reconstruct_persistent_obj",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch.storage._load_from_bytes",
        "collections.OrderedDict",
        "builtins.set",
        "dnnlib.util.EasyDict",
        "numpy.core.multiarray.scalar",
        "numpy.dtype",
    }
    assert set(seen.values()) == {1}  # memoised: each global is looked up once


# Broken files -----------------------------------------------------------------------------------
@pytest.mark.parametrize("src", [ADA, TF, ROSI], ids=lambda p: p.name)
def test_truncated_files(tmp_path, src):
    data = src.read_bytes()
    reader = {ADA: read_ada_pickle, TF: read_tf_pickle, ROSI: read_rosinality}[src]
    for cut in (1, 2, 17, 300, len(data) // 3, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{cut}"
        path.write_bytes(data[:cut])
        for r in (reader, read_checkpoint):
            refused(r, path)


def test_random_bytes(tmp_path):
    rng = np.random.default_rng(1234)
    for i in range(40):
        path = tmp_path / f"rand{i}"
        head = b"\x80\x03" if i % 2 else b""
        path.write_bytes(head + rng.bytes(int(rng.integers(1, 4000))))
        for r in (read_ada_pickle, read_tf_pickle, read_rosinality, read_checkpoint):
            refused(r, path)


def test_empty_file_directory_and_missing_path(tmp_path):
    empty = tmp_path / "empty.pkl"
    empty.write_bytes(b"")
    for r in (read_ada_pickle, read_tf_pickle, read_rosinality, read_checkpoint):
        refused(r, empty, "empty")
        refused(r, tmp_path, "directory")
        refused(r, tmp_path / "nope.pkl", "no such file")
    assert sniff_format(tmp_path) == "directory"
    with pytest.raises(CheckpointError):
        sniff_format(tmp_path / "nope.pkl")


def test_size_cap(monkeypatch):
    monkeypatch.setattr(safe_unpickle, "MAX_CHECKPOINT_BYTES", 1000)
    for r in (read_ada_pickle, read_rosinality, read_checkpoint):
        refused(r, ADA if r is not read_rosinality else ROSI, "limit")


def test_unrecognised_files(tmp_path):
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": 1}))
    assert sniff_format(plain) == "pickle"
    refused(read_checkpoint, plain, "not a StyleGAN2 network pickle")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert sniff_format(text) == "unknown"
    refused(read_checkpoint, text, "not a StyleGAN2 checkpoint we recognise")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    refused(read_checkpoint, other, "not a rosinality")


@pytest.mark.parametrize(
    ("module", "name", "reader"),
    [
        ("dnnlib.util", "EasyDict", read_ada_pickle),
        ("dnnlib.tflib.network", "Network", read_tf_pickle),
        ("torch._utils", "_rebuild_tensor_v2", read_ada_pickle),
        ("numpy", "ndarray", read_tf_pickle),
    ],
)
def test_build_cannot_modify_reader_objects(fakes, module, name, reader):
    """A BUILD opcode aimed at an allowed class or function must not rewrite it."""
    slot_state = b"(N}" + fakes.op_str("__defaults__") + b"N" + b"stb"
    path = fakes.write_bytes(fakes.wrap(fakes.op_global(module, name) + slot_state))
    refused(reader, path, "modify")
    assert read_ada_pickle(ADA).format == "ada-pkl"  # later loads are unaffected


def test_memo_index_far_ahead_of_the_opcodes_is_refused_before_unpickling(tmp_path):
    # An empty dict stored at memo index 10^8: CPython's unpickler would grow its memo array to
    # 2 * 10^8 pointers (1.6 GB) for this 11-byte body.
    bomb = b"\x80\x04}r" + struct.pack("<I", 10**8) + b"."
    path = tmp_path / "memo.pkl"
    path.write_bytes(bomb)
    for r in (read_ada_pickle, read_tf_pickle):
        refused(r, path, "memo entry 100,000,000")
    # With NVIDIA's marker the sniffer takes it for a network pickle and unpickles it.
    marked = tmp_path / "marked.pkl"
    marked.write_bytes(bomb[:-1] + b"0\x8c\x17torch_utils.persistence.")
    refused(read_checkpoint, marked, "memo entry 100,000,000")
    pt = tmp_path / "memo.pt"
    with zipfile.ZipFile(pt, "w") as z:
        z.writestr("archive/data.pkl", bomb)
        z.writestr("archive/version", "3\n")
    refused(read_rosinality, pt, "memo entry")
    refused(read_checkpoint, pt)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_memo_check_accepts_shared_references_and_leaves_the_stream_in_place(tmp_path, protocol):
    shared = [1, 2]
    big = {f"k{i}": [i] for i in range(300)}  # past 256 memo entries: 4-byte indices
    data = pickle.dumps({"a": shared, "b": shared, "c": [shared] * 3, "big": big}, protocol)
    path = tmp_path / "ok.pkl"
    path.write_bytes(data + b"trailing")
    obj, _ = restricted_load(path, {})
    assert obj["a"] is obj["b"] is obj["c"][2] and obj["big"]["k299"] == [299]
    f = io.BytesIO(data)
    check_memo_indices(f)
    assert f.tell() == 0


@pytest.mark.parametrize("zipped", [True, False])
def test_memo_check_accepts_torch_save(tmp_path, zipped):
    t = torch.arange(6.0)
    path = tmp_path / "w.pt"
    torch.save({"a": t, "b": t[2:], "c": [t] * 3}, path, _use_new_zipfile_serialization=zipped)
    scan_torch_file(path)  # raises CheckpointError if refused


@pytest.mark.parametrize("taps", [[1, float("inf"), 3, 1], [1, float("nan")], [1.5, 3], [], "13"])
def test_pickled_filter_taps_that_are_not_whole_numbers_are_one_line(taps):
    from stylegan2.checkpoints.tensor_checks import as_filter_taps

    with pytest.raises(CheckpointError, match="resample_filter"):
        as_filter_taps("resample_filter", taps)
    assert as_filter_taps("f", [1.0, np.int64(3), np.float32(3), 1]) == (1, 3, 3, 1)
