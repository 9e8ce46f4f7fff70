"""Projection panel: open (or drop) a photo, watch the projection into W converge (target, current
image, distance curve), cancel at any time, then use the result as the current latent or as a
path keyframe. The optimisation runs as a worker job; this panel only shows its progress."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from explorer.image_view import ImageView
from explorer.panels.plots import CURVE_COLOR, ZOOM_HINT, plot_hint, small_plot
from explorer.panels.text_colors import note_label


class ProjectionPanel(QGroupBox):
    open_requested = Signal()
    start_requested = Signal()
    cancel_requested = Signal()
    use_requested = Signal()
    keyframe_requested = Signal()

    def __init__(self) -> None:
        super().__init__("Project an image into W")
        self.target: np.ndarray | None = None
        self.result_ws: np.ndarray | None = None
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.target_view, self.current_view = ImageView(True), ImageView(True)
        for v, caption in ((self.target_view, "target"), (self.current_view, "projection")):
            v.setFixedHeight(90)  # with the plot, the result buttons fit at 1280x800
            column = QVBoxLayout()
            column.setSpacing(0)
            column.addWidget(note_label(caption))
            column.addWidget(v)
            row.addLayout(column)
        lay.addLayout(row)
        self.plot = small_plot(84, "distance")
        self.plot.setToolTip(f"The distance to the target at each optimisation step. {ZOOM_HINT}")
        self.plot_hint = plot_hint(self.plot, "the distance to the target, step by step")
        self.curve = self.plot.plot(pen=pg.mkPen(CURVE_COLOR, width=1.5))
        lay.addWidget(self.plot)
        row = QHBoxLayout()
        open_btn = QPushButton("Open image…")
        self.steps = QSpinBox()
        self.steps.setRange(10, 5000)
        self.steps.setValue(1000)
        self.steps.setSuffix(" steps")
        self.w_plus = QCheckBox("W+")
        self.w_plus.setToolTip(
            "One w per layer instead of one w for all (fits better, edits worse)"
        )
        self.start = QPushButton("Project")
        self.cancel = QPushButton("Cancel")
        for w in (open_btn, self.steps, self.w_plus, self.start, self.cancel):
            row.addWidget(w)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.use = QPushButton("Use as current latent")
        self.keyframe = QPushButton("Add as path keyframe")
        row.addWidget(self.use)
        row.addWidget(self.keyframe)
        lay.addLayout(row)
        self.status = QLabel("Drop an image on the window or open one.")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.distances: list[float] = []
        open_btn.clicked.connect(self.open_requested)
        self.start.clicked.connect(self.start_requested)
        self.cancel.clicked.connect(self.cancel_requested)
        self.use.clicked.connect(self.use_requested)
        self.keyframe.clicked.connect(self.keyframe_requested)
        self.set_running(False)

    def set_target(self, target: np.ndarray, note: str) -> None:
        self.target = target
        self.result_ws = None
        self.target_view.set_image(target)
        self.target_view.fit()
        self.distances = []
        self.curve.setData([])
        self.plot_hint.setVisible(True)
        self.status.setText(f"target ready{': ' + note if note else ''}")
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        self.start.setEnabled(not running and self.target is not None)
        self.cancel.setEnabled(running)
        self.use.setEnabled(not running and self.result_ws is not None)
        self.keyframe.setEnabled(not running and self.result_ws is not None)

    def progress(self, step: int, distance: float, image: np.ndarray | None, total: int) -> None:
        self.distances.append(distance)
        self.curve.setData(self.distances)
        self.plot_hint.setVisible(False)
        if image is not None:
            self.current_view.set_image(image)
        self.status.setText(f"step {step + 1} / {total}: distance {distance:.4f}")

    def finished(self, ws: np.ndarray | None, message: str) -> None:
        self.result_ws = ws
        self.status.setText(message)
        self.set_running(False)
