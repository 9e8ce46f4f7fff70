"""`stylegan2-explorer --screenshot`: save the window once what it shows has arrived (the image,
the compare network's, the Features charts, the Path tab's path-length readout), then quit."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QTimer

log = logging.getLogger(__name__)


class ScreenshotMixin:
    """Method of MainWindow."""

    def screenshot_when_ready(
        self, path: str, timeout_ms: int = 120_000, wait_twin: bool = False
    ) -> None:
        """Save the whole window once the first image is shown (and, with `wait_twin`, the
        compare network's; on the Features tab also the all-layer blob chart and the resolution
        usage; on the Path tab with a path, its whole path-length readout), or on timeout, then
        quit."""
        from PySide6.QtWidgets import QApplication

        def shoot() -> None:
            log.info("screenshot after: %s", ", ".join(got) or "nothing")
            self.grab().save(path)
            self.close()
            QApplication.instance().quit()

        done: list[bool] = []
        pending = {"image"} | ({"twin"} if wait_twin else set())
        if self.tabs.currentIndex() == self.features_tab:
            pending |= {"blob-scores", "usage"}
        has_path = self.path_panel.path(self.model.state.to_request()) is not None
        if self.tabs.currentWidget() is self.path_tab and has_path:
            pending.add("ppl")

        def once() -> None:
            if not done:
                done.append(True)
                shoot()

        got: list[str] = []

        def arrived(what: str) -> None:
            if what not in pending:
                return
            pending.discard(what)
            got.append(what)
            images_in = not pending & {"image", "twin"}
            if what in ("image", "twin") and images_in and pending & {"blob-scores", "usage"}:
                self._features_jobs()  # the charts need the networks in their final state
            if not pending:
                QTimer.singleShot(300, once)

        self.first_image_shown.connect(lambda: arrived("image"))
        self.worker.result_ready.connect(
            lambda r: arrived("twin") if r.twin is not None and r.twin.image is not None else None
        )

        def job_done(name: str, *_) -> None:
            if name != "ppl":
                arrived(name)
            elif self.ppl_points and len(self.path_panel.samples) >= self.ppl_points:
                arrived("ppl")  # every point of the current path (older ones are dropped)

        # Queued: the window's own job handler, which files the sample, runs first.
        self.worker.job_done.connect(lambda *a: QTimer.singleShot(0, lambda: job_done(*a)))
        self.worker.network_failed.connect(lambda *_: QTimer.singleShot(300, once))
        self.worker.compare_failed.connect(lambda *_: QTimer.singleShot(300, once))
        if self.network_path is None and not self.net_label.text().startswith("loading"):
            QTimer.singleShot(500, once)  # the welcome page is all there is to show

        def too_late() -> None:
            if not done and pending:
                print(
                    f"screenshot: saved after {timeout_ms // 1000} s without "
                    f"{', '.join(sorted(pending))}",
                    file=sys.stderr,
                )
            once()

        QTimer.singleShot(timeout_ms, too_late)
