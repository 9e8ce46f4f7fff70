"""Path tab work of the main window: keyframes from the current latent, the scrubber's renders,
video export as a cancellable worker job, and the live path-length readout (LPIPS or its
labelled pixel fallback)."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from PySide6.QtWidgets import QFileDialog


def scale_image(image: np.ndarray, scale: int, smooth: bool) -> np.ndarray:
    """An HxWxC uint8 frame `scale` times larger: Lanczos, or every pixel a sharp square."""
    if scale == 1:
        return image
    if not smooth:
        return image.repeat(scale, axis=0).repeat(scale, axis=1)
    from PIL import Image

    h, w = image.shape[:2]
    pic = Image.fromarray(image.squeeze(2) if image.shape[2] == 1 else image)
    out = np.asarray(pic.resize((w * scale, h * scale), Image.LANCZOS))
    return out[:, :, None] if out.ndim == 2 else out


class PathMixin:
    """Methods of MainWindow for the Path tab."""

    def _add_current_keyframe(self) -> None:
        from stylegan2.render import Latent

        s = self.model.state
        if s.w is not None:
            self.path_panel.add_keyframe(Latent(w=np.asarray(s.w, np.float32)), "loaded w")
        elif s.seed_weights() == ((s.seed, 1.0),):
            self.path_panel.add_keyframe(Latent.from_seed(s.seed, s.class_idx), f"seed {s.seed}")
        elif self.last_result is not None and self.last_result.ws is not None:
            label = f"w at seed plane ({s.seed_x:.2f}, {s.seed_y:.2f})"
            self.path_panel.add_keyframe(Latent(w=self.last_result.ws.copy()), label)

    def show_path_position(self, t: float) -> None:
        from stylegan2.paths import request_at

        path = self.path_panel.path(self.model.state.to_request())
        if path is None or self.network_info is None:
            return
        frame = round(t * self.path_panel.fps.value())
        rid = self.next_id
        self.next_id += 1

        def build(renderer):
            return dataclasses.replace(request_at(renderer, path, t, frame), request_id=rid)

        build.request_id = rid  # type: ignore[attr-defined]
        self.worker.submit(build)

    def export_video_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export video", "path.mp4", "MP4 (*.mp4);;GIF (*.gif);;PNG frames (folder) (*)"
        )
        if path:
            self.export_video(path)

    def export_video(self, out: str) -> bool:
        """Render the path frame by frame on the worker (the same requests the scrubber makes)
        and write it; a progress dialog can cancel, and nothing half-written is left."""
        import threading

        from PySide6.QtWidgets import QProgressDialog

        from stylegan2.paths import frame_times, request_at
        from stylegan2.video import (
            MAX_GIF_SIDE,
            VideoError,
            check_destination,
            output_kind,
            write_frames,
        )

        path = self.path_panel.path(self.model.state.to_request())
        if path is None or self.network_info is None:
            self.statusBar().showMessage("a path needs at least two keyframes", 6000)
            return False
        try:  # say so now, not after the first frames have rendered
            check_destination(out, output_kind(out))
        except VideoError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return False
        fps = self.path_panel.fps.value()
        scale = self.path_panel.export_scale.value()
        side = self.network_info["resolution"] * scale * (2 if self.compare_path else 1)
        if output_kind(out) == ".gif" and side > MAX_GIF_SIDE:
            self.statusBar().showMessage(
                f"GIF frames of {side} px would not fit in memory; lower the scale to "
                f"{max(1, scale * MAX_GIF_SIDE // side)} or export MP4 / PNG frames",
                8000,
            )
            return False
        smooth = self.path_panel.export_smooth.isChecked()
        quality = self.path_panel.export_quality.value()
        times = frame_times(path, fps)
        cancel = threading.Event()
        self.export_progress = QProgressDialog("Rendering frames…", "Cancel", 0, len(times), self)
        self.export_progress.setWindowTitle("Export video")
        self.export_progress.canceled.connect(cancel.set)
        self.export_progress.show()
        progress = self.worker.job_progress

        def run(renderer, twin):
            """In compare mode each frame is both networks side by side, each following the
            path through its own mapping."""

            def render(r, t, k):
                result = r.render(request_at(r, path, t, k))
                if result.error:
                    raise ValueError(result.error)
                return result.image

            def frames():
                for k, t in enumerate(times):
                    image = render(renderer, t, k)
                    if twin is not None:
                        other = render(twin, t, k)
                        if other.shape != image.shape:  # another resolution or channel count
                            from PIL import Image

                            h, w = image.shape[:2]
                            pic = Image.fromarray(other.squeeze()).convert("RGB").resize((w, h))
                            other = np.asarray(pic)
                            if image.shape[2] == 1:
                                image = np.repeat(image, 3, axis=2)
                        image = np.concatenate([image, other], axis=1)
                    progress.emit("video", k + 1, len(times))
                    yield scale_image(image, scale, smooth)

            try:
                n = write_frames(out, frames(), fps, quality=quality, cancelled=cancel.is_set)
            except VideoError as exc:
                raise ValueError(str(exc)) from None
            return out, n

        self.worker.run_job("video", run, pair=True)  # twin is None unless comparing
        return True

    def lpips_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "VGG16 weights for LPIPS (torchvision vgg16-397923af.pth or NVIDIA vgg16.pt)",
            "",
            "Weights (*.pth *.pt);;All files (*)",
        )
        if path:
            self.set_lpips_weights(path)

    def set_lpips_weights(self, path: str | None) -> None:
        """Where the VGG16 trunk lives (remembered); path lengths use LPIPS from now on."""
        self.lpips_weights = path or None
        if self.persist_settings:
            self.settings.setValue("lpips_weights", path or "")
        if hasattr(self, "_distance"):
            del self._distance
        self.start_path_readout()

    def start_path_readout(self) -> None:
        """Queue the local path length at points along the path; results of an older path are
        dropped by generation."""
        from stylegan2.lpips import load_distance
        from stylegan2.paths import path_ws
        from stylegan2.ppl import EPS, path_lengths

        self.ppl_generation += 1
        generation = self.ppl_generation
        path = self.path_panel.path(self.model.state.to_request())
        if path is None or self.network_info is None:
            return
        if not hasattr(self, "_distance"):
            weights = self.lpips_weights
            try:
                self._distance = load_distance(weights)
            except ValueError as exc:
                self.statusBar().showMessage(
                    f"LPIPS weights: {exc}; using the pixel fallback", 8000
                )
                self._distance = load_distance(None)
        dist = self._distance
        points = []
        for i, key in enumerate(path.keyframes[: path.segments]):
            start = sum(k.duration for k in path.keyframes[:i])
            points += [start + key.duration * j / 8 for j in range(8)]
        self.ppl_points = len(points)  # what a complete readout holds (screenshots wait for it)

        def job(t: float, seg_duration: float):
            def run(renderer):
                if generation != self.ppl_generation:
                    return generation, t, float("nan"), dist.name  # superseded: skip the work
                with torch.no_grad():
                    wa = path_ws(renderer, path, t)[None]
                    wb = path_ws(renderer, path, t + EPS * seg_duration)[None]
                    value = path_lengths(renderer.G, dist, wa, wb, noise_mode="const")
                return generation, t, float(value[0]), dist.name

            return run

        for t in points:
            seg = path.keyframes[path.locate(t)[0]].duration
            self.worker.run_job("ppl", job(t, seg))
