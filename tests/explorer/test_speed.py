"""The Speed tab's thread count: chosen from the load unless the user chose one, applied on the
render thread, and said with its reason."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QSettings

from explorer.controllers.speed import SpeedController
from explorer.main_window import MainWindow
from stylegan2 import threads


@pytest.fixture
def busy_machine(monkeypatch):
    """Two cores, 1.3 of them busy with other work, and the explorer adding nothing yet."""
    load = {"now": 1.3}
    monkeypatch.setattr(threads, "_cores", lambda: 2)
    monkeypatch.setattr(threads, "_load", lambda: load["now"])
    monkeypatch.setattr(SpeedController, "own_load", lambda self: 0.0)
    monkeypatch.delenv(threads.ENV_VAR, raising=False)
    return load


def _window(qtbot, tmp_path, explorer_network, **values) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    for key, value in values.items():
        settings.setValue(key, value)
    win = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.frames.first_image_shown, timeout=30_000):
        win.network.open(explorer_network)
    return win


def _render_threads(qtbot, win) -> int:
    got = []
    win.worker.run_job(lambda _job: torch.get_num_threads(), got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    return got[0]


def test_auto_threads_follow_the_load_and_say_why(qtbot, tmp_path, explorer_network, busy_machine):
    win = _window(qtbot, tmp_path, explorer_network)
    panel = win.ui.performance
    if panel.threads.maximum() < 2:
        pytest.skip("this process may use one core only")
    assert panel.auto_threads.isChecked() and panel.threads.value() == 1
    assert panel.threads_note.text() == "1 thread (auto: 2 cores, load 1.3 from other work)"
    assert _render_threads(qtbot, win) == 1
    busy_machine["now"] = 0.2  # the other work ended: checked again while idle
    win.speed.recheck()
    assert panel.threads.value() == 2 and "load 0.2 from other" in panel.threads_note.text()
    assert _render_threads(qtbot, win) == 2
    assert int(win.ctx.prefs.get("render_threads")) == 0  # nothing chosen, nothing remembered
    win.close()


@pytest.mark.slow
def test_a_chosen_count_wins_and_is_remembered(qtbot, tmp_path, explorer_network, busy_machine):
    win = _window(qtbot, tmp_path, explorer_network)
    panel = win.ui.performance
    panel.threads.setValue(2 if panel.threads.maximum() >= 2 else 1)
    n = panel.threads.value()
    assert not panel.auto_threads.isChecked()
    assert panel.threads_note.text().endswith("(chosen in the Speed tab)")
    busy_machine["now"] = 1.9
    win.speed.recheck()
    assert panel.threads.value() == n and _render_threads(qtbot, win) == n
    assert int(win.ctx.prefs.get("render_threads")) == n
    panel.auto_threads.setChecked(True)  # back to automatic: forgotten
    assert panel.threads.value() == 1 and int(win.ctx.prefs.get("render_threads")) == 0
    win.close()
    again = _window(qtbot, tmp_path / "b", explorer_network, render_threads=1)
    assert not again.ui.performance.auto_threads.isChecked()
    assert again.ui.performance.threads_note.text() == "1 thread (chosen in the Speed tab)"
    again.speed.set_threads(1, "given with --threads")
    assert "given with --threads" in again.ui.performance.threads_note.text()
    again.close()


def test_the_environment_variable_and_a_bad_one(
    qtbot, tmp_path, explorer_network, busy_machine, monkeypatch
):
    monkeypatch.setenv(threads.ENV_VAR, "1")
    win = _window(qtbot, tmp_path, explorer_network)
    assert win.ui.performance.threads_note.text() == f"1 thread (from {threads.ENV_VAR})"
    monkeypatch.setenv(threads.ENV_VAR, "many")
    win.speed.recheck()
    assert "torch's default" in win.ui.performance.threads_note.text()
    win.close()


def test_own_load_counts_this_process_cpu(qtbot, tmp_path, explorer_network):
    win = _window(qtbot, tmp_path, explorer_network)
    assert 0.0 <= win.speed.own_load() <= win.ui.performance.threads.maximum() + 1
    win.close()


def test_a_remembered_count_beyond_any_machine_is_ignored(
    qtbot, tmp_path, explorer_network, busy_machine
):
    # A settings file edited by hand (or damaged) must not start 100,000 torch threads.
    win = _window(qtbot, tmp_path, explorer_network, render_threads=100_000)
    assert win.ui.performance.auto_threads.isChecked()
    assert _render_threads(qtbot, win) <= 2
    win.close()
