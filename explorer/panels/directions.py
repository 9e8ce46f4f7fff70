"""Directions panel: SeFa / PCA directions computed here, or named directions from a file, as
sliders over a chosen layer range; save and load direction files. Writes the summed offset into
the state (`w_offset`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
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

from explorer.panels.text_colors import note_label, text_color
from explorer.panels.widgets import FloatSlider
from explorer.state import StateModel
from stylegan2.directions import Directions


@dataclass(frozen=True)
class MethodView:
    """How the sliders of one method's directions read: a new method is one entry below."""

    title: str  # as the method menu spells it
    span: float  # the sliders run from -span to +span
    unit: str  # what each row's score is
    named: bool  # rows show each direction's name rather than its number
    legend: str  # the unit in a few words: after the method's name, and the header's tooltip
    score_format: str = ".3g"  # each row's score


# Named directions come from a file, never from the menu. PCA strengths are in standard
# deviations; a named direction's 1 is the distance between its two groups' mean w, so 2
# already goes well past the group's mean.
METHODS = {
    "sefa": MethodView(
        "SeFa", 10.0, "λ", False,
        "λ: the eigenvalue, how much the style weights stretch the direction",
    ),
    "pca": MethodView(
        "PCA", 3.0, "σ", False, "σ: the direction's standard deviation in W; strengths in σ",
    ),
    "labels": MethodView(
        "Named directions", 2.0, "d′", True,
        "d′: how well it separates samples with and without (in σ); strength 1 goes from one "
        "group's mean to the other's",
        ".2f",  # d′ of a few units: the same two decimals on every row
    ),
}  # fmt: skip


def method_view(method: str) -> MethodView:
    """A file may carry a method this version does not know: its rows are numbered, its scores
    shown as they are, and nothing is claimed about what they mean."""
    return METHODS.get(method) or MethodView(
        method, 10.0, "score", False, "scores as the file gives them"
    )


class DirectionsPanel(QGroupBox):
    compute_requested = Signal(str, int, int, int)  # method, first ws, last ws, top k
    load_requested = Signal()
    save_requested = Signal()
    save_one_requested = Signal(int)

    def __init__(self, model: StateModel) -> None:
        super().__init__("Directions")
        self.model = model
        self.directions: Directions | None = None
        self.base: np.ndarray | None = None  # a loaded state's offset, under the sliders
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
        self.top.setToolTip("How many directions to compute (the strongest first)")
        for label, w in (("ws", self.first), ("to", self.last), ("directions", self.top)):
            row.addWidget(QLabel(label))
            row.addWidget(w, 1)
        form.addRow(row)
        lay.addLayout(form)
        row = QHBoxLayout()
        compute, load, save, reset = (
            QPushButton(t) for t in ("Compute", "Load…", "Save…", "Reset")
        )
        self.compute_button = compute
        for b in (compute, load, save, reset):
            row.addWidget(b)
        lay.addLayout(row)
        self.hint = note_label(
            "Compute finds the strongest directions of this network's latent space over the "
            "ws range above (SeFa from the style weights at once; PCA from 100,000 sampled w's "
            "in a few seconds) and gives each a slider that moves the image along it."
        )
        lay.addWidget(self.hint)
        self.info = QLabel("")
        self.info.setTextFormat(Qt.TextFormat.PlainText)  # a file's method name is shown in it
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.slider_host = QWidget()
        self.sliders_layout = QFormLayout(self.slider_host)
        self.sliders_layout.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider_host)
        self.sliders: list[FloatSlider] = []
        self.ranges: list[tuple[QSpinBox, QSpinBox]] = []  # each slider's first / last ws
        compute.clicked.connect(self._compute)
        load.clicked.connect(self.load_requested)
        save.clicked.connect(self.save_requested)
        reset.clicked.connect(self.reset)

    def set_num_ws(self, num_ws: int, keep_offset: bool = False) -> None:
        """A network loaded. Its directions are its own, so the sliders go; the offset stays
        only when asked (the first network, under a state restored before it loaded) and when
        it fits this network."""
        self.num_ws = num_ws
        for w in (self.first, self.last):
            w.setRange(0, num_ws - 1)
        self.first.setValue(0)
        self.last.setValue(num_ws - 1)
        # (an offset that does not fit this network was dropped before this is called)
        if keep_offset:
            self.base = self._state_offset()
        self.set_directions(None, keep_offset=keep_offset)  # without: base and offset go

    def _state_offset(self) -> np.ndarray | None:
        off = self.model.state.w_offset
        return None if off is None else np.asarray(off, np.float32)

    def forget_sliders(self) -> None:
        """A loaded state brings its own offset (or none). It becomes the base the sliders add
        to; they go back to 0, and the computed directions stay (PCA is slow to redo)."""
        self.base = self._state_offset()
        for s in self.sliders:
            s.set_value(0.0)  # emits nothing
        self._show_info()

    def _compute(self) -> None:
        method = "sefa" if self.method.currentIndex() == 0 else "pca"
        lo, hi = sorted((self.first.value(), self.last.value()))
        self.info.setText("computing…")
        self.compute_requested.emit(method, lo, hi, self.top.value())

    def set_directions(self, d: Directions | None, keep_offset: bool = False) -> None:
        self.directions = d
        while self.sliders_layout.count():
            item = self.sliders_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.sliders = []
        self.ranges = []
        if d is None:
            if not keep_offset:
                self.base = None
                self.model.update(w_offset=None)
            self._show_info()
            return
        self._show_info()
        view = method_view(d.method)
        span, unit = view.span, view.unit
        for k, name in enumerate(d.names):
            s = FloatSlider(-span, span, span / 100, 0.0)
            s.setToolTip(name)
            s.value_changed.connect(lambda _v: self._apply())
            lo, hi = QSpinBox(), QSpinBox()
            for box, value in ((lo, d.layers[0]), (hi, d.layers[1])):
                box.setRange(0, self.num_ws - 1)
                box.setValue(value)
                box.setToolTip("first / last ws this slider moves")
                box.valueChanged.connect(lambda _v: self._apply())
            save = QPushButton("Save…")
            save.setToolTip("Name this direction and save it with its layer range")
            save.clicked.connect(lambda _=False, i=k: self.save_one_requested.emit(i))
            row = QHBoxLayout()
            row.addWidget(s, 1)
            row.addWidget(lo)
            row.addWidget(hi)
            row.addWidget(save)
            holder = QWidget()
            holder.setLayout(row)
            row.setContentsMargins(0, 0, 0, 0)
            shown = name if view.named else str(k)
            label = QLabel(f"{shown}  {unit} {float(d.scores[k]):{view.score_format}}")
            label.setTextFormat(Qt.TextFormat.PlainText)  # names come from a file
            label.setToolTip(name)
            self.sliders_layout.addRow(label, holder)
            self.sliders.append(s)
            self.ranges.append((lo, hi))
        if self.sliders:  # column names over the rows, as wide as the last row's boxes
            widths = (lo.sizeHint().width(), save.sizeHint().width())
            self.sliders_layout.insertRow(0, *self._header(view, *widths))
        self._apply()

    def _header(self, view: MethodView, spin: int, save: int) -> tuple[QLabel, QWidget]:
        """Column names over the sliders' rows; `spin` and `save` are the widths of a row's
        ws boxes and Save button, so that the names line up with them."""
        dim = f"color: {text_color('dim')};"
        first = QLabel(f"{'name' if view.named else '#'}  {view.unit}")
        first.setStyleSheet(dim)
        first.setToolTip(view.legend)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for text, width in (
            ("strength" + (" (σ)" if view.unit == "σ" else ""), None),
            ("from", spin),  # (short: a ws box is narrow; the boxes' tooltip says ws)
            ("to", spin),
            ("", save),
        ):
            label = QLabel(text)
            label.setStyleSheet(dim)
            if width:
                label.setFixedWidth(width)
            row.addWidget(label, 0 if width else 1)
        holder = QWidget()
        holder.setLayout(row)
        return first, holder

    def single(self, k: int, name: str) -> Directions:
        """Direction k alone, with its own layer range and a name (for saving)."""
        d = self.directions
        assert d is not None
        lo, hi = sorted((self.ranges[k][0].value(), self.ranges[k][1].value()))
        return Directions(
            d.vectors[k : k + 1].copy(), d.scores[k : k + 1].copy(), (lo, hi), d.method, [name]
        )

    def reset(self) -> None:
        """Every slider to 0, and no offset at all (also one a state file brought)."""
        self.base = None
        for s in self.sliders:
            s.set_value(0.0)  # emits nothing
        self.model.update(w_offset=None)
        self._show_info()

    def _show_info(self) -> None:
        d = self.directions
        parts = []
        if d is not None:
            view = method_view(d.method)
            parts.append(f"{view.title}, ws {d.layers[0]}–{d.layers[1]} · {view.legend}")
        self.hint.setVisible(d is None)
        if self.base is not None:
            parts.append(
                "a direction offset from the loaded state is applied"
                + (" under the sliders" if d is not None else "")
                + " (Reset removes it)"
            )
        self.info.setText("; ".join(parts))

    def _apply(self) -> None:
        d = self.directions
        if d is None:
            return
        off = np.zeros((self.num_ws, d.vectors.shape[1]), np.float32)
        if self.base is not None and self.base.shape == off.shape:
            off += self.base  # a loaded state's offset: the sliders add to it
        for k, s in enumerate(self.sliders):
            if s.value() != 0:
                lo, hi = sorted((self.ranges[k][0].value(), self.ranges[k][1].value()))
                off[lo : hi + 1] += s.value() * d.vectors[k]
        self.model.update(w_offset=off.tolist() if off.any() else None)
