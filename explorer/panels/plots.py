"""The panels' small pyqtgraph plots: one look (dark, fixed height, plain axis numbers)."""

from __future__ import annotations

import pyqtgraph as pg

PLOT_BACKGROUND = "#2b2d31"
CURVE_COLOR = "#8ab4f8"


def small_plot(height: int, left: str | None = None, bottom: str | None = None) -> pg.PlotWidget:
    """A plot of `height` px with axis labels; numbers without SI prefixes (a distance of 0.002
    reads as that, not as 2 m), and room above the top tick label."""
    plot = pg.PlotWidget()
    plot.getPlotItem().setContentsMargins(2, 8, 8, 2)
    plot.setBackground(PLOT_BACKGROUND)
    plot.setFixedHeight(height)
    for side, text in (("left", left), ("bottom", bottom)):
        if text:
            plot.setLabel(side, text)
        plot.getAxis(side).enableAutoSIPrefix(False)
    return plot
