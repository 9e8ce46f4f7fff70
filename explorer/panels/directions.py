"""Directions panel: SeFa / PCA directions as sliders over a chosen layer range; save and load
direction files. Writes the summed offset into the state (`w_offset`)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.panels.widgets import FloatSlider
from explorer.state import StateModel
from stylegan2.directions import Directions


class DirectionsPanel(QGroupBox):
    compute_requested = Signal(str, int, int, int)  # method, first ws, last ws, top k
    load_requested = Signal()
    save_requested = Signal()

    def __init__(self, model: StateModel) -> None:
        super().__init__("Directions")
        self.model = model
        self.directions: Directions | None = None
        self.num_ws = 1
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.method = QComboBox()
        self.method.addItems(["SeFa (closed form)", "PCA of W (GANSpace)"])
        form.addRow("Method", self.method)
        row = QHBoxLayout()
        self.first, self.last, self.top = QSpinBox(), QSpinBox(), QSpinBox()
        self.top.setRange(1, 32)
        self.top.setValue(5)
        for label, w in (("ws", self.first), ("to", self.last), ("top", self.top)):
            row.addWidget(QLabel(label))
            row.addWidget(w, 1)
        form.addRow(row)
        lay.addLayout(form)
        row = QHBoxLayout()
        compute, load, save, reset = (
            QPushButton(t) for t in ("Compute", "Load…", "Save…", "Reset")
        )
        for b in (compute, load, save, reset):
            row.addWidget(b)
        lay.addLayout(row)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.slider_host = QWidget()
        self.sliders_layout = QFormLayout(self.slider_host)
        self.sliders_layout.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider_host)
        self.sliders: list[FloatSlider] = []
        compute.clicked.connect(self._compute)
        load.clicked.connect(self.load_requested)
        save.clicked.connect(self.save_requested)
        reset.clicked.connect(self.reset)

    def set_num_ws(self, num_ws: int) -> None:
        self.num_ws = num_ws
        for w in (self.first, self.last):
            w.setRange(0, num_ws - 1)
        self.first.setValue(0)
        self.last.setValue(num_ws - 1)
        self.set_directions(None)

    def _compute(self) -> None:
        method = "sefa" if self.method.currentIndex() == 0 else "pca"
        lo, hi = sorted((self.first.value(), self.last.value()))
        self.info.setText("computing…")
        self.compute_requested.emit(method, lo, hi, self.top.value())

    def set_directions(self, d: Directions | None) -> None:
        self.directions = d
        while self.sliders_layout.count():
            item = self.sliders_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.sliders = []
        if d is None:
            self.info.setText("")
            self.model.update(w_offset=None)
            return
        self.info.setText(f"{d.method.upper()}, ws {d.layers[0]}–{d.layers[1]}")
        span = 3.0 if d.method == "pca" else 10.0  # PCA strengths are in standard deviations
        for k, name in enumerate(d.names):
            s = FloatSlider(-span, span, span / 100, 0.0)
            s.setToolTip(name)
            s.value_changed.connect(lambda _v: self._apply())
            self.sliders_layout.addRow(QLabel(f"{k}"), s)
            self.sliders.append(s)
        self._apply()

    def reset(self) -> None:
        for s in self.sliders:
            s.set_value(0.0)
        self._apply()

    def _apply(self) -> None:
        d = self.directions
        if d is None:
            return
        off = np.zeros((self.num_ws, d.vectors.shape[1]), np.float32)
        for k, s in enumerate(self.sliders):
            if s.value() != 0:
                off += d.offset(k, s.value(), self.num_ws)
        self.model.update(w_offset=off.tolist() if off.any() else None)
