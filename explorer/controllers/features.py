"""The Features tab's work: the captured layer of every frame (of each network in compare mode),
the strongest blob marked on the image, and blob scores of every layer and resolution usage as
worker jobs."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from explorer.context import Context
from explorer.controllers.files import write_png
from explorer.panels.features import FeaturesPanel
from explorer.window_layout import ImageArea
from explorer.worker import Frame
from stylegan2.analysis import USAGE_SAMPLES, request_resolution_usage
from stylegan2.blobs import request_blob_scores
from stylegan2.render import Renderer, RenderRequest

#: (layer, resolution, peak / median, top energy share) per conv layer
ScoreTable = list[tuple[str, int, float, float]]


class FeaturesController(QObject):
    scores_ready = Signal(list)  # one ScoreTable per open network (None where one failed)
    usage_ready = Signal(list)  # per network: [this latent's usage, USAGE_SAMPLES'] or None

    def __init__(self, ctx: Context, panel: FeaturesPanel, area: ImageArea) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.panel = panel
        self.area = area
        self.shown = False  # whether the Features tab is the one on screen
        self.scored = False  # whether the blob chart holds (or is measuring) the networks' scores
        # Bumped when the networks change: a chart job of the old networks that finishes
        # after that must not paint over the cleared charts.
        self.generation = 0
        panel.peak_changed.connect(self.mark_blob)
        panel.all_layers_requested.connect(self.blob_scores_all_layers)
        panel.usage_requested.connect(self.resolution_usage)
        panel.export_requested.connect(self.export_dialog)

    def capture(self) -> tuple[str, ...]:
        """The layer to capture: the shown one, only while the tab is on screen."""
        layer = self.panel.current_layer()
        return (layer,) if layer and self.shown else ()

    def set_shown(self, shown: bool) -> None:
        self.shown = shown
        if shown:
            self.mark_blob()
            if not self.scored and self.ctx.network is not None:
                self.blob_scores_all_layers()  # one render: the chart is not left empty
        else:
            self.area.view.mark(None)
            self.area.twin_view.mark(None)

    def show_frame(self, frame: Frame) -> None:
        main = frame.main
        if not main.captures or main.preview_resolution is not None:
            return
        twin = frame.results[1] if len(frame.results) > 1 else None
        self.panel.show_capture(
            main.captures, twin.captures if twin is not None and not twin.error else None
        )

    def mark_blob(self) -> None:
        """Circle the strongest blob of the shown layer on the image (scaled to its pixels)."""
        view, twin_view = self.area.view, self.area.twin_view
        name, peak, info = self.panel.current_layer(), self.panel.peak, self.ctx.network
        if name is None or peak is None or info is None or not self.panel.mark.isChecked():
            view.mark(None)
            twin_view.mark(None)
            return
        scale = info.resolution / info.layer_resolution(name)
        view.mark(((peak[1] + 0.5) * scale - 0.5, (peak[0] + 0.5) * scale - 0.5))
        twin_peak, twin = self.panel.twin_peak, self.ctx.compared
        twin_res = twin.layer_resolution(name) if twin is not None else None
        if twin_peak is None or twin is None or not twin_res:
            twin_view.mark(None)
            return
        scale = twin.resolution / twin_res
        twin_view.mark(((twin_peak[1] + 0.5) * scale - 0.5, (twin_peak[0] + 0.5) * scale - 0.5))

    def networks_changed(self) -> None:
        """Another network opened, or comparing started or stopped: the charts were the old
        networks'; the blob chart is measured again when the tab is on screen."""
        self.scored = False
        self.generation += 1
        self.panel.clear_charts()
        if self.shown:
            self.set_shown(True)

    def blob_scores_all_layers(self) -> None:
        req = self.ctx.model.state.to_request()
        self.scored = True  # (not measured again on every visit while this one runs)
        generation = self.generation

        def done(tables: list) -> None:
            if generation != self.generation:
                return  # the networks changed while it ran
            self.panel.blob_chart.show_scores(*tables[:2])
            self.scores_ready.emit(tables)

        def failed(error: str) -> None:
            if generation == self.generation:
                self.scored = False  # tried again the next time the tab opens
                self.panel.blob_chart.failed(error)
                self.ctx.status.say(f"blob scores failed: {error}", 8000)

        self.ctx.run_job(
            "blob-scores", lambda job: job.each(req, request_blob_scores), done, None, failed
        )

    def resolution_usage(self) -> None:
        info = self.ctx.network
        if info is None or info.architecture != "skip":
            self.ctx.status.say("resolution usage needs a skip generator", 6000)
            return
        req = self.ctx.model.state.to_request()

        def usage(renderer: Renderer, r: RenderRequest) -> list[dict[int, float]] | None:
            both = request_resolution_usage(renderer, r, USAGE_SAMPLES)
            return None if both is None else list(both)

        generation = self.generation

        def done(rows: list) -> None:
            if generation != self.generation:
                return  # the networks changed while it ran
            self.panel.usage_chart.show(rows)
            self.usage_ready.emit(rows)

        self.ctx.run_job("usage", lambda job: job.each(req, usage), done)

    def export_dialog(self) -> None:
        """Save the feature map on show (as drawn, in its colour map) as a PNG."""
        image = self.panel.view.image
        if image is None:
            return
        name = f"{self.panel.current_layer() or 'features'}.png"
        path, _ = QFileDialog.getSaveFileName(self.ctx.window, "Export feature map", name, "*.png")
        path = self.ctx.with_suffix_confirmed(path, ".png")
        if path:
            write_png(self.ctx, image, path, None, f"saved {path}")

    def start_jobs(self) -> None:
        """Both charts (a screenshot of the tab waits for them)."""
        self.blob_scores_all_layers()
        self.resolution_usage()
