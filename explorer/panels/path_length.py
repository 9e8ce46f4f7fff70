"""The Path tab's live path-length view: local path lengths sampled along the path, plotted
against time with a cursor at the scrubber, and a readout of the path and per-segment means."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from explorer.panels.plots import CURVE_COLOR, small_plot
from stylegan2.paths import Path


class PathLengthView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = small_plot(140, "path length", "t (s)")
        self.plot.setXRange(0, 1, padding=0.02)  # until there is a path: not pyqtgraph's ±500
        self.curve = self.plot.plot(pen=pg.mkPen(CURVE_COLOR, width=1.5), symbol="o", symbolSize=4)
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#f28b82"))
        self.plot.addItem(self.cursor)
        lay.addWidget(self.plot)
        self.readout = QLabel("")
        self.readout.setWordWrap(True)
        lay.addWidget(self.readout)
        self.samples: dict[float, float] = {}  # time -> local path length
        self.distance_name = ""

    def reset(self, duration: float | None) -> None:
        """A new or edited path (None: no path yet): forget the samples."""
        self.samples.clear()
        self.curve.setData([], [])
        self.plot.setXRange(0, duration if duration is not None else 1, padding=0.02)
        self.plot.enableAutoRange(axis="y")  # a zoom of the old readout does not carry over
        self.readout.setText("")

    def add_sample(self, t: float, value: float, distance_name: str, path: Path | None) -> None:
        self.samples[t] = value
        self.distance_name = distance_name
        ts = sorted(self.samples)
        self.curve.setData(ts, [self.samples[x] for x in ts])
        if path is None:
            return
        parts = []
        for i in range(path.segments):
            vals = [v for s, v in self.samples.items() if path.locate(s)[0] == i]
            if vals:
                parts.append(f"{i}: {np.mean(vals):.3g}")
        mean = float(np.mean(list(self.samples.values())))
        self.readout.setText(
            f"mean {mean:.4g} over {len(self.samples)} points · per segment "
            f"{', '.join(parts)}\n[{self.distance_name}]"
        )

    def value_at(self, t: float) -> float | None:
        """The sample nearest to t, if any."""
        if not self.samples:
            return None
        return self.samples[min(self.samples, key=lambda x: abs(x - t))]
