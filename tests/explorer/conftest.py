"""Qt fixtures: a main window on the tiny fixture network, with settings in a temp file."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.conftest import DATA

NETWORK = str(DATA / "sg2ada_tiny_snapshot.pkl")


@pytest.fixture
def window(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from explorer.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.first_image_shown, timeout=30_000):
        win.open_network(NETWORK)
    yield win
    win.close()
    assert not win.worker._thread.isRunning(), "the render thread outlived its window"


def settle(qtbot, win) -> np.ndarray:
    """Wait until the newest request's image is on screen and return it."""
    target = win.next_id - 1
    qtbot.waitUntil(lambda: win.shown_id >= target, timeout=30_000)
    assert win.last_result is not None and win.last_result.request_id == target
    return win.last_result.image.copy()
