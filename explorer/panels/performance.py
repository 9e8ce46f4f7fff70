"""Performance panel: render time (mapping / synthesis / conversion), frames per second, device,
a plot of recent frames, and the force-fp32 switch."""

from __future__ import annotations

import time
from collections import deque

import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QVBoxLayout

from explorer.state import StateModel


class PerformancePanel(QGroupBox):
    def __init__(self, model: StateModel) -> None:
        super().__init__("Performance")
        self.model = model
        lay = QVBoxLayout(self)
        self.label = QLabel("–")
        self.label.setStyleSheet("font-family: monospace;")
        lay.addWidget(self.label)
        self.plot = pg.PlotWidget()
        self.plot.setFixedHeight(90)
        self.plot.setBackground("#2b2d31")
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setLabel("left", "ms")
        self.plot.getPlotItem().getAxis("bottom").setStyle(showValues=False)
        self.curve = self.plot.plot(pen=pg.mkPen("#8ab4f8", width=1.5))
        lay.addWidget(self.plot)
        self.fp32 = QCheckBox("Force fp32 (CUDA networks with fp16 layers)")
        self.fp32.toggled.connect(lambda on: model.update(force_fp32=on))
        lay.addWidget(self.fp32)
        self.device = "–"
        self.times: deque[float] = deque(maxlen=120)
        self.shown: deque[float] = deque(maxlen=30)

    def set_device(self, device: str, cuda: bool) -> None:
        self.device = device
        self.fp32.setEnabled(cuda)

    def frame(self, timings: dict[str, float]) -> None:
        now = time.perf_counter()
        self.shown.append(now)
        self.times.append(timings.get("total", 0.0))
        fps = 0.0
        if len(self.shown) > 1 and self.shown[-1] > self.shown[0]:
            fps = (len(self.shown) - 1) / (self.shown[-1] - self.shown[0])
        self.label.setText(
            f"{timings.get('total', 0):7.1f} ms  (map {timings.get('mapping', 0):.1f}, "
            f"synth {timings.get('synthesis', 0):.1f}, convert {timings.get('convert', 0):.1f})\n"
            f"{fps:5.1f} fps on {self.device}"
        )
        self.curve.setData(list(self.times))
