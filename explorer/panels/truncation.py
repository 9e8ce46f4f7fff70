"""Truncation panel: psi (-1 to 2) and cutoff (first N ws, or all)."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGroupBox, QSpinBox

from explorer.panels.text_colors import note_label
from explorer.panels.widgets import FloatSlider
from explorer.state import StateModel


class TruncationPanel(QGroupBox):
    def __init__(self, model: StateModel) -> None:
        super().__init__("Truncation")
        self.model = model
        self.num_ws = 1
        form = QFormLayout(self)
        self.psi = FloatSlider(-1.0, 2.0, 0.01, model.state.psi)
        self.psi.setToolTip("w_avg + psi (w - w_avg); 0 gives the average image, 1 no truncation")
        form.addRow("psi", self.psi)
        self.cutoff = QSpinBox()
        self.cutoff.setKeyboardTracking(False)
        self.cutoff.setToolTip("Truncate only the first N ws (coarse layers); max = all layers")
        form.addRow("Cutoff", self.cutoff)
        # A loaded or projected w is used as it is: say so, or psi seems to do nothing.
        self.note = note_label(
            "The loaded w is used untruncated; psi and cutoff apply to mixing seeds.",
            visible=False,
        )
        form.addRow(self.note)
        self.set_num_ws(1)
        self.psi.value_changed.connect(lambda v: model.update(psi=v))
        self.cutoff.valueChanged.connect(self._cutoff)
        model.subscribe(self._sync)

    def set_num_ws(self, num_ws: int) -> None:
        self.num_ws = num_ws
        self.cutoff.blockSignals(True)
        self.cutoff.setRange(0, num_ws)
        self.cutoff.setSpecialValueText("")
        c = self.model.state.cutoff
        self.cutoff.setValue(num_ws if c is None else min(c, num_ws))
        self.cutoff.setSuffix(f" of {num_ws} ws")
        self.cutoff.blockSignals(False)

    def _cutoff(self, v: int) -> None:
        self.model.update(cutoff=None if v >= self.num_ws else v)

    def _sync(self, changed: set[str]) -> None:
        s = self.model.state
        self.note.setVisible(s.w is not None)
        if "psi" in changed or "*" in changed:
            self.psi.set_value(s.psi)
        if "cutoff" in changed or "*" in changed:
            self.cutoff.blockSignals(True)
            self.cutoff.setValue(self.num_ws if s.cutoff is None else s.cutoff)
            self.cutoff.blockSignals(False)
