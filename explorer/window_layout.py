"""The main window's widgets: the image area (with the compare column), the tabbed panels, the
welcome page, the status bar and the toolbar. Signals of the panels are wired here to the
window's methods."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
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

from explorer.image_view import ImageView
from explorer.panels.directions import DirectionsPanel
from explorer.panels.features import FeaturesPanel
from explorer.panels.latent import LatentPanel
from explorer.panels.mixing import MixingPanel
from explorer.panels.noise import NoisePanel
from explorer.panels.path import PathPanel
from explorer.panels.performance import PerformancePanel
from explorer.panels.projection import ProjectionPanel
from explorer.panels.text_colors import note_label, text_color
from explorer.panels.truncation import TruncationPanel
from explorer.tab_names import TAB_NAMES


class LayoutMixin:
    """Builds the widgets of MainWindow and wires panel signals to its methods."""

    def _build(self) -> None:
        self.view = ImageView()
        self.view.hovered.connect(lambda text: self.pixel_label.setText(text))
        self.twin_view = ImageView()
        self.twin_view.hovered.connect(lambda text: self.pixel_label.setText(text))
        self.main_caption = QLabel("")
        self.twin_caption = QLabel("")
        self.twin_caption.setStyleSheet(f"color: {text_color('twin')};")
        self.twin_notes = note_label()
        self.image_area = QWidget()
        outer = QVBoxLayout(self.image_area)
        outer.setContentsMargins(0, 0, 0, 0)
        area = QHBoxLayout()
        outer.addLayout(area, 1)
        # The notes span both columns, so that the two images stay the same size and level.
        outer.addWidget(self.twin_notes)
        self.twin_column = QWidget()  # hidden as a whole, so the main view takes all the room
        for holder, caption, view in (
            (QWidget(), self.main_caption, self.view),
            (self.twin_column, self.twin_caption, self.twin_view),
        ):
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(caption)
            column.addWidget(view, 1)
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
        self.ppl_points = 0
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
        self.welcome_error.setStyleSheet(f"color: {text_color('error')};")
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
