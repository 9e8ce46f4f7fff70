"""Qt fixtures: a main window on a tiny random network, with settings in a temp file."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def explorer_network(tmp_path_factory) -> str:
    """A tiny random network whose seeds map to clearly different ws (lr_multiplier 1), so that
    every control visibly changes pixels."""
    from stylegan2.checkpoints import save_checkpoint
    from tests.conftest import distinct_generator

    G = distinct_generator()
    return str(save_checkpoint(tmp_path_factory.mktemp("net") / "tiny.safetensors", G))


@pytest.fixture
def window(qtbot, tmp_path, explorer_network):
    from PySide6.QtCore import QSettings

    from explorer.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.frames.first_image_shown, timeout=30_000):
        win.network.open(explorer_network)
    yield win
    win.close()
    assert not win.worker.is_running(), "the render thread outlived its window"
    import gc

    assert gc.isenabled(), "automatic garbage collection was not given back"


def settle(qtbot, win) -> np.ndarray:
    """Wait until the newest request's image is on screen and return it."""
    target = win.worker.last_id
    qtbot.waitUntil(lambda: win.frames.shown_id >= target, timeout=30_000)
    assert win.frames.last is not None and win.frames.last.request_id == target
    return win.frames.last.main.image.copy()
