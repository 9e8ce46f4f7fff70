"""Projection of a photo into W from the main window: loading the target, the cancellable
projection job with live progress, and handing the result to the path."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog


class ProjectionMixin:
    """Methods of MainWindow for the projection panel."""

    def open_target_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Image to project", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp);;All (*)"
        )
        if path:
            self.load_target(path)

    def load_target(self, path: str) -> bool:
        from stylegan2.io import ImageIOError, load_image
        from stylegan2.projection import prepare_target

        if self.network_info is None:
            return False
        try:
            image = load_image(path)
        except ImageIOError as exc:
            self.projection.status.setText(str(exc))
            return False
        info = self.network_info
        target, note = prepare_target(image, info["resolution"], info["img_channels"])
        self.projection.set_target(target, note)
        self.tabs.setCurrentIndex(0)
        return True

    def start_projection(self) -> None:
        import threading

        from stylegan2.lpips import load_distance
        from stylegan2.projection import ProjectConfig, project
        from stylegan2.render import to_uint8

        target = self.projection.target
        if target is None:
            return
        self._project_cancel = cancel = threading.Event()
        cfg = ProjectConfig(
            num_steps=self.projection.steps.value(), w_plus=self.projection.w_plus.isChecked()
        )
        weights = self.lpips_weights
        worker = self.worker

        def run(renderer):
            dist = load_distance(weights, renderer.device)

            def cb(step) -> bool:
                image = None if step.image is None else to_uint8(step.image[None])[0]
                worker.job_update.emit(
                    "projection", (step.step, step.distance, image, cfg.num_steps)
                )
                worker.serve_pending()  # projection works on its own copy of G
                return cancel.is_set()

            history = project(renderer.G, target, dist, cfg, callback=cb, images_every=10)
            return history[-1], len(history), dist.name

        self.projection.distances = []
        self.projection.set_running(True)
        self.projection.status.setText("projecting…")
        self.worker.run_job("projection", run)

    def _projection_keyframe(self) -> None:
        from stylegan2.render import Latent

        if self.projection.result_ws is not None:
            self.path_panel.add_keyframe(Latent(w=self.projection.result_ws.copy()), "projection")
