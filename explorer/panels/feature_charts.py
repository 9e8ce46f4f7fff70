"""The Features tab's two charts: blob scores of every conv layer (peak / median, one bar per
layer, the compared network's beside) and resolution usage (each resolution's share of the image,
stacked, for this latent and the average of random ones). Each comes with the button that asks
for it and says how it fills while empty."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from explorer.panels.plots import CURVE_COLOR, TWIN_COLOR, plot_hint, small_plot

#: one colour per resolution of the resolution-usage bars, lowest first
USAGE_COLORS = (
    "#8ab4f8",
    "#81c995",
    "#fdd663",
    "#f28b82",
    "#c58af9",
    "#78d9ec",
    "#fcad70",
    "#ff8bcb",
    "#a8dab5",
)


def _short(name: str, n: int = 18) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def _distinct(a: str, b: str, n: int = 14) -> tuple[str, str]:
    """Two network names without what they share at the start ('faces64-stylegan2' and
    'faces64-adain' -> 'stylegan2', 'adain'), shortened, so that row labels tell them apart."""
    shorter = min(len(a), len(b))
    common = next((i for i in range(shorter) if a[i] != b[i]), shorter)
    cut = max(a.rfind(sep, 0, common) for sep in "-_ .") + 1
    if a == b or cut >= min(len(a), len(b)):
        cut = 0  # the same name, or one the start of the other: keep both whole
    return _short(a[cut:], n), _short(b[cut:], n)


MEASURING = "measuring every conv layer…"


class _Chart(QWidget):
    """A chart under the button that asks for its measurement."""

    requested = Signal()

    def __init__(self, button_text: str, tip: str) -> None:
        super().__init__()
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)
        button = QPushButton(button_text)
        button.setToolTip(tip)
        button.clicked.connect(self.requested)
        self.lay.addWidget(button)


class BlobChart(_Chart):
    """Blob scores of every conv layer of the latent on screen (`requested` measures them)."""

    def __init__(self) -> None:
        super().__init__(
            "Blob scores of all layers: measure again for this latent",
            "Render once capturing every conv layer and chart each one's blob score (peak / "
            "median of |x|); measured when the tab opens and after this button",
        )
        lay = self.lay
        self.plot = small_plot(120, "peak / median")
        self.hint = plot_hint(self.plot, MEASURING)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=CURVE_COLOR)
        self.plot.addItem(self.bars)
        self.twin_bars = pg.BarGraphItem(x=[], height=[], width=0.4, brush=TWIN_COLOR)
        self.plot.addItem(self.twin_bars)
        self.legend = self.plot.addLegend(offset=(4, 2), labelTextSize="8pt")
        lay.addWidget(self.plot)
        self.names = ("", "")  # (main, twin) network names in compare mode

    def set_names(self, main: str, twin: str) -> None:
        """The networks the bars are of (twin "": one network); their bars go."""
        self.names = (main, twin)
        self.twin_bars.setOpts(x=[], height=[])
        self.legend.clear()

    def failed(self, error: str) -> None:
        """The measurement failed: say so where the bars would be."""
        self.hint.setText(f"not measured: {error[:80]}")
        self.hint.setVisible(True)

    def clear(self) -> None:
        """No scores (they were another network's): the hint again."""
        self.bars.setOpts(x=[], height=[])
        self.twin_bars.setOpts(x=[], height=[])
        self.legend.clear()
        self.plot.getAxis("bottom").setTicks(None)
        self.plot.setXRange(0, 1)
        self.plot.setYRange(0, 1)
        self.hint.setText(MEASURING)
        self.hint.setVisible(True)

    def show_scores(
        self,
        table: list[tuple[str, int, float, float]],
        twin_table: list[tuple[str, int, float, float]] | None = None,
    ) -> None:
        """(layer, resolution, peak/median, top energy share) for every conv layer; in compare
        mode the second network's bars sit beside the first's, matched by layer name."""
        self.plot.enableAutoRange()  # new scores: a zoom into the old ones does not carry over
        self.hint.setVisible(False)
        xs = list(range(len(table)))
        self.legend.clear()
        if twin_table is None:
            self.bars.setOpts(x=xs, height=[row[2] for row in table], width=0.6)
            self.twin_bars.setOpts(x=[], height=[])
        else:
            index = {row[0]: i for i, row in enumerate(table)}
            pairs = [(index[row[0]], row[2]) for row in twin_table if row[0] in index]
            self.bars.setOpts(x=[x - 0.2 for x in xs], height=[row[2] for row in table], width=0.4)
            self.twin_bars.setOpts(
                x=[i + 0.2 for i, _ in pairs], height=[v for _, v in pairs], width=0.4
            )
            self.legend.addItem(self.bars, _short(self.names[0]) or "main")
            self.legend.addItem(self.twin_bars, _short(self.names[1]) or "compare")
        axis = self.plot.getAxis("bottom")
        axis.setTicks([[(i, row[0].replace(".conv", "c")) for i, row in enumerate(table)]])


class UsageChart(_Chart):
    """Resolution usage of this latent and of random ones (`requested` measures it)."""

    def __init__(self) -> None:
        super().__init__(
            "Resolution usage (this latent and 256 random)",
            "Share of each resolution's tRGB output in the image (std of the pixels it adds), "
            "as in the paper's Figure 8",
        )
        lay = self.lay
        self.plot = small_plot(110)
        self.plot.getAxis("left").setWidth(40)
        self.plot.setLabel("bottom", "share of the image (%)")
        self.plot.invertY(True)  # rows read top down: the first network's first
        self.hint = plot_hint(
            self.plot, "press the button above (renders 256 latents)", x=50, y=0.5
        )
        lay.addWidget(self.plot)
        self.legend = QLabel("")  # which colour is which resolution
        lay.addWidget(self.legend)
        self.names = ("", "")  # (main, twin) network names in compare mode
        self.clear()

    def set_names(self, main: str, twin: str) -> None:
        self.names = (main, twin)

    def clear(self) -> None:
        """No usage shown: the hint again."""
        self.plot.clear()
        self.plot.setFixedHeight(110)  # (a compare-mode chart grew to four rows)
        self.plot.getAxis("left").setTicks([[(0, "this"), (1, "avg")]])
        self.plot.addItem(self.hint)
        self.plot.setXRange(0, 100)
        self.plot.setYRange(0, 1)
        self.legend.setText("")

    def show(self, per_network: list[list[dict[int, float]] | None]) -> None:
        """Stacked horizontal bars: for each network (None: it has no usage to show), one row
        per usage dict (resolution -> share), this latent's and the average's. In compare
        mode each row is named by its network; a legend names the resolutions."""
        rows: list[dict[int, float]] = []
        labels: list[str] = []
        names = _distinct(*self.names) if self.names[1] else ("", "")
        for k, usage in enumerate(per_network[:2]):
            if usage is None:
                continue
            prefix = f"{names[k]} " if len(per_network) > 1 and names[k] else ""
            rows += usage
            labels += [f"{prefix}{what}" for what in ("this", "avg")][: len(usage)]
        axis = self.plot.getAxis("left")
        axis.setTicks([list(enumerate(labels))])
        width = max(QFontMetrics(axis.font()).horizontalAdvance(t) for t in labels) if labels else 0
        axis.setWidth(max(40, width + 14))
        self.plot.setFixedHeight(max(110, 30 * len(rows) + 50))
        self.plot.clear()
        resolutions = sorted({res for usage in rows for res in usage})
        self.legend.setText(
            "  ".join(
                f'<span style="color:{USAGE_COLORS[i % len(USAGE_COLORS)]}">■</span> {res} px'
                for i, res in enumerate(resolutions)
            )
        )
        for y, usage in enumerate(rows):
            left = 0.0
            for res, share in usage.items():
                width = 100 * share
                color = USAGE_COLORS[resolutions.index(res) % len(USAGE_COLORS)]
                bar = pg.BarGraphItem(x0=[left], y=[y], width=[width], height=0.6, brush=color)
                self.plot.addItem(bar)
                if width > 6:  # its resolution; with room, its share too
                    text = f"{res} px {width:.0f} %" if width > 18 else f"{res}"
                    label = pg.TextItem(text, color="#202124", anchor=(0.5, 0.5))
                    label.setPos(left + width / 2, y)
                    self.plot.addItem(label)
                left += width
        self.plot.setXRange(0, 100)
        self.plot.setYRange(-0.6, len(rows) - 0.4, padding=0)
