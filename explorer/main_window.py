"""The main window: image view, panels, toolbar, welcome page, file handling, settings."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.compare_mode import CompareMixin
from explorer.gc_guard import GuiThreadCollector
from explorer.image_view import ImageView
from explorer.panels.directions import DirectionsPanel
from explorer.panels.features import FeaturesPanel
from explorer.panels.latent import LatentPanel
from explorer.panels.mixing import MixingPanel
from explorer.panels.noise import NoisePanel
from explorer.panels.path import PathPanel
from explorer.panels.performance import PerformancePanel
from explorer.panels.projection import ProjectionPanel
from explorer.panels.truncation import TruncationPanel
from explorer.state import ExplorerState, StateModel
from explorer.worker import RenderWorker
from stylegan2.render import RenderResult

log = logging.getLogger(__name__)
NETWORK_FILTER = "StyleGAN2 networks (*.pkl *.pt *.pth *.safetensors);;All files (*)"
NETWORK_SUFFIXES = {".pkl", ".pt", ".pth", ".safetensors"}
TAB_NAMES = ("Latent", "Mixing", "Directions", "Noise", "Features", "Path", "Speed")


class MainWindow(CompareMixin, QMainWindow):
    first_image_shown = Signal()

    def __init__(self, device: str = "auto", settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("StyleGAN2 Explorer")
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("stylegan2-explorer", "explorer")
        self.device = device
        self.model = StateModel()
        self.collector = GuiThreadCollector(self)
        self.worker = RenderWorker()
        self.worker.result_ready.connect(self._on_result)
        self.worker.network_loaded.connect(self._on_network)
        self.worker.network_failed.connect(self._on_network_failed)
        self.worker.compare_loaded.connect(self._on_compare)
        self.worker.compare_failed.connect(self._on_compare_failed)
        self.worker.job_done.connect(self._on_job)
        self.worker.job_progress.connect(self._on_job_progress)
        self.worker.job_update.connect(self._on_job_update)
        self.next_id = 1
        self.full_timer = QTimer(self)
        self.full_timer.setSingleShot(True)
        self.full_timer.setInterval(250)
        self.full_timer.timeout.connect(self._submit_full)
        self.shown_id = 0
        self.network_path: str | None = None
        self.network_info: dict | None = None
        self.compare_path: str | None = None  # compare mode: a second network beside the first
        self.compare_info: dict | None = None
        self.last_result: RenderResult | None = None
        self._build()
        self.model.subscribe(lambda changed: self.request_render())
        self.worker.start()

    # Layout -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.view = ImageView()
        self.view.hovered.connect(lambda text: self.pixel_label.setText(text))
        self.twin_view = ImageView()
        self.twin_view.hovered.connect(lambda text: self.pixel_label.setText(text))
        self.main_caption = QLabel("")
        self.twin_caption = QLabel("")
        self.twin_caption.setStyleSheet("color: #fdd663;")
        self.twin_notes = QLabel("")
        self.twin_notes.setStyleSheet("color: #9aa0a6;")
        self.twin_notes.setWordWrap(True)
        self.image_area = QWidget()
        area = QHBoxLayout(self.image_area)
        area.setContentsMargins(0, 0, 0, 0)
        self.twin_column = QWidget()  # hidden as a whole, so the main view takes all the room
        for holder, caption, view, extra in (
            (QWidget(), self.main_caption, self.view, None),
            (self.twin_column, self.twin_caption, self.twin_view, self.twin_notes),
        ):
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(caption)
            column.addWidget(view, 1)
            if extra is not None:
                column.addWidget(extra)
            area.addWidget(holder, 1)
        for w in (self.main_caption, self.twin_caption, self.twin_view, self.twin_notes):
            w.setVisible(False)
        self.twin_column.setVisible(False)
        self.latent = LatentPanel(self.model)
        self.latent.load_w_requested.connect(self.load_w_dialog)
        self.latent.save_w_requested.connect(self.save_w_dialog)
        self.truncation = TruncationPanel(self.model)
        self.noise = NoisePanel(self.model)
        self.mixing = MixingPanel(self.model)
        self.mixing.grid_requested.connect(self.mixing_grid)
        self.directions = DirectionsPanel(self.model)
        self.directions.compute_requested.connect(self.compute_directions)
        self.directions.load_requested.connect(self.load_directions_dialog)
        self.directions.save_requested.connect(self.save_directions_dialog)
        self.directions.save_one_requested.connect(self.save_one_direction_dialog)
        self._pca_cache: dict[tuple, object] = {}
        self.features = FeaturesPanel()
        self.features.layer_changed.connect(self.request_render)
        self.features.peak_changed.connect(self._mark_blob)
        self.features.all_layers_requested.connect(self.blob_scores_all_layers)
        self.features.usage_requested.connect(self.resolution_usage)
        self.projection = ProjectionPanel()
        self.projection.open_requested.connect(self.open_target_dialog)
        self.projection.start_requested.connect(self.start_projection)
        self.projection.cancel_requested.connect(lambda: self._project_cancel.set())
        self.projection.use_requested.connect(
            lambda: self.model.update(w=self.projection.result_ws.tolist())
        )
        self.projection.keyframe_requested.connect(self._projection_keyframe)
        self.path_panel = PathPanel()
        self.path_panel.add_current_requested.connect(self._add_current_keyframe)
        self.path_panel.position_changed.connect(self.show_path_position)
        self.path_panel.path_changed.connect(self.start_path_readout)
        self.path_panel.export_requested.connect(self.export_video_dialog)
        self.ppl_generation = 0
        self.performance = PerformancePanel(self.model)
        self.performance.preview.currentIndexChanged.connect(lambda _i: self.request_render())
        # Tabs keep each group on one screen at 1280x800; the latent and truncation controls,
        # used most, share the first tab.
        self.tabs = QTabWidget()
        groups = (
            (self.latent, self.truncation, self.projection),
            (self.mixing,),
            (self.directions,),
            (self.noise,),
            (self.features,),
            (self.path_panel,),
            (self.performance,),
        )
        for title, group in zip(TAB_NAMES, groups, strict=True):
            page = QWidget()
            col = QVBoxLayout(page)
            for panel in group:
                col.addWidget(panel)
            col.addStretch(1)
            scroll = QScrollArea()
            scroll.setWidget(page)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            self.tabs.addTab(scroll, title)
        self.tabs.setMinimumWidth(470)
        self.features_tab = self.tabs.count() - 3
        self.path_tab = self.tabs.widget(self.tabs.count() - 2)
        self.tabs.currentChanged.connect(lambda _i: self.request_render())
        self.tabs.currentChanged.connect(
            lambda i: self._clear_marks() if i != self.features_tab else self._mark_blob()
        )
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.image_area)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([770, 510])

        welcome = QWidget()
        wl = QVBoxLayout(welcome)
        wl.addStretch(1)
        title = QLabel(
            "<h2>StyleGAN2 Explorer</h2><p>Open a network to start: NVIDIA "
            "stylegan2-ada-pytorch or TensorFlow StyleGAN2 <tt>.pkl</tt>, rosinality "
            "<tt>.pt</tt>, or our <tt>.safetensors</tt>. You can also drop a file here."
            "</p><p>No code stored in a file is ever run.</p>"
        )
        title.setWordWrap(True)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome_error = QLabel("")
        self.welcome_error.setStyleSheet("color: #f28b82;")
        self.welcome_error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome_error.setWordWrap(True)
        open_btn = QPushButton("Open network…")
        open_btn.clicked.connect(self.open_dialog)
        wl.addWidget(title)
        wl.addWidget(open_btn, 0, Qt.AlignmentFlag.AlignCenter)
        wl.addWidget(self.welcome_error)
        wl.addStretch(1)

        self.stack = QStackedWidget()
        self.stack.addWidget(welcome)
        self.stack.addWidget(splitter)
        self.setCentralWidget(self.stack)

        self.net_label = QLabel("no network")
        self.pixel_label = QLabel("")
        self.time_label = QLabel("")
        self.statusBar().addWidget(self.net_label, 1)
        self.statusBar().addPermanentWidget(self.pixel_label)
        self.statusBar().addPermanentWidget(self.time_label)
        self._actions()
        self.resize(1280, 800)

    def _actions(self) -> None:
        tb = self.addToolBar("Main")
        tb.setMovable(False)

        def act(text, slot, shortcut=None, checkable=False) -> QAction:
            a = QAction(text, self)
            a.triggered.connect(slot)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.setCheckable(checkable)
            tb.addAction(a)
            return a

        act("Open network…", self.open_dialog, "Ctrl+O")
        self.recent_button = QToolButton()
        self.recent_button.setText("Recent")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.recent_button.setMenu(self.recent_menu)
        tb.addWidget(self.recent_button)
        self.compare_button = QToolButton()
        self.compare_button.setText("Compare")
        self.compare_button.setToolTip(
            "Show a second network beside this one, driven by the same seed and controls"
        )
        self.compare_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.compare_menu = QMenu(self)
        self.compare_menu.aboutToShow.connect(self._fill_compare)
        self.compare_button.setMenu(self.compare_menu)
        tb.addWidget(self.compare_button)
        tb.addSeparator()
        act("Save image…", self.save_image_dialog, "Ctrl+S")
        act("Copy", self.copy_image, "Ctrl+C")
        act("Save state…", self.save_state_dialog)
        act("Load state…", self.load_state_dialog)
        tb.addSeparator()
        act("Fit", self.view.fit, "F")
        act("1:1", self.view.actual_size, "1")
        self.smooth_action = act("Smooth", lambda on: self.view.set_smooth(on), checkable=True)
        tb.addSeparator()
        act("LPIPS weights…", self.lpips_dialog)

    # Networks -----------------------------------------------------------------------------------
    def open_network(self, path: str) -> None:
        self.net_label.setText(f"loading {Path(path).name}…")
        self.worker.load_network(path, self.device)

    def open_dialog(self) -> None:
        start = str(Path(self.network_path).parent) if self.network_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open network", start, NETWORK_FILTER)
        if path:
            self.open_network(path)

    def _on_network(self, info: dict, path: str) -> None:
        self.network_path, self.network_info = path, info
        self.stack.setCurrentIndex(1)
        self.welcome_error.setText("")
        self.truncation.set_num_ws(info["num_ws"])
        self.noise.set_layers(info["layers"])
        self.mixing.set_layers(info["layers"], info["num_ws"])
        self.directions.set_num_ws(info["num_ws"])
        self.features.set_layers(info["layers"])
        self.performance.set_preview_available(info["architecture"] == "skip")
        self.latent.set_num_classes(info["c_dim"])
        self.performance.set_device(info["device"], info["device"].startswith("cuda"))
        self.net_label.setText(
            f"{Path(path).name} — {info['format']}, {info['resolution']} px, "
            f"{info['num_ws']} ws, {info['normalization']}, {info['architecture']}"
        )
        recent = [p for p in self._recent() if p != path]
        self.settings.setValue("recent_networks", [path, *recent][:10])
        self.shown_id = 0
        self.view.image = None
        if self.compare_info is not None and self.compare_path is not None:
            self._on_compare(self.compare_info, self.compare_path)  # captions, feature layers
        self.request_render()

    def _on_network_failed(self, path: str, error: str) -> None:
        msg = f"Could not open {Path(path).name}: {error}"
        log.warning(msg)
        if self.network_path is None:
            self.welcome_error.setText(msg)
            self.net_label.setText("no network")
        else:
            self.net_label.setText(f"{msg} — still showing {Path(self.network_path).name}")

    def network_loaded_once(self, fn) -> None:
        """Call fn once, after the next main network has loaded (the CLI's --compare)."""

        def once(_info, _path) -> None:
            self.worker.network_loaded.disconnect(once)
            fn()

        self.worker.network_loaded.connect(once)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self._recent()
        for path in recent:
            a = self.recent_menu.addAction(Path(path).name)
            a.setToolTip(path)
            a.setEnabled(Path(path).is_file())
            a.triggered.connect(lambda _=False, p=path: self.open_network(p))
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _recent(self) -> list[str]:
        value = self.settings.value("recent_networks", [])
        return [value] if isinstance(value, str) else list(value or [])

    def most_recent_network(self) -> str | None:
        return next((p for p in self._recent() if Path(p).is_file()), None)

    # Rendering ----------------------------------------------------------------------------------
    def request_render(self) -> None:
        """Render the state; with preview on, a cheap partial image now and the full one once the
        state has been still for a moment (each newer request replaces the older)."""
        if self.network_info is None:
            return
        factor = self.performance.preview_factor()
        if factor:
            res = max(self.network_info["resolution"] // factor, 4)
            req = dataclasses.replace(self._request(), preview_resolution=res)
            self.worker.submit(req)
            self.next_id += 1
            self.full_timer.start()
            return
        self._submit_full()

    def _submit_full(self) -> None:
        self.worker.submit(self._request())
        self.next_id += 1

    def _request(self):
        """The state's request; captures the feature layer only while its tab is shown."""
        layer = self.features.current_layer()
        capture = (layer,) if layer and self.tabs.currentIndex() == self.features_tab else ()
        return self.model.state.to_request(request_id=self.next_id, capture=capture)

    def _on_result(self, result: RenderResult) -> None:
        if result.request_id <= self.shown_id:
            return  # stale: a newer image is already on screen
        self.shown_id = result.request_id
        if result.error:
            self.net_label.setText(f"render error: {result.error}")
            return
        first = self.view.image is None
        self.last_result = result
        self.view.set_image(result.image)
        self.latent.show_w(result.ws)
        twin = result.twin if self.compare_path is not None else None
        if twin is not None:
            if twin.error or twin.image is None:
                self.twin_notes.setText(f"render error: {twin.error}")
            else:
                self.twin_view.set_image(twin.image)
                self.twin_notes.setText("  ".join(result.notes))
        if result.captures and result.preview_resolution is None:
            self.features.show_capture(
                result.captures, twin.captures if twin is not None and not twin.error else None
            )
        self.performance.frame(result.timings, preview=result.preview_resolution is not None)
        kind = "preview" if result.preview_resolution else "frame"
        text = f"{kind} {result.timings.get('total', 0):.0f} ms"
        if self.path_panel.active and self.tabs.currentWidget() is self.path_tab:
            v = self.path_panel.value_at(self.path_panel.time())
            if v is not None:
                text = f"path length here {v:.3g}   " + text
        self.time_label.setText(text)
        if first:
            self.first_image_shown.emit()

    def mixing_grid(self, rows: list[int], cols: list[int], styles: list[int]) -> None:
        from stylegan2.render import style_mixing_grid

        s = self.model.state
        self.statusBar().showMessage(f"rendering a {len(rows)}x{len(cols)} mixing grid…")
        self.worker.run_job(
            "mixing-grid",
            lambda r: style_mixing_grid(r, rows, cols, styles, s.psi, s.cutoff, s.noise_mode),
        )

    def _mark_blob(self) -> None:
        """Circle the strongest blob of the shown layer on the image (scaled to its pixels)."""
        name, peak = self.features.current_layer(), self.features.peak
        if (
            name is None
            or peak is None
            or self.network_info is None
            or not self.features.mark.isChecked()
        ):
            self.view.mark(None)
            self.twin_view.mark(None)
            return
        res = next(x.resolution for x in self.network_info["layers"] if x.name == name)
        scale = self.network_info["resolution"] / res
        self.view.mark(((peak[1] + 0.5) * scale - 0.5, (peak[0] + 0.5) * scale - 0.5))
        twin_peak, info = self.features.twin_peak, self.compare_info
        twin_res = next((x.resolution for x in (info or {}).get("layers", []) if x.name == name), 0)
        if twin_peak is None or info is None or not twin_res:
            self.twin_view.mark(None)
            return
        scale = info["resolution"] / twin_res
        self.twin_view.mark(
            ((twin_peak[1] + 0.5) * scale - 0.5, (twin_peak[0] + 0.5) * scale - 0.5)
        )

    def _clear_marks(self) -> None:
        self.view.mark(None)
        self.twin_view.mark(None)

    def blob_scores_all_layers(self) -> None:
        from stylegan2.blobs import blob_score

        req = self.model.state.to_request()

        def run(renderer, twin=False):
            from stylegan2.compare import adapt_request

            layers = [x for x in renderer.G.layers() if x.kind != "torgb"]
            r = dataclasses.replace(req, capture=tuple(x.name for x in layers))
            if twin:
                r = adapt_request(r, renderer.G)[0]
            result = renderer.render(r)
            if result.error:
                raise ValueError(result.error)
            scores = {x.name: blob_score(result.captures[x.name]) for x in layers}
            return [
                (
                    x.name,
                    x.resolution,
                    scores[x.name].peak_to_median,
                    scores[x.name].top_energy_share,
                )
                for x in layers
            ]

        self.worker.run_job("blob-scores", run, both=True)

    def resolution_usage(self) -> None:
        from stylegan2.analysis import resolution_usage

        if self.network_info is None or self.network_info["architecture"] != "skip":
            self.statusBar().showMessage("resolution usage needs a skip generator", 6000)
            return
        req = self.model.state.to_request()

        def run(renderer, twin=False):
            from stylegan2.compare import adapt_request

            G = renderer.G
            if G.cfg.synthesis.architecture != "skip":
                return None
            r = adapt_request(req, G)[0] if twin else req
            with torch.no_grad():
                this = resolution_usage(G, renderer.request_ws(r))
                gen = torch.Generator().manual_seed(0)
                z = torch.randn([256, G.z_dim], generator=gen).to(G.device)
                c = None
                if G.c_dim:
                    c = torch.nn.functional.one_hot(torch.arange(256) % G.c_dim, G.c_dim)
                    c = c.float().to(G.device)
                ws = G.mapping(z, c, truncation_psi=r.psi, truncation_cutoff=r.cutoff)
                return [this, resolution_usage(G, ws)]

        self.worker.run_job("usage", run, both=True)

    # Paths --------------------------------------------------------------------------------------
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
        from stylegan2.video import VideoError, output_kind, write_frames

        path = self.path_panel.path(self.model.state.to_request())
        if path is None or self.network_info is None:
            self.statusBar().showMessage("a path needs at least two keyframes", 6000)
            return False
        try:
            output_kind(out)
        except VideoError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return False
        fps = self.path_panel.fps.value()
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
                    yield image

            try:
                n = write_frames(out, frames(), fps, cancelled=cancel.is_set)
            except VideoError as exc:
                raise ValueError(str(exc)) from None
            return out, n

        self.worker.run_job("video", run, pair=True)  # twin is None unless comparing
        return True

    # Projection ---------------------------------------------------------------------------------
    def open_target_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Image to project", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp);;All (*)"
        )
        if path:
            self.load_target(path)

    def load_target(self, path: str) -> bool:
        from stylegan2.cli.common import CLIError
        from stylegan2.cli.project import load_image
        from stylegan2.projection import prepare_target

        if self.network_info is None:
            return False
        try:
            image = load_image(path)
        except CLIError as exc:
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
        weights = self.settings.value("lpips_weights") or None
        update = self.worker.job_update

        def run(renderer):
            dist = load_distance(weights, renderer.device)

            def cb(step) -> bool:
                image = None if step.image is None else to_uint8(step.image[None])[0]
                update.emit("projection", (step.step, step.distance, image, cfg.num_steps))
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

    def _on_job_update(self, name: str, payload) -> None:
        if name == "projection":
            self.projection.progress(*payload)

    def _on_job_progress(self, name: str, done: int, total: int) -> None:
        if name == "directions":
            self.directions.info.setText(f"PCA: sampled {done:,} of {total:,} w's")
            return
        if name == "video" and getattr(self, "export_progress", None) is not None:
            self.export_progress.setValue(done)

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
            weights = self.settings.value("lpips_weights") or None
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

    def compute_directions(self, method: str, lo: int, hi: int, top: int) -> None:
        from stylegan2.directions import pca, sefa

        if method == "sefa":
            self.worker.run_job("directions", lambda r: sefa(r.G, (lo, hi), top))
            return
        # PCA of W depends only on the network: sample once per network, re-range for free.
        key = (self.network_path, top)
        cached = self._pca_cache.get(key)
        if cached is not None:
            self.directions.set_directions(dataclasses.replace(cached, layers=(lo, hi)))
            return
        progress = self.worker.job_progress
        n = 100_000

        def run(renderer):
            done = [0]

            def tick(k: int) -> None:
                done[0] += k
                progress.emit("directions", done[0], n)

            d = pca(renderer.G, n, (lo, hi), top, progress=tick)
            self._pca_cache[key] = d
            return d

        self.worker.run_job("directions", run)

    def save_one_direction_dialog(self, k: int) -> None:
        from PySide6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(self, "Name the direction", "Name:", text=f"direction {k}")
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save direction", f"{name}.npz", "*.npz")
        if path:
            try:
                self.directions.single(k, name).save(path)
            except OSError as exc:
                self.statusBar().showMessage(f"cannot write {path}: {exc.strerror}", 8000)

    def load_directions_dialog(self) -> None:
        from stylegan2.directions import Directions

        path, _ = QFileDialog.getOpenFileName(self, "Load directions", "", "Directions (*.npz)")
        if not path:
            return
        try:
            d = Directions.load(path)
            if self.network_info and (
                d.vectors.shape[1] != self.network_info["w_dim"]
                or d.layers[1] >= self.network_info["num_ws"]
            ):
                raise ValueError("made for a different network")
        except ValueError as exc:
            self.statusBar().showMessage(f"cannot use {Path(path).name}: {exc}", 8000)
            return
        self.directions.set_directions(d)

    def save_directions_dialog(self) -> None:
        if self.directions.directions is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save directions", "directions.npz", "*.npz")
        if path:
            try:
                self.directions.directions.save(path)
            except OSError as exc:
                self.statusBar().showMessage(f"cannot write {path}: {exc.strerror}", 8000)

    def _on_job(self, name: str, result, error: str) -> None:
        if error and name == "projection":
            self.projection.finished(None, f"projection failed: {error}")
            return
        if error:
            self.statusBar().showMessage(f"{name} failed: {error}", 8000)
            return
        self.statusBar().clearMessage()
        if name == "usage":
            main, twin = result
            if twin is None:
                self.features.show_usage(main)
            else:
                a, b = self.features.names
                labels = [f"{a[:8]} this", f"{a[:8]} avg", f"{b[:8]} this", f"{b[:8]} avg"]
                self.features.show_usage(main + twin, labels)
            return
        if name == "blob-scores":
            self.features.show_all_scores(*result)
            return
        if name == "projection":
            ws, steps, dist_name = result
            cancelled = self._project_cancel.is_set()
            self.projection.finished(
                ws, f"{'cancelled' if cancelled else 'done'} after {steps} steps [{dist_name}]"
            )
            return
        if name == "video":
            if getattr(self, "export_progress", None) is not None:
                self.export_progress.close()
            out, n = result
            msg = f"wrote {n} frames to {out}" if n else "export cancelled; nothing written"
            self.statusBar().showMessage(msg, 8000)
            return
        if name == "ppl":
            generation, t, value, dist_name = result
            if generation == self.ppl_generation:
                self.path_panel.add_sample(t, value, dist_name)
            return
        if name == "directions":
            self.directions.set_directions(result)
            return
        if name == "mixing-grid":
            from explorer.image_dialog import ImageDialog

            self.grid_dialog = ImageDialog(self, "Style-mixing grid", result, "mixing-grid.png")
            self.grid_dialog.show()

    # Files --------------------------------------------------------------------------------------
    def save_image_dialog(self) -> None:
        if self.last_result is None:
            return
        name = f"seed{self.model.state.seed:04d}.png"
        path, _ = QFileDialog.getSaveFileName(self, "Save image", name, "PNG (*.png)")
        if path:
            self.save_image(path)

    def save_image(self, path: str) -> bool:
        from stylegan2.cli.common import CLIError, save_png

        try:
            save_png(self.last_result.image, path)
        except CLIError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return False
        self.statusBar().showMessage(f"saved {path}", 4000)
        return True

    def copy_image(self) -> None:
        if self.last_result is None:
            return
        img = self.last_result.image
        h, w, c = img.shape
        fmt = QImage.Format.Format_RGB888 if c == 3 else QImage.Format.Format_Grayscale8
        QGuiApplication.clipboard().setImage(QImage(img.tobytes(), w, h, w * c, fmt).copy())

    def load_w_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load w", "", "Latents (*.npz *.npy)")
        if path:
            self.load_w(path)

    def load_w(self, path: str) -> bool:
        from stylegan2.latents import LatentFileError, load_w

        if self.network_info is None:
            return False
        try:
            w = load_w(path, self.network_info["num_ws"], self.network_info["w_dim"])
        except LatentFileError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return False
        self.model.update(w=w.tolist())
        self.statusBar().showMessage(f"using w from {Path(path).name}", 4000)
        return True

    def save_w_dialog(self) -> None:
        if self.last_result is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save w", "projected_w.npz", "NumPy (*.npz *.npy)"
        )
        if path:
            from stylegan2.latents import LatentFileError, save_w

            try:
                save_w(path, self.last_result.ws)
            except LatentFileError as exc:
                self.statusBar().showMessage(str(exc), 8000)

    def save_state_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save state", "state.json", "JSON (*.json)")
        if path:
            try:
                self.model.state.save(path)
            except OSError as exc:
                self.statusBar().showMessage(f"cannot write {path}: {exc.strerror}", 8000)

    def load_state_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load state", "", "JSON (*.json)")
        if path:
            self.load_state(path)

    def load_state(self, path: str) -> bool:
        try:
            self.model.replace_all(ExplorerState.load(path))
        except (OSError, ValueError, TypeError) as exc:
            self.statusBar().showMessage(f"cannot load {Path(path).name}: {exc}", 8000)
            return False
        return True

    def dragEnterEvent(self, e) -> None:
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:
        for url in e.mimeData().urls():
            path = url.toLocalFile()
            suffix = Path(path).suffix.lower()
            if suffix == ".json":
                self.load_state(path)
            elif suffix in (".npy", ".npz"):
                self.load_w(path)
            elif suffix in (".png", ".jpg", ".jpeg", ".webp", ".bmp"):
                self.load_target(path)
            else:
                self.open_network(path)

    # Lifetime -----------------------------------------------------------------------------------
    def restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.settings.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        text = self.settings.value("last_state")
        if isinstance(text, str):
            with contextlib.suppress(ValueError, TypeError):  # a stale format is not worth a word
                self.model.replace_all(ExplorerState.from_json(text))

    def closeEvent(self, e) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("splitter", self.splitter.saveState())
        self.settings.setValue("last_state", self.model.state.to_json())
        self.latent.timer.stop()
        self.noise.timer.stop()
        self.worker.stop()
        self.collector.stop()
        super().closeEvent(e)

    def select_tab(self, name: str) -> bool:
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i).lower() == name.lower():
                self.tabs.setCurrentIndex(i)
                return True
        return False

    def screenshot_when_ready(
        self, path: str, timeout_ms: int = 120_000, wait_twin: bool = False
    ) -> None:
        """Save the whole window once the first image is shown (and, with `wait_twin`, the
        compare network's; on the Features tab also the all-layer blob chart and the resolution
        usage), or on timeout, then quit."""
        from PySide6.QtWidgets import QApplication

        def shoot() -> None:
            self.grab().save(path)
            self.close()
            QApplication.instance().quit()

        done: list[bool] = []
        pending = {"image"} | ({"twin"} if wait_twin else set())
        if self.tabs.currentIndex() == self.features_tab:
            pending |= {"blob-scores", "usage"}

        def once() -> None:
            if not done:
                done.append(True)
                shoot()

        def arrived(what: str) -> None:
            if what not in pending:
                return
            pending.discard(what)
            images_in = not pending & {"image", "twin"}
            if what in ("image", "twin") and images_in and pending:
                self._features_jobs()  # the charts need the networks in their final state
            if not pending:
                QTimer.singleShot(300, once)

        self.first_image_shown.connect(lambda: arrived("image"))
        self.worker.result_ready.connect(
            lambda r: arrived("twin") if r.twin is not None and r.twin.image is not None else None
        )
        self.worker.job_done.connect(lambda name, *_: arrived(name))
        self.worker.network_failed.connect(lambda *_: QTimer.singleShot(300, once))
        self.worker.compare_failed.connect(lambda *_: QTimer.singleShot(300, once))
        if self.network_path is None and not self.net_label.text().startswith("loading"):
            QTimer.singleShot(500, once)  # the welcome page is all there is to show
        QTimer.singleShot(timeout_ms, once)

    def _features_jobs(self) -> None:
        if not getattr(self, "_features_jobs_started", False):
            self._features_jobs_started = True
            self.blob_scores_all_layers()
            self.resolution_usage()
