"""Hostile state files (JSON and PNG, made here): each is refused with a status-bar line before a
widget sees it, the state on screen stays as it was, and nothing escapes to Qt (an exception out
of a slot, or out of main() with the render thread running, would abort the process)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from explorer.app import uncaught_to_status
from explorer.state import ExplorerState
from stylegan2.io import PNG_STATE_KEY
from tests.explorer.conftest import settle

# Fuzz, fault, subprocess and whole-app checks: CI runs them, the quick loop skips them.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _doc(**state) -> dict:
    return {"version": 1, "state": state}


def _deep_w(depth: int) -> str:
    return '{"version": 1, "state": {"w": ' + "[" * depth + "0" + "]" * depth + "}}"


HOSTILE = {
    "noise seed beyond 2^32-1": json.dumps(_doc(noise_seed=2**32)),
    "negative noise seed": json.dumps(_doc(noise_seed=-1)),
    "cutoff 2^40": json.dumps(_doc(cutoff=2**40)),
    "version 1e999": '{"version": 1e999, "state": {}}',
    "version a string": '{"version": "1", "state": {}}',
    "w nested 100,000 deep": _deep_w(100_000),
    "a million mixing seeds": json.dumps(_doc(mix_seeds=list(range(10**6)))),
    "seed_x 1e300": json.dumps(_doc(seed_x=1e300)),
    "psi 1e300": json.dumps(_doc(psi=1e300)),
    "seed stride 2^40": json.dumps(_doc(seed_stride=2**40)),
    "class 2^40": json.dumps(_doc(class_idx=2**40)),
    "w of a million rows": json.dumps(_doc(w=[[0.0]] * 10**6)),
    "a million noise layers": json.dumps(_doc(noise_gains={f"l{i}": 1.0 for i in range(10**5)})),
    "100,000 keyframes": json.dumps(
        {**_doc(), "path": {"keyframes": [{"latent": {"seeds": [[1, 1.0]]}}] * 10**5}}
    ),
    "a NaN keyframe duration": json.dumps(
        {**_doc(), "path": {"keyframes": [{"latent": {}, "duration": float("nan")}] * 2}}
    ),
}


def _write_png_state(path: Path, text: str) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text(PNG_STATE_KEY, text, zip=True)
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)


def _bomb_png(path: Path, side: int = 40_000) -> None:
    """A PNG whose header claims side x side pixels (a few bytes of data follow)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    text = PNG_STATE_KEY.encode() + b"\0" + json.dumps(_doc()).encode()
    body = chunk(b"IHDR", ihdr) + chunk(b"tEXt", text) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b""))


def _refused(window, qtbot, path: Path) -> None:
    before = window.model.state
    assert not window.files.load_state(str(path))
    assert window.model.state == before
    assert "cannot load" in window.statusBar().currentMessage()
    assert "\n" not in window.files.load_error


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_state_file_is_refused(window, qtbot, tmp_path, case):
    path = tmp_path / "state.json"
    path.write_text(HOSTILE[case])
    _refused(window, qtbot, path)
    window.model.update(seed_x=5.0)  # the window goes on
    settle(qtbot, window)


@pytest.mark.parametrize("case", ["version 1e999", "w nested 100,000 deep", "cutoff 2^40"])
def test_a_hostile_state_in_a_png_is_refused(window, qtbot, tmp_path, case):
    path = tmp_path / "saved.png"
    _write_png_state(path, HOSTILE[case])
    _refused(window, qtbot, path)


def test_a_decompression_bomb_png_is_refused(window, qtbot, tmp_path):
    path = tmp_path / "bomb.png"
    _bomb_png(path)
    _refused(window, qtbot, path)
    assert "refused" in window.files.load_error or "readable" in window.files.load_error


def test_a_fifo_is_refused_without_waiting(window, qtbot, tmp_path):
    path = tmp_path / "state.json"
    os.mkfifo(path)
    _refused(window, qtbot, path)


def test_the_largest_valid_values_load_and_show(window, qtbot, tmp_path):
    """Seeds up to 2^32-1 fit the widgets; cutoff up to the network's ws."""
    num_ws = window.ctx.network.num_ws
    path = tmp_path / "state.json"
    path.write_text(json.dumps(_doc(noise_seed=2**32 - 1, cutoff=num_ws, mix_seeds=[2**32 - 1])))
    assert window.files.load_state(str(path)), window.files.load_error
    assert window.ui.noise.seed.value() == 2**32 - 1
    settle(qtbot, window)
    path.write_text(json.dumps(_doc(cutoff=num_ws + 1)))
    _refused(window, qtbot, path)
    assert "beyond" in window.files.load_error


def test_hostile_drops_are_reported(window, qtbot, tmp_path, monkeypatch):
    files = []
    for i, case in enumerate(
        ("version 1e999", "w nested 100,000 deep", "noise seed beyond 2^32-1")
    ):
        files.append(tmp_path / f"s{i}.json")
        files[-1].write_text(HOSTILE[case])
    _bomb_png(tmp_path / "bomb.png")
    files.append(tmp_path / "bomb.png")
    before = window.model.state
    for path in files:
        _drop(window, [QUrl.fromLocalFile(str(path))])
        assert window.model.state == before
    # Even a bug behind the drop is a line in the status bar, not an exception in Qt's hands.
    monkeypatch.setattr(
        window.files, "open_dropped", lambda *_a: (_ for _ in ()).throw(RuntimeError("boom"))
    )
    _drop(window, [QUrl.fromLocalFile(str(files[0]))])
    assert "boom" in window.statusBar().currentMessage()


def _drop(window, urls: list[QUrl]) -> None:
    mime = QMimeData()
    mime.setUrls(urls)
    event = QDropEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_an_exception_escaping_a_slot_goes_to_the_status_bar():
    said = []
    hook = uncaught_to_status(lambda text, _ms: said.append(text))
    try:
        raise OverflowError("too big for a spin box")
    except OverflowError as exc:
        hook(OverflowError, exc, exc.__traceback__)
    assert said == ["internal error: OverflowError: too big for a spin box (details in the log)"]


@pytest.mark.parametrize("case", ["version 1e999", "w nested 100,000 deep"])
def test_the_command_line_refuses_a_hostile_state_without_aborting(
    tmp_path, explorer_network, case
):
    state = tmp_path / "state.json"
    state.write_text(HOSTILE[case])
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    argv = [sys.executable, "-m", "explorer.app", "--network", explorer_network]
    argv += ["--state", str(state), "--screenshot", str(tmp_path / "shot.png")]
    run = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "cannot load state" in run.stderr and "Traceback" not in run.stderr


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
fields = st.sampled_from(
    ["seed_x", "seed_y", "seed_stride", "class_idx", "w", "mix_seeds", "layer_sources", "psi",
     "cutoff", "noise_mode", "noise_gains", "noise_seed", "force_fp32", "w_offset"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(fields, json_values | st.integers(-(2**70), 2**70), max_size=5), json_values)
def test_any_state_document_is_refused_in_one_line_or_kept_in_bounds(state, version):
    """Only ValueError may come out of parsing (the window's loaders catch it), and what loads
    lies within what the widgets hold."""
    text = json.dumps({"version": version if version is not None else 1, "state": state})
    try:
        s = ExplorerState.from_json(text)
        ExplorerState.path_in(text)
    except ValueError:
        return
    assert 0 <= s.noise_seed < 2**32 and all(0 <= x < 2**32 for x in s.mix_seeds)
    assert s.cutoff is None or 0 <= s.cutoff <= 256
    assert abs(s.seed_x) < 2**32 and abs(s.seed_y) < 2**32 and len(s.mix_seeds) <= 64


def _keyframes_of_another_network(window) -> list[dict]:
    w_dim = window.ctx.network.w_dim
    wide = [[0.1] * w_dim] * (window.ctx.network.num_ws + 8)  # ws of a deeper network
    return [{"latent": {"w": wide}, "duration": 1.0}, {"latent": {"seeds": [[1, 1.0]]}}]


def test_a_path_saved_with_another_network_is_refused(window, qtbot, tmp_path):
    path = tmp_path / "state.json"
    doc = {**_doc(), "path": {"keyframes": _keyframes_of_another_network(window)}}
    path.write_text(json.dumps(doc))
    _refused(window, qtbot, path)
    assert "keyframe 0's w" in window.files.load_error


def test_a_path_that_stops_fitting_is_named_once_not_failed_per_frame(window, qtbot):
    from stylegan2.paths import path_from_dict

    # As when a state is restored before its network loads: the keyframes reach the tab first.
    bad = path_from_dict({"keyframes": _keyframes_of_another_network(window)})
    with qtbot.waitSignal(window.path.readout_complete, timeout=10_000):
        window.ui.path.load_path(bad)
    assert window.path.path() is None and window.path.readout_points == 0
    assert "does not fit the network" in window.ui.path.readout.text()
