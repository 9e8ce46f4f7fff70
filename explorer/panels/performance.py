"""Speed panel: render time (mapping / synthesis / conversion), frames per second, device,
a plot of recent frames, and the force-fp32 switch."""

from __future__ import annotations

import os
import time
from collections import deque

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
)

from explorer.panels.plots import CURVE_COLOR, small_plot
from explorer.panels.text_colors import note_label
from explorer.state import StateModel

STREAM_WINDOW_S = 2.0  # frames closer than this count as one stream


class PerformancePanel(QGroupBox):
    def __init__(self, model: StateModel) -> None:
        super().__init__("Speed")
        self.model = model
        lay = QVBoxLayout(self)
        self.label = QLabel("–")
        self.label.setStyleSheet("font-family: monospace;")
        lay.addWidget(self.label)
        self.plot = small_plot(110, "ms per frame", "the last 120 frames, newest right")
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.getPlotItem().getAxis("bottom").setStyle(showValues=False)
        self.curve = self.plot.plot(pen=pg.mkPen(CURVE_COLOR, width=1.5))
        # The newest frame as a dot: a line needs two frames, so the first would show nothing.
        self.newest = self.plot.plot(pen=None, symbol="o", symbolSize=6, symbolPen=None)
        self.newest.setSymbolBrush(pg.mkBrush(CURVE_COLOR))
        lay.addWidget(self.plot)
        form = QFormLayout()
        self.preview = QComboBox()
        self.preview.addItems(["off", "½ resolution", "¼ resolution"])
        self.preview.setToolTip(
            "While controls move, show the skip generator's partial image (blocks above it are "
            "not run), then the full image once they rest"
        )
        form.addRow("Preview while dragging", self.preview)
        self.preview_note = note_label(visible=False)
        form.addRow(self.preview_note)
        self.threads = QSpinBox()
        self.threads.setRange(1, max(os.cpu_count() or 1, 1))
        self.threads.setKeyboardTracking(False)
        self.threads.setToolTip(
            "CPU threads per frame. While other programs (a training run) keep the cores busy, "
            "fewer threads render faster: threads that wait for a busy core hold up the frame."
        )
        self.auto_threads = QCheckBox("Auto")
        self.auto_threads.setToolTip(
            "Choose the count from the cores other programs leave free, checked every few seconds"
        )
        row = QHBoxLayout()
        row.addWidget(self.threads, 1)
        row.addWidget(self.auto_threads)
        form.addRow("CPU threads", row)
        self.threads_note = note_label()  # what the count is and why
        form.addRow(self.threads_note)
        lay.addLayout(form)
        self.fp32 = QCheckBox("Force fp32 (CUDA networks with fp16 layers)")
        self.fp32.toggled.connect(lambda on: model.update(force_fp32=on))
        lay.addWidget(self.fp32)
        self.device = "–"
        self.times: deque[float] = deque(maxlen=120)
        # A fixed window that fills from the left: the first frames would otherwise sit centred.
        self.plot.setXRange(0, self.times.maxlen - 1, padding=0.02)
        self.last_full = 0.0
        self.last_preview = 0.0
        self.shown: deque[float] = deque(maxlen=30)

    def set_device(self, device: str, cuda: bool) -> None:
        self.device = device
        self.fp32.setEnabled(cuda)
        self.threads.setEnabled(not cuda)
        self.auto_threads.setEnabled(not cuda)

    def set_top_share(self, share: float | None, resolution: int) -> None:
        """From the model card's resolution usage: warn when previews, which skip the top
        resolution, will show little of the image."""
        faint = share is not None and share >= 0.5
        self.preview_note.setVisible(faint)
        self.preview_note.setText(
            f"Previews stop below {resolution} px, and this model draws {share:.0%} of its "
            f"image at {resolution} px: its previews will look faint."
            if faint
            else ""
        )

    def set_preview_available(self, available: bool) -> None:
        self.preview.setEnabled(available)
        if not available:
            self.preview.setCurrentIndex(0)
        self.preview.setToolTip(self.preview.toolTip() if available else "needs a skip generator")

    def preview_factor(self) -> int:
        return (0, 2, 4)[self.preview.currentIndex()]

    def rate_text(self, now: float, total_ms: float) -> str:
        """Frames shown per second while images stream (a drag, a path playing); between
        actions, idle time would make that a meaningless small number, so the render time's
        ceiling is shown instead."""
        recent = [t for t in self.shown if now - t <= STREAM_WINDOW_S]
        if len(recent) >= 3 and recent[-1] > recent[0]:
            return f"{(len(recent) - 1) / (recent[-1] - recent[0]):5.1f} fps shown"
        return f"up to {1000 / total_ms:.0f} fps" if total_ms > 0 else "–"

    def frame(self, timings: dict[str, float], preview: bool = False) -> None:
        if preview:
            self.last_preview = timings.get("total", 0.0)
        else:
            self.last_full = timings.get("total", 0.0)
        now = time.perf_counter()
        self.shown.append(now)
        self.times.append(timings.get("total", 0.0))
        self.label.setText(
            f"{timings.get('total', 0):.1f} ms  (map {timings.get('mapping', 0):.1f}, "
            f"synth {timings.get('synthesis', 0):.1f}, convert {timings.get('convert', 0):.1f})\n"
            f"{self.rate_text(now, timings.get('total', 0.0))} on {self.device}"
            + (
                f"\nfull {self.last_full:.1f} ms, preview {self.last_preview:.1f} ms"
                if self.last_preview
                else ""
            )
        )
        self.curve.setData(list(self.times))
        self.newest.setData([len(self.times) - 1], [self.times[-1]])
        # From zero: one frame, or equal ones, would otherwise give a zero-height range.
        self.plot.setYRange(0, max(max(self.times), 1.0) * 1.1, padding=0)
