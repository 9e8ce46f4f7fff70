"""The main window: it builds the widgets, the context and one controller per feature, wires
them together, and holds the window's lifetime (settings, drops, closing). The work itself lives
in the controllers (explorer/controllers/, explorer/frames.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolButton

from explorer.context import Context, Preferences, Status
from explorer.controllers.card import CardController
from explorer.controllers.compare import CompareController
from explorer.controllers.directions import DirectionsController
from explorer.controllers.features import FeaturesController
from explorer.controllers.files import STATE_ERRORS, FilesController
from explorer.controllers.lpips import LpipsController
from explorer.controllers.mixing import MixingController
from explorer.controllers.network import NetworkController, url_argument
from explorer.controllers.path import PathController
from explorer.controllers.projection import ProjectionController
from explorer.controllers.speed import SpeedController
from explorer.frames import FrameController
from explorer.gc_guard import GuiThreadCollector
from explorer.path_model import PathModel
from explorer.state import StateModel
from explorer.tab_names import TAB_NAMES
from explorer.window_layout import build_ui
from explorer.worker import RenderWorker

log = logging.getLogger(__name__)
#: where restore() keeps a remembered session it could not read
UNREAD_SESSION_KEY = "last_state_unreadable"

__all__ = ["TAB_NAMES", "UNREAD_SESSION_KEY", "MainWindow"]


class MainWindow(QMainWindow):
    def __init__(self, device: str = "auto", settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("StyleGAN2 Explorer")
        self.setAcceptDrops(True)
        self.model = StateModel()
        self.collector = GuiThreadCollector(self)
        self.worker = RenderWorker()
        self.path_model = PathModel()
        self.ui = ui = build_ui(self.model, self.path_model)
        self.setCentralWidget(ui.stack)
        for label, stretch in ((ui.net_label, 1), (ui.pixel_label, 0), (ui.time_label, 0)):
            if stretch:
                self.statusBar().addWidget(label, stretch)
            else:
                self.statusBar().addPermanentWidget(label)
        prefs = Preferences(settings or QSettings("stylegan2-explorer", "explorer"))
        self.ctx = ctx = Context(
            self.worker, self.model, Status(self.statusBar(), ui.net_label), prefs, self, device
        )
        self.features = FeaturesController(ctx, ui.features, ui.area)
        # The frames and the path tab need each other's answers, asked for when a frame comes.
        self.frames = FrameController(
            ctx,
            ui.view,
            ui.time_label,
            ui.performance.preview_factor,
            self.features.capture,
            lambda frame: self.path.readout_text(frame),
        )
        self.lpips = LpipsController(ctx)
        self.path = PathController(
            ctx,
            ui.path,
            self.path_model,
            self.frames,
            lambda: ui.tabs.is_current("Path"),
            self.lpips,
        )
        self.network = NetworkController(ctx, ui, self.frames)
        self.compare = CompareController(ctx, ui.area, ui.features, self.frames)
        self.files = FilesController(ctx, self.frames, self.path, ui.latent, ui.directions)
        self.projection = ProjectionController(
            ctx, ui.projection, ui.path, lambda: ui.tabs.select("Latent"), self.lpips
        )
        self.directions = DirectionsController(ctx, ui.directions)
        self.mixing = MixingController(ctx, ui.mixing)
        self.speed = SpeedController(ctx, ui.performance, self.frames)
        self.card = CardController(ctx)
        self._wire()
        self.recent_menu, self.compare_menu = self._toolbar()
        self.resize(1280, 800)
        self.worker.start()

    def _wire(self) -> None:
        ui, frames = self.ui, self.frames
        for view in (ui.view, ui.twin_view):
            view.hovered.connect(ui.pixel_label.setText)
        frames.shown.connect(lambda frame: ui.latent.show_w(frame.main.ws))
        frames.shown.connect(self.features.show_frame)
        frames.shown.connect(
            lambda f: ui.performance.frame(f.main.timings, f.main.preview_resolution is not None)
        )
        ui.features.layer_changed.connect(frames.request_render)
        ui.tabs.currentChanged.connect(
            lambda _i: self.features.set_shown(ui.tabs.is_current("Features"))
        )
        ui.tabs.currentChanged.connect(lambda _i: frames.request_render())
        self.network.opened.connect(lambda _info: self.compare.recaption())
        # Path lengths are the networks': another network (or the first, under a path restored
        # before it loaded, or one compared with it) needs its own readout.
        self.network.opened.connect(lambda _info: self.path.networks_changed())
        self.compare.changed.connect(self.path.networks_changed)
        self.network.opened.connect(lambda _info: self.features.networks_changed())
        self.compare.changed.connect(self.features.networks_changed)
        self.network.opened.connect(lambda _info: self.card.refresh())
        self.network.opened.connect(lambda info: self.directions.offer_named(info.path))
        self.compare.changed.connect(self.card.refresh)

    def _toolbar(self) -> tuple[QMenu, QMenu]:
        """The toolbar; returns its Recent and Compare menus."""
        tb = self.addToolBar("Main")
        tb.setMovable(False)

        def act(text: str, slot: Callable, shortcut: str | None = None, check: bool = False):
            a = QAction(text, self)
            a.triggered.connect(slot)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.setCheckable(check)
            tb.addAction(a)
            return a

        def menu_button(text: str, fill: Callable[[QMenu], None], tip: str = "") -> QMenu:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            menu = QMenu(self)
            menu.aboutToShow.connect(lambda: fill(menu))
            button.setMenu(menu)
            tb.addWidget(button)
            return menu

        act("Open network…", self.network.open_dialog, "Ctrl+O")
        act("Open published network…", self.network.published_dialog)
        recent = menu_button("Recent", self.network.fill_recent)
        compare = menu_button(
            "Compare",
            self.compare.fill_menu,
            "Show a second network beside this one, driven by the same seed and controls",
        )
        act("Network card…", self.card.show).setToolTip(
            "What the open networks are: format, shape, parameters, and the model card a file "
            "carries (training, data, measured figures)"
        )
        tb.addSeparator()
        act("Save image…", self.files.save_image_dialog, "Ctrl+S")
        act("Copy", self.files.copy_image, "Ctrl+C")
        act("Save state…", self.files.save_state_dialog)
        act("Load state…", self.files.load_state_dialog)
        tb.addSeparator()
        view = self.ui.view
        act("Fit", view.fit, "F")
        act("1:1", view.actual_size, "1")
        act("Smooth", view.set_smooth, check=True)
        tb.addSeparator()
        act("LPIPS weights…", self.lpips.dialog)
        return recent, compare

    # Lifetime -----------------------------------------------------------------------------------
    def restore(self) -> None:
        prefs = self.ctx.prefs
        geometry = prefs.get_bytes("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)  # (returns False for bytes it cannot use)
        splitter = prefs.get_bytes("splitter")
        if splitter is not None:
            self.ui.splitter.restoreState(splitter)
        text = prefs.get("last_state")
        if isinstance(text, str):
            # A stale or damaged session must never stop the app from starting, and is kept
            # aside rather than replaced on close (a newer version may have written it).
            try:
                self.files.apply_state_text(text)
            except STATE_ERRORS as exc:
                prefs.settings.setValue(UNREAD_SESSION_KEY, text)
                self.ctx.status.say(
                    f"the remembered session could not be read ({exc}); "
                    f"it is kept in the settings as {UNREAD_SESSION_KEY}",
                    10000,
                )

    def dragEnterEvent(self, e) -> None:
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:
        # Whatever a dropped file does, the window stays: a failure is a status-bar line.
        try:
            paths = [url_argument(url) for url in e.mimeData().urls()]
            self.files.open_dropped(paths, self.network.open, self.projection.load_target)
        except Exception as exc:
            log.exception("dropping %s", e.mimeData().urls())
            self.ctx.status.say(f"cannot open what was dropped: {type(exc).__name__}: {exc}", 8000)

    def closeEvent(self, e) -> None:
        prefs = self.ctx.prefs
        prefs.set("geometry", self.saveGeometry())
        prefs.set("splitter", self.ui.splitter.saveState())
        prefs.set("last_state", self.files.state_text())
        for timer in self.findChildren(QTimer):  # animations, playback, readouts: all of them
            timer.stop()
        self.ctx.fetcher.stop()
        self.worker.stop()
        self.collector.stop()
        super().closeEvent(e)
