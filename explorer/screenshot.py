"""`stylegan2-explorer --screenshot`: save the window once what it shows has arrived (the image,
the compared network's, the Features charts, the Path tab's path-length readout), then quit."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from explorer.main_window import MainWindow
from explorer.worker import Frame
from stylegan2.safe_writes import atomic_path

log = logging.getLogger(__name__)


def screenshot_when_ready(
    win: MainWindow, path: str, timeout_ms: int = 120_000, wait_twin: bool = False
) -> None:
    """Save the whole window once the first image is shown (and, with `wait_twin`, the compared
    network's; on the Features tab also the all-layer blob chart and the resolution usage; on
    the Path tab with a path, its whole path-length readout), or on timeout, then quit. The
    picture is saved even when it is not the one asked for: a network that failed to open (its
    error page), a state the network could not take whole, or a part that had not arrived by
    the timeout. Then what went wrong goes to stderr and the app exits with status 1, so that
    a script sees it; so does a picture that could not be written."""
    done: list[bool] = []
    failures: list[str] = []
    got: list[str] = []
    tabs = win.ui.tabs
    pending = {"image"} | ({"twin"} if wait_twin else set())
    if tabs.is_current("Features"):
        pending |= {"blob-scores", "usage"}
    if tabs.is_current("Path") and win.path.path() is not None:
        pending.add("ppl")

    def shoot() -> None:
        if done:
            return
        done.append(True)
        log.info("screenshot after: %s", ", ".join(got) or "nothing")
        pixmap = win.grab()
        try:
            with atomic_path(path) as tmp:
                if not pixmap.save(str(tmp), "PNG"):
                    raise OSError("Qt could not write the picture")
        except OSError as exc:
            failures.append(f"cannot write {path}: {exc.strerror or exc}")
        win.close()
        for failure in failures:
            print(f"screenshot: {failure}", file=sys.stderr)
        QApplication.instance().exit(1 if failures else 0)

    charts_started: list[bool] = []

    def arrived(what: str) -> None:
        if what not in pending:
            return
        pending.discard(what)
        got.append(what)
        charts = pending & {"blob-scores", "usage"}
        if charts and not pending & {"image", "twin"} and not charts_started:
            # The charts need the networks in their final state.
            charts_started.append(True)
            win.features.start_jobs()
        if not pending:
            QTimer.singleShot(300, shoot)

    def frame_shown(frame: Frame) -> None:
        arrived("image")
        if len(frame.results) > 1 and frame.results[1].image is not None:
            arrived("twin")

    win.frames.shown.connect(frame_shown)
    win.features.scores_ready.connect(lambda _tables: arrived("blob-scores"))
    win.features.usage_ready.connect(lambda _rows: arrived("usage"))
    win.path.readout_complete.connect(lambda: arrived("ppl"))

    def network_failed(_index: int, network: str, error: str) -> None:
        failures.append(f"cannot open {network}: {error}")
        QTimer.singleShot(300, shoot)

    win.worker.network_failed.connect(network_failed)
    win.network.left_out.connect(failures.append)
    if win.ctx.network is None and not win.ui.net_label.text().startswith("loading"):
        QTimer.singleShot(500, shoot)  # the welcome page is all there is to show

    def too_late() -> None:
        if not done and pending:
            failures.append(
                f"saved after {timeout_ms // 1000} s without {', '.join(sorted(pending))}"
            )
        shoot()

    QTimer.singleShot(timeout_ms, too_late)
