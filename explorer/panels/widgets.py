"""Small shared widgets: a float slider with a spin box, and the latent drag pad."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSlider, QWidget


class FloatSlider(QWidget):
    """A slider and a spin box showing the same float; emits value_changed(float) while dragging."""

    value_changed = Signal(float)

    def __init__(self, lo: float, hi: float, step: float, value: float, decimals: int = 2) -> None:
        super().__init__()
        self._lo, self._step = lo, step
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, round((hi - lo) / step))
        self.spin = QDoubleSpinBox()
        self.spin.setRange(lo, hi)
        self.spin.setSingleStep(step)
        self.spin.setDecimals(decimals)
        self.spin.setKeyboardTracking(False)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.spin)
        self.set_value(value)
        self.slider.valueChanged.connect(lambda v: self._emit(self._lo + v * self._step))
        self.spin.valueChanged.connect(self._emit)

    def value(self) -> float:
        return self.spin.value()

    def set_value(self, value: float) -> None:
        for w in (self.slider, self.spin):
            w.blockSignals(True)
        self.spin.setValue(value)
        self.slider.setValue(round((value - self._lo) / self._step))
        for w in (self.slider, self.spin):
            w.blockSignals(False)

    def _emit(self, value: float) -> None:
        value = round(value, 6)
        self.set_value(value)
        self.value_changed.emit(value)


class DragPad(QWidget):
    """Drag to move through the seed plane continuously: 100 px of drag is one seed step. The
    plane is drawn under a fixed dot, x growing to the right and y upwards."""

    moved = Signal(float, float)  # (dx, dy) in seeds

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumHeight(72)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip("Drag to blend continuously between neighbouring seeds in W")
        self._last: QPointF | None = None
        self.position = (0.0, 0.0)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self._last = e.position()
        self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._last is None:
            return
        d = e.position() - self._last
        self._last = e.position()
        self.moved.emit(d.x() / 100.0, d.y() / 100.0)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        self._last = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#2b2d31"))
        x, y = self.position
        # Grid lines at integer seed positions, scrolling with the current position.
        p.setPen(QPen(QColor("#4a4d55"), 1))
        w, h = self.width(), self.height()
        ox = (-(x % 1.0)) * 100 + w / 2
        oy = (y % 1.0) * 100 + h / 2
        for k in range(-3, 4):
            p.drawLine(int(ox + k * 100), 0, int(ox + k * 100), h)
            p.drawLine(0, int(oy + k * 100), w, int(oy + k * 100))
        p.setPen(QPen(QColor("#8ab4f8"), 2))
        p.drawEllipse(QPointF(w / 2, h / 2), 5, 5)
        p.setPen(QColor("#c8c8c8"))
        p.drawText(8, 16, f"x {x:.2f}   y {y:.2f}")
        p.end()
