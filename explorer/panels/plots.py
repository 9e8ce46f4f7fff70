"""The panels' small pyqtgraph plots: one look (dark, fixed height, plain axis numbers), and the
wheel left to the side panel's scrolling unless Ctrl is held."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QWheelEvent

from explorer.panels.text_colors import on_dark

ZOOM_MODIFIER = Qt.KeyboardModifier.ControlModifier
ZOOM_HINT = "Ctrl + wheel zooms, drag pans, the small A button resets"


def zooms(event: QWheelEvent) -> bool:
    """Whether a wheel event over a plot in the side panel zooms it; without Ctrl it is left to
    the panel, which scrolls (otherwise scrolling the panel zooms whatever plot passes under)."""
    if event.modifiers() & ZOOM_MODIFIER:
        return True
    event.ignore()
    return False


class PanelPlot(pg.PlotWidget):
    def wheelEvent(self, event: QWheelEvent) -> None:
        if zooms(event):
            super().wheelEvent(event)


PLOT_BACKGROUND = "#2b2d31"
CURVE_COLOR = "#8ab4f8"
TWIN_COLOR = on_dark("twin")  # a compared network's curves and bars


def small_plot(height: int, left: str | None = None, bottom: str | None = None) -> pg.PlotWidget:
    """A plot of `height` px with axis labels; numbers without SI prefixes (a distance of 0.002
    reads as that, not as 2 m), and room above the top tick label."""
    plot = PanelPlot()
    plot.setToolTip(ZOOM_HINT)
    plot.getPlotItem().setContentsMargins(2, 8, 8, 2)
    plot.setBackground(PLOT_BACKGROUND)
    plot.setFixedHeight(height)
    for side, text in (("left", left), ("bottom", bottom)):
        if text:
            plot.setLabel(side, text)
        plot.getAxis(side).enableAutoSIPrefix(False)
    return plot


def plot_hint(plot: pg.PlotWidget, text: str, x: float = 0.5, y: float = 0.5) -> pg.TextItem:
    """Grey text centred at (x, y) of an empty plot, saying how it fills (hide it then)."""
    hint = pg.TextItem(text, color=on_dark("dim"), anchor=(0.5, 0.5))
    hint.setPos(x, y)
    plot.addItem(hint)
    return hint
