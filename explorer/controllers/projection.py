"""Projection of a photo into W: loading the target, the cancellable projection job with live
progress, and handing the result to the state or to the path."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from explorer.context import Context
from explorer.controllers.lpips import LpipsController
from explorer.panels.path import PathPanel
from explorer.panels.projection import ProjectionPanel
from explorer.worker import Job
from stylegan2.io import IMAGE_SUFFIXES, ImageIOError, load_image
from stylegan2.lpips import load_distance
from stylegan2.projection import ProjectConfig, distance_as_rendered, prepare_target, project
from stylegan2.render import Latent, to_uint8


class ProjectionController(QObject):
    finished = Signal()  # a projection ended: done, cancelled or failed

    def __init__(
        self,
        ctx: Context,
        panel: ProjectionPanel,
        path_panel: PathPanel,
        show_panel: Callable[[], None],
        lpips: LpipsController,
    ) -> None:
        """`show_panel` brings the panel's tab forward (a target dropped on the window)."""
        super().__init__(ctx.window)
        self.ctx = ctx
        self.lpips = lpips
        self.panel = panel
        self.path_panel = path_panel
        self.show_panel = show_panel
        self.cancel = threading.Event()  # the running projection's
        panel.open_requested.connect(self.open_target_dialog)
        panel.start_requested.connect(self.start)
        panel.cancel_requested.connect(lambda: self.cancel.set())
        panel.use_requested.connect(lambda: ctx.model.update(w=panel.result_ws.tolist()))
        panel.keyframe_requested.connect(self.add_keyframe)

    def open_target_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.ctx.window,
            "Image to project",
            "",
            f"Images ({' '.join('*' + s for s in IMAGE_SUFFIXES)});;All (*)",
        )
        if path:
            self.load_target(path)

    def load_target(self, path: str) -> bool:
        info = self.ctx.network
        if info is None:
            return False
        try:
            image = load_image(path)
        except ImageIOError as exc:
            self.panel.status.setText(str(exc))
            return False
        target, note = prepare_target(image, info.resolution, info.img_channels)
        self.panel.set_target(target, note)
        self.show_panel()
        return True

    def start(self) -> None:
        panel = self.panel
        target = panel.target
        if target is None:
            return
        self.cancel = cancel = threading.Event()
        cfg = ProjectConfig(num_steps=panel.steps.value(), w_plus=panel.w_plus.isChecked())
        weights = self.lpips.weights()

        def run(job: Job) -> tuple[np.ndarray, int, str, float, float, np.ndarray]:
            dist = load_distance(weights, job.main.device)

            last = [float("nan")]

            def cb(step) -> bool:
                last[0] = step.distance
                image = None if step.image is None else to_uint8(step.image[None])[0]
                job.progress((step.step, step.distance, image, cfg.num_steps))
                job.serve_pending()  # projection works on its own copy of G
                return cancel.is_set()

            history = project(job.main.G, target, dist, cfg, callback=cb, images_every=10)
            # The preview ends on what "Use as current latent" gives: the w with the network's
            # own noise (the noise maps optimised alongside w are not carried over).
            got, image = distance_as_rendered(job.main.G, target, history[-1], dist)
            return history[-1], len(history), dist.name, last[0], got, image

        def done(result: tuple[np.ndarray, int, str, float, float, np.ndarray]) -> None:
            ws, steps, dist_name, optimised, got, image = result
            word = "cancelled" if cancel.is_set() else "done"
            panel.current_view.set_image(image)
            panel.finished(
                ws,
                f"{word} after {steps} steps: distance {got:.3f} as shown, with the "
                f"network's noise ({optimised:.3f} with the noise maps optimised alongside) "
                f"[{dist_name}]",
            )
            self.finished.emit()

        def failed(error: str) -> None:
            panel.finished(None, f"projection failed: {error}")
            self.finished.emit()

        panel.distances = []
        panel.set_running(True)
        panel.status.setText("projecting…")
        self.ctx.run_job(
            "projection",
            run,
            done,
            lambda p: panel.progress(*p),
            failed,
        )

    def add_keyframe(self) -> None:
        if self.panel.result_ws is not None:
            self.path_panel.add_keyframe(Latent(w=self.panel.result_ws.copy()), "projection")
