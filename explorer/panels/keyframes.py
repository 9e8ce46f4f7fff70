"""The Path tab's keyframe editor, a view of the `PathModel`'s keyframes: the list (each with
its segment's seconds), adding the image on screen or typed seeds, reordering, removing, and the
duration box (the selected keyframe's segment, or with none selected what new keyframes get)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from explorer.panels.text_colors import note_label
from explorer.path_model import PathModel
from stylegan2.paths import Keyframe
from stylegan2.render import Latent

# The duration box edits the selected keyframe's segment, or with none selected sets what new
# keyframes get: its prefix says which, or the box seems to contradict the list.
SEGMENT_PREFIX = "segment "
NEW_PREFIX = "new keyframes "


class KeyframeEditor(QWidget):
    add_current_requested = Signal()  # the image on screen as a keyframe
    cleared = Signal()  # every keyframe removed
    problem = Signal(str)  # typed seeds that are not seeds, in words

    def __init__(self, model: PathModel) -> None:
        super().__init__()
        self.model = model
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.hint = note_label(
            "A path needs two keyframes or more: add the image on screen (Add current) or "
            "seeds typed in the box (Add seeds)."
        )
        lay.addWidget(self.hint)
        self.list = QListWidget()
        self.list.setMaximumHeight(110)
        lay.addWidget(self.list)
        row = QHBoxLayout()
        add_cur = QPushButton("Add current")
        self.seeds_edit = QLineEdit("0,1,2,3")
        self.seeds_edit.setPlaceholderText("seeds, e.g. 0,1,2,3")
        self.seeds_edit.setToolTip("Seeds to add as keyframes, comma-separated, in order")
        self.add_seeds_button = add_seeds = QPushButton("Add seeds")
        row.addWidget(add_cur)
        row.addWidget(self.seeds_edit, 1)
        row.addWidget(add_seeds)
        lay.addLayout(row)
        row = QHBoxLayout()
        up, down, remove, clear = (QPushButton(t) for t in ("▲", "▼", "Remove", "Clear"))
        up.setToolTip("Move the selected keyframe up")
        down.setToolTip("Move the selected keyframe down")
        for b in (up, down):
            b.setFixedWidth(36)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0.1, 60.0)
        self.duration.setValue(2.0)
        self.duration.setPrefix(NEW_PREFIX)
        self.duration.setSuffix(" s")
        self.duration.setToolTip(
            "Seconds from the selected keyframe to the next; with none selected, what keyframes "
            "added next get (new keyframes get the shown value either way)"
        )
        for w in (up, down, remove, clear, self.duration):
            row.addWidget(w)
        lay.addLayout(row)
        add_cur.clicked.connect(self.add_current_requested)
        add_seeds.clicked.connect(self._add_seeds)
        up.clicked.connect(lambda: self._move(-1))
        down.clicked.connect(lambda: self._move(1))
        remove.clicked.connect(self._remove)
        clear.clicked.connect(self.clear)
        self.duration.valueChanged.connect(self._set_duration)
        self.list.currentRowChanged.connect(self._select)

    def add_keyframe(self, latent: Latent, label: str) -> None:
        self.model.add(latent, self.duration.value(), label)

    def clear(self) -> None:
        self.model.clear()
        self.cleared.emit()

    def sync(self) -> None:
        """Show the model's keyframes, keeping the selected row."""
        m = self.model
        row = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems(keyframe_entries(m.labels, m.keyframes, m.interpolation.loop))
        self.list.setCurrentRow(min(row, self.list.count() - 1))
        self.list.blockSignals(False)
        self._select(self.list.currentRow())  # the box shows what the selection now is
        self.hint.setVisible(len(m.keyframes) < 2)

    def _add_seeds(self) -> None:
        try:
            seeds = [int(v) for v in self.seeds_edit.text().split(",") if v.strip()]
        except ValueError:
            self.problem.emit("Seeds are comma-separated integers")
            return
        for s in seeds:
            self.add_keyframe(Latent.from_seed(s), f"seed {s}")

    def _move(self, d: int) -> None:
        i = self.list.currentRow()
        if self.model.move(i, d):
            self.list.setCurrentRow(i + d)

    def _remove(self) -> None:
        self.model.remove(self.list.currentRow())

    def _select(self, i: int) -> None:
        selected = 0 <= i < len(self.model.keyframes)
        self.duration.setPrefix(SEGMENT_PREFIX if selected else NEW_PREFIX)
        if selected:
            self.duration.blockSignals(True)
            self.duration.setValue(self.model.keyframes[i].duration)
            self.duration.blockSignals(False)

    def _set_duration(self, v: float) -> None:
        self.model.set_duration(self.list.currentRow(), v)


def keyframe_entries(labels: Sequence[str], keyframes: Sequence[Keyframe], loop: bool) -> list[str]:
    """The keyframe list's lines: each keyframe's label with the seconds to the next (the last
    one's only on a loop, back to the first)."""
    out = []
    for i, (label, key) in enumerate(zip(labels, keyframes, strict=True)):
        if i < len(keyframes) - 1:
            out.append(f"{label}   ({key.duration:g} s to the next)")
        elif loop and len(keyframes) > 1:
            out.append(f"{label}   ({key.duration:g} s back to the first)")
        else:
            out.append(label)
    return out
