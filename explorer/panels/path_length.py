"""The Path tab's live path-length view: local path lengths sampled along the path, plotted
against time with a cursor at the scrubber (in compare mode one curve per network, named in a
legend), and a readout of the mean over the path and per segment."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from explorer.panels.plots import CURVE_COLOR, TWIN_COLOR, plot_hint, small_plot
from explorer.panels.text_colors import text_color
from stylegan2.paths import Path


class PathLengthView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = small_plot(140, "path length d/ε²", "t (s)")
        self.plot.setXRange(0, 1, padding=0.02)  # until there is a path: not pyqtgraph's ±500
        self.legend = self.plot.addLegend(offset=(-4, 2), labelTextSize="8pt")
        self.curves = [
            self.plot.plot(
                pen=pg.mkPen(color, width=1.5),
                symbol="o",
                symbolSize=4,
                symbolBrush=color,
                symbolPen=color,
            )
            for color in (CURVE_COLOR, TWIN_COLOR)
        ]
        self.hint = plot_hint(self.plot, "the path length along the path, once it has one")
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#f28b82"))
        self.plot.addItem(self.cursor)
        lay.addWidget(self.plot)
        self.readout = QLabel("")
        self.readout.setWordWrap(True)
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.readout)
        self.twin_readout = QLabel("")
        self.twin_readout.setWordWrap(True)
        self.twin_readout.setStyleSheet(f"color: {text_color('twin')};")
        self.twin_readout.setVisible(False)
        lay.addWidget(self.twin_readout)
        self.samples: dict[float, float] = {}  # time -> local path length (the first network)
        self.twin_samples: dict[float, float] = {}  # the same for a compared network
        self.twin_failures = 0  # points at which the compared network could not be measured
        self.names: tuple[str, ...] = ()  # the networks measured, first one first
        self.distance_name = ""

    def reset(self, duration: float | None, names: Sequence[str] = ()) -> None:
        """A new or edited path (None: no path yet) measured on the networks `names` (more
        than one: compare mode): forget the samples."""
        self.samples.clear()
        self.twin_samples.clear()
        self.twin_failures = 0
        self.names = tuple(names)
        for curve in self.curves:
            curve.setData([], [])
        self.legend.clear()
        if len(self.names) > 1:
            for curve, name in zip(self.curves, self.names, strict=False):
                self.legend.addItem(curve, name)
        self.plot.setXRange(0, duration if duration is not None else 1, padding=0.02)
        self.plot.enableAutoRange(axis="y")  # a zoom of the old readout does not carry over
        self.readout.setText("")
        self.twin_readout.setText("")
        self.twin_readout.setVisible(False)
        self.hint.setVisible(True)

    def add_sample(
        self,
        t: float,
        values: Sequence[float | None],
        distance_name: str,
        path: Path | None,
        keyframe_labels: Sequence[str] = (),
    ) -> None:
        """The path lengths at time t, one per network (None where a compared network could
        not be measured)."""
        self.distance_name = distance_name
        self.hint.setVisible(False)
        for samples, value in zip((self.samples, self.twin_samples), values, strict=False):
            if value is not None:
                samples[t] = value
        if len(values) > 1 and values[1] is None:
            self.twin_failures += 1
        for curve, samples in zip(self.curves, (self.samples, self.twin_samples), strict=True):
            ts = sorted(samples)
            curve.setData(ts, [samples[x] for x in ts])
        if path is None:
            return
        comparing = len(self.names) > 1
        lines = [
            _summary(samples, path, keyframe_labels, name if comparing else "")
            for samples, name in zip(
                (self.samples, self.twin_samples), self.names or ("",), strict=False
            )
        ]
        if comparing and self.twin_failures and not self.twin_samples:
            lines[1] = f"{self.names[1]}: could not be measured on this path (see the log)"
        self.readout.setText(f"{lines[0]}\n[{distance_name}]")
        self.twin_readout.setText(lines[1] if len(lines) > 1 else "")
        self.twin_readout.setVisible(len(lines) > 1)

    def value_at(self, t: float) -> float | None:
        """The first network's sample nearest to t, if any."""
        if not self.samples:
            return None
        return self.samples[min(self.samples, key=lambda x: abs(x - t))]


def segment_name(path: Path, i: int, labels: Sequence[str]) -> str:
    """Segment i as 'seed 0 → seed 1' from the keyframes' labels (its number without them)."""
    j = (i + 1) % len(path.keyframes)
    if len(labels) == len(path.keyframes):
        return f"{labels[i]} → {labels[j]}"
    return f"segment {i + 1}"


def _summary(samples: dict[float, float], path: Path, labels: Sequence[str], name: str) -> str:
    """One network's readout: the mean over the path and per segment."""
    prefix = f"{name}: " if name else ""
    if not samples:
        return f"{prefix}no values yet"
    parts = []
    for i in range(path.segments):
        vals = [v for s, v in samples.items() if path.locate(s)[0] == i]
        if vals:
            parts.append(f"{_unbroken(segment_name(path, i, labels))}:\u00a0{np.mean(vals):.3g}")
    mean = float(np.mean(list(samples.values())))
    return (
        f"{prefix}path length d/ε²: mean {mean:.4g} over {len(samples)} points · "
        f"per segment: {'; '.join(parts)}"
    )


def _unbroken(text: str, longest: int = 32) -> str:
    """A short segment name ("seed 1 → seed 2") with no-break spaces, so that a wrapped readout
    never splits it; a long one keeps its spaces, or it would set the panel's width."""
    return text.replace(" ", "\u00a0") if len(text) <= longest else text
