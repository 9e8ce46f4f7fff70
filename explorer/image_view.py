"""The image view: fit / 1:1 / zoom and pan (wheel and drag), nearest or smooth scaling, and the
pixel under the cursor. Built on pyqtgraph (one ImageItem updated in place)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QPainter, QWheelEvent

from explorer.panels.plots import zooms

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


class ImageView(pg.GraphicsLayoutWidget):
    hovered = Signal(str)  # "x, y: r g b" or ""

    def __init__(self, in_panel: bool = False) -> None:
        """`in_panel`: the view sits in the scrolling side panel, so only Ctrl + wheel zooms."""
        super().__init__()
        self.in_panel = in_panel
        self.setBackground("#202124")
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view.setDefaultPadding(0.01)
        self.item = pg.ImageItem()
        self.view.addItem(self.item)
        self.image: np.ndarray | None = None
        self.values: np.ndarray | None = None
        self.marker = pg.ScatterPlotItem(
            size=14, pen=pg.mkPen("#f28b82", width=2), brush=None, symbol="o"
        )
        self.view.addItem(self.marker)
        self.scene().sigMouseMoved.connect(self._on_move)

    def set_image(self, image: np.ndarray, values: np.ndarray | None = None) -> None:
        """uint8 HWC (C = 1 or 3). `values` [K, H, W] (same H, W) replaces the pixel readout with
        the underlying numbers, e.g. raw feature-map activations."""
        first = self.image is None or self.image.shape != image.shape
        self.image = image
        self.values = values
        self.item.setImage(
            image[:, :, 0] if image.shape[2] == 1 else image, autoLevels=False, levels=(0, 255)
        )
        if first:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self.in_panel or zooms(event):
            super().wheelEvent(event)

    def mark(self, point: tuple[float, float] | None) -> None:
        """Circle one image position (x, y in pixels), or clear the mark."""
        self.marker.setData([] if point is None else [{"pos": (point[0] + 0.5, point[1] + 0.5)}])

    def fit(self) -> None:
        if self.image is not None:
            self.view.autoRange(padding=0.01)

    def actual_size(self) -> None:
        """One image pixel per screen pixel, centred."""
        if self.image is None:
            return
        h, w = self.image.shape[:2]
        vw, vh = self.view.width(), self.view.height()
        ratio = self.devicePixelRatioF()
        sx, sy = vw * ratio, vh * ratio
        cx, cy = w / 2, h / 2
        self.view.setRange(
            xRange=(cx - sx / 2, cx + sx / 2), yRange=(cy - sy / 2, cy + sy / 2), padding=0
        )

    def set_smooth(self, smooth: bool) -> None:
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        self.viewport().update()

    def _on_move(self, pos: QPointF) -> None:
        if self.image is None or not self.view.sceneBoundingRect().contains(pos):
            self.hovered.emit("")
            return
        p = self.view.mapSceneToView(pos)
        x, y = int(np.floor(p.x())), int(np.floor(p.y()))
        h, w = self.image.shape[:2]
        if 0 <= x < w and 0 <= y < h:
            if self.values is not None and self.values.shape[1:] == (h, w):
                px = " ".join(f"{float(v):+.4g}" for v in self.values[:, y, x])
            else:
                px = " ".join(str(int(v)) for v in self.image[y, x])
            self.hovered.emit(f"x {x}, y {y}: {px}")
        else:
            self.hovered.emit("")
