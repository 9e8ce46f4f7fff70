"""The Path tab's work: keyframes from the current latent, the scrubber's renders (a `PathFrame`
for each position), video export as a cancellable job, and the live path-length readout, in
LPIPS with the weights `LpipsController` gives (or the labelled pixel fallback), measured anew
when they change."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog

from explorer.context import Context
from explorer.controllers.lpips import LpipsController
from explorer.frames import FrameController
from explorer.panels.path import PathPanel
from explorer.path_model import PathModel
from explorer.worker import Frame, Job, PathFrame
from stylegan2 import video
from stylegan2.device import memory_limit
from stylegan2.lpips import load_distance
from stylegan2.paths import Path, frame_times, local_path_length, path_problem, path_to_dict
from stylegan2.render import Latent
from stylegan2.video import VideoError, check_destination, gif_problem, output_kind

POINTS_PER_SEGMENT = 8


class PathController(QObject):
    readout_complete = Signal()  # every point of the current path's readout has arrived
    video_finished = Signal()  # an export ended: written, cancelled or failed

    def __init__(
        self,
        ctx: Context,
        panel: PathPanel,
        model: PathModel,
        frames: FrameController,
        is_shown: Callable[[], bool],
        lpips: LpipsController,
    ) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.panel = panel
        self.model = model  # the keyframes, interpolation and export settings
        self.frames = frames
        self.is_shown = is_shown
        self.export_progress: QProgressDialog | None = None
        self.readout_points = 0  # what a complete readout holds
        self._readout_stale = threading.Event()  # set when a newer readout replaces this one
        self._distance = None  # the loaded distance (LPIPS or the pixel fallback)
        self.lpips = lpips
        lpips.changed.connect(self._weights_changed)
        panel.add_current_requested.connect(self.add_current_keyframe)
        panel.position_changed.connect(self.show_position)
        panel.path_changed.connect(self.start_readout)
        panel.export_requested.connect(self.export_video_dialog)

    def path(self) -> Path | None:
        """The path over the current state (its truncation, noise...), or None, saying why when
        the keyframes cannot make one."""
        try:
            path = self.model.path(self.ctx.model.state.to_request())
        except ValueError as exc:
            self.panel.readout.setText(str(exc))
            return None
        net = self.ctx.network
        problem = None if path is None or net is None else path_problem(path, net.num_ws, net.w_dim)
        if problem:  # keyframes saved with another network: say so once, instead of every frame
            self.panel.readout.setText(f"this path does not fit the network: {problem}")
            return None
        return path

    def interpolation_dict(self) -> dict | None:
        """The Path tab's path (two keyframes or more) as saved in state files, with its export
        settings, so that `stylegan2 video --state` writes the same video."""
        path = self.path()
        return (
            None if path is None else {**path_to_dict(path), "export": self.model.export.to_dict()}
        )

    def add_current_keyframe(self) -> None:
        s = self.ctx.model.state
        last = self.frames.last
        if s.w is not None:
            self.panel.add_keyframe(Latent(w=np.asarray(s.w, np.float32)), "loaded w")
        elif s.seed_weights() == ((s.seed, 1.0),):
            self.panel.add_keyframe(Latent.from_seed(s.seed, s.class_idx), f"seed {s.seed}")
        elif last is not None and last.main.ws is not None:
            label = f"w at seed plane ({s.seed_x:.2f}, {s.seed_y:.2f})"
            self.panel.add_keyframe(Latent(w=last.main.ws.copy()), label)

    def show_position(self, t: float) -> None:
        path = self.path()
        if path is None or self.ctx.network is None:
            return
        self.frames.submit(PathFrame(path, t, round(t * self.model.export.fps)))

    def readout_text(self, frame: Frame) -> str:
        """The path length at a path position on screen, for the status bar."""
        if not frame.path_frame or not self.is_shown():
            return ""
        v = self.panel.value_at(self.panel.time())
        return "" if v is None else f"path length here {v:.3g}   "

    # Video ---------------------------------------------------------------------------------------
    def export_video_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.ctx.window,
            "Export video",
            "path.mp4",
            "MP4 (*.mp4);;GIF (*.gif);;PNG frames (folder) (*)",
        )
        if path:
            self.export_video(path)

    def export_video(self, out: str) -> bool:
        """Render the path frame by frame on the worker (the same requests the scrubber makes;
        in compare mode every open network side by side, each following the path through its
        own mapping) and write it; a progress dialog can cancel, and nothing half-written is
        left."""
        path, info, status = self.path(), self.ctx.network, self.ctx.status
        if path is None or info is None:
            status.say("a path needs at least two keyframes", 6000)
            return False
        try:  # say so now, not after the first frames have rendered
            check_destination(out, output_kind(out))
        except VideoError as exc:
            status.say(str(exc), 8000)
            return False
        export = self.model.export
        fps, scale = export.fps, export.scale
        side = info.resolution * scale
        width = side * len(self.ctx.networks)
        times = frame_times(path, fps)
        problem = (
            gif_problem(len(times), width, side, memory_limit(), fps)
            if output_kind(out) == ".gif"
            else None
        )
        if problem:
            status.say(problem, 8000)
            return False
        smooth, quality = export.smooth, export.quality
        cancel = threading.Event()
        dialog = QProgressDialog("Rendering frames…", "Cancel", 0, len(times), self.ctx.window)
        dialog.setWindowTitle("Export video")
        dialog.canceled.connect(cancel.set)
        dialog.show()
        self.export_progress = dialog

        def run(job: Job) -> tuple[str, int]:
            def frames():
                for k, image in enumerate(
                    video.path_frames([(r, path) for r in job.renderers], times)
                ):
                    job.progress(k + 1)
                    yield video.scale_image(image, scale, smooth)

            return out, video.write_frames(
                out, frames(), fps, quality=quality, cancelled=cancel.is_set
            )

        def done(result: tuple[str, int]) -> None:
            dialog.close()
            written, n = result
            msg = f"wrote {n} frames to {written}" if n else "export cancelled; nothing written"
            status.say(msg, 8000)
            self.video_finished.emit()

        def failed(error: str) -> None:
            dialog.close()
            status.say(f"video failed: {error}", 8000)
            self.video_finished.emit()

        self.ctx.run_job("video", run, done, dialog.setValue, failed)
        return True

    # Path lengths --------------------------------------------------------------------------------
    def _weights_changed(self) -> None:
        self._distance = None
        self.start_readout()

    def start_readout(self) -> None:
        """Queue the local path length at points along the path; an older path's points still
        queued are skipped."""
        self._readout_stale.set()
        stale = self._readout_stale = threading.Event()
        path = self.path()
        if self.ctx.network is None:
            return
        if path is None:
            self.readout_points = 0
            self.readout_complete.emit()  # nothing to measure: whoever waits need not
            return
        if self._distance is None:
            try:
                self._distance = load_distance(self.lpips.weights())
            except ValueError as exc:
                self.ctx.status.say(f"LPIPS weights: {exc}; using the pixel fallback", 8000)
                self._distance = load_distance(None)
        dist = self._distance
        points = []
        for i, key in enumerate(path.keyframes[: path.segments]):
            start = sum(k.duration for k in path.keyframes[:i])
            points += [
                start + key.duration * j / POINTS_PER_SEGMENT for j in range(POINTS_PER_SEGMENT)
            ]
        self.readout_points = len(points)

        def job(t: float, seg_duration: float) -> Callable[[Job], list[float | None] | None]:
            def run(job: Job) -> list[float | None] | None:
                if stale.is_set():
                    return None  # superseded: skip the work
                # Each network follows the path through its own mapping; a compared one that
                # fails gives None (the first network's readout stands).
                return job.each_renderer(
                    lambda r: local_path_length(r, path, t, dist, seg_duration)
                )

            return run

        def done(t: float, values: list[float | None] | None) -> None:
            if stale.is_set() or values is None:
                return
            self.panel.add_sample(t, values, dist.name)
            if len(self.panel.samples) >= self.readout_points:
                self.readout_complete.emit()

        for t in points:
            seg = path.keyframes[path.locate(t)[0]].duration
            self.ctx.run_job("ppl", job(t, seg), lambda v, t=t: done(t, v))

    def networks_changed(self) -> None:
        """Another network opened, or one to compare with opened or closed: path lengths are
        the networks', so measure them again on the networks now open."""
        self.panel.remeasure([info.stem for info in self.ctx.networks])

    def readout_is_complete(self) -> bool:
        return bool(self.readout_points) and len(self.panel.samples) >= self.readout_points
