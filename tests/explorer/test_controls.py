"""What a person does with the mouse and the files: the drag pad's direction, the wheel over the
side panel's plots, saving after the Path tab was used, and what the welcome page says while a
network loads or after it failed."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from stylegan2.io import png_state
from tests.explorer.conftest import settle


def _drag(qtbot, pad, dx: int, dy: int) -> None:
    start = QPoint(pad.width() // 2, pad.height() // 2)
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(pad, start + QPoint(dx, dy))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=start + QPoint(dx, dy))


def test_drag_pad_right_and_up_go_to_higher_seeds(window, qtbot):
    pad, model = window.ui.latent.pad, window.model
    pad.resize(300, 120)
    assert model.state.seed == 0
    _drag(qtbot, pad, 25, 0)  # right: a quarter of the way to seed 1
    assert model.state.seed_x == 0.25 and model.state.seed_y == 0.0
    _drag(qtbot, pad, 0, -50)  # up: towards the next row of seeds
    assert model.state.seed_y == 0.5
    window.ui.latent.reset_btn.click()  # back to seed 0
    assert (model.state.seed_x, model.state.seed_y) == (0.0, 0.0)
    before = settle(qtbot, window)
    _drag(qtbot, pad, 0, 30)  # down from seed 0 moves too (the plane wraps as seeds do)
    assert model.state.seed_y == -0.3
    assert not np.array_equal(settle(qtbot, window), before)


def _wheel(widget, modifiers=Qt.KeyboardModifier.NoModifier) -> QWheelEvent:
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget.viewport(), event)
    return event


def test_the_wheel_over_a_panel_plot_scrolls_unless_ctrl_is_held(window, qtbot):
    window.ui.tabs.select("Features")
    plot = window.ui.features.blob_chart.plot
    plot.resize(400, 120)
    before = plot.viewRange()
    event = _wheel(plot)
    assert not event.isAccepted() and plot.viewRange() == before  # left to the scroll area
    _wheel(plot, Qt.KeyboardModifier.ControlModifier)
    assert plot.viewRange() != before
    window.ui.features.blob_chart.show_scores([("b4.conv1", 4, 2.0, 0.1)])  # new scores: unzoomed
    assert plot.getViewBox().autoRangeEnabled() == [True, True]
    view = window.ui.features.view  # the feature map in the panel behaves the same
    assert view.in_panel and not window.ui.view.in_panel


def test_save_image_keeps_the_state_after_the_path_tab_was_used(window, qtbot, tmp_path):
    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("1,2")
    panel.keyframes.add_seeds_button.click()
    panel.scrub.setValue(300)  # a path position on screen: it is not the state's image
    settle(qtbot, window)
    assert window.files.save_image(str(tmp_path / "path.png"))
    assert "without its state" in window.statusBar().currentMessage()
    window.model.update(seed_x=4.0)  # the state's own image again
    image = settle(qtbot, window)
    assert window.files.save_image(str(tmp_path / "state.png"))
    assert "without its state" not in window.statusBar().currentMessage()
    png_state(tmp_path / "state.png")  # carries its state
    window.model.update(seed_x=0.0)
    settle(qtbot, window)
    assert window.files.load_state(str(tmp_path / "state.png"))
    assert np.array_equal(settle(qtbot, window), image)


def test_welcome_page_says_loading_then_shows_a_bad_network_whole(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from explorer.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(win)
    bad = tmp_path / ("a-network-with-a-long-name-" * 4 + ".pkl")
    bad.write_bytes(b"\x80\x04garbage")
    with qtbot.waitSignal(win.worker.network_failed, timeout=10_000) as sig:
        win.network.open(str(bad))
        assert f"Loading {bad.name}" in win.ui.welcome_text.text()
    error = sig.args[2]
    assert error.startswith(f"{bad} is ")  # the page names the file once: "… NAME: it is …"
    error = "it" + error.removeprefix(str(bad))
    assert "Open a network to start" in win.ui.welcome_text.text()
    assert error in win.ui.welcome_error.text() and win.ui.welcome_error.text().count(bad.name) == 1
    assert error in win.ui.net_label.toolTip()  # also whole where the status bar cuts it off
    # With no network there is no image: saving or copying says so instead of doing nothing.
    win.files.copy_image()
    assert win.ctx.status.message() == "no image yet: open a network first"
    win.close()


def test_projection_result_buttons_fit_at_1280x800(window, qtbot):
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    scroll = window.ui.tabs.currentWidget()
    panel = window.ui.projection  # its result buttons and status line are its last rows
    bottom = panel.mapTo(scroll.viewport(), QPoint(0, panel.height())).y()
    assert 0 < bottom <= scroll.viewport().height()
