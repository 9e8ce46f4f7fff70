"""Latent panel: seed, drag pad, snap / reset, animation, random, the current w, class."""

from __future__ import annotations

import math
import random

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
)

from explorer.panels.text_colors import note_label, text_color
from explorer.panels.widgets import DragPad, FloatSlider
from explorer.state import StateModel
from stylegan2.config import MAX_SEED


class LatentPanel(QGroupBox):
    load_w_requested = Signal()
    save_w_requested = Signal()

    def __init__(self, model: StateModel) -> None:
        super().__init__("Latent")
        self.model = model
        form = QFormLayout(self)
        row = QHBoxLayout()
        # Seeds are uint32 (NumPy's RandomState range); QSpinBox stops at 2**31 - 1.
        self.seed = QDoubleSpinBox()
        self.seed.setDecimals(0)
        self.seed.setRange(0, MAX_SEED)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("z = RandomState(seed).randn(1, z_dim), as NVIDIA's scripts")
        prev_btn, next_btn = QPushButton("◀"), QPushButton("▶")
        rand_btn = QPushButton("Random")
        for b in (prev_btn, next_btn):
            b.setFixedWidth(32)
        row.addWidget(self.seed, 1)
        row.addWidget(prev_btn)
        row.addWidget(next_btn)
        row.addWidget(rand_btn)
        form.addRow("Seed", row)

        self.pad = DragPad()
        form.addRow(self.pad)
        # Between grid points the image blends the four seeds around: say which, and how much.
        self.blend = note_label()
        form.addRow(self.blend)
        row = QHBoxLayout()
        self.snap_btn = snap_btn = QPushButton("Snap to seed")
        self.home_seed = 0  # the last seed chosen by number, arrows or Random
        self.reset_btn = reset_btn = QPushButton("Back to seed 0")
        reset_btn.setToolTip("Back to the last seed you chose (the drag pad's offset and any w go)")
        self.animate = QCheckBox("Animate")
        row.addWidget(snap_btn)
        row.addWidget(reset_btn)
        row.addWidget(self.animate)
        form.addRow(row)
        self.speed = FloatSlider(0.05, 2.0, 0.05, 0.25)
        self.speed.setToolTip("Seeds per second while animating")
        form.addRow("Seeds / s", self.speed)
        self.klass = QComboBox()
        self.klass_label = QLabel("Class")
        form.addRow(self.klass_label, self.klass)
        self.w_text = QLabel()
        self.w_text.setWordWrap(True)
        self.w_text.setStyleSheet(f"color: {text_color('dim')}; font-family: monospace;")
        form.addRow("w", self.w_text)
        row = QHBoxLayout()
        load_w, save_w = QPushButton("Load w…"), QPushButton("Save w…")
        load_w.setToolTip(".npy or .npz (NVIDIA's projected_w.npz loads); used untruncated")
        save_w.setToolTip("Save the ws of the image on screen (.npz in NVIDIA's layout, or .npy)")
        load_w.clicked.connect(self.load_w_requested)
        save_w.clicked.connect(self.save_w_requested)
        row.addWidget(load_w)
        row.addWidget(save_w)
        form.addRow(row)
        self.set_num_classes(0)

        self.seed.valueChanged.connect(lambda v: self._set_seed(int(v)))
        self.seed.editingFinished.connect(lambda: self._set_seed(int(self.seed.value())))
        prev_btn.clicked.connect(lambda: self.seed.setValue(max(self.seed.value() - 1, 0)))
        next_btn.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        rand_btn.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 100_000)))
        self.pad.moved.connect(self._drag)
        snap_btn.clicked.connect(self._snap)
        reset_btn.clicked.connect(lambda: self._set_seed(self.home_seed))
        self.klass.currentIndexChanged.connect(
            lambda i: model.update(class_idx=i if i >= 0 and self.klass.count() else None)
        )
        self.timer = QTimer(self)
        self.timer.setInterval(33)
        self.timer.timeout.connect(self._tick)
        self.animate.toggled.connect(lambda on: self.timer.start() if on else self.timer.stop())
        model.subscribe(self._sync)
        self._sync({"*"})

    def set_num_classes(self, c_dim: int) -> None:
        self.klass.blockSignals(True)
        self.klass.clear()
        self.klass.addItems([f"class {i}" for i in range(c_dim)])
        self.klass.blockSignals(False)
        self.klass.setVisible(c_dim > 0)
        self.klass_label.setVisible(c_dim > 0)
        if c_dim > 0 and self.model.state.class_idx is None:
            self.model.update(class_idx=0)

    def show_w(self, ws) -> None:
        """Summary of the ws the image was rendered from: first values and norm of ws[0]."""
        if ws is None:
            self.w_text.setText("")
            return
        w0 = ws[0]
        head = " ".join(f"{v:+.2f}" for v in w0[:5])
        norm = float((w0**2).sum()) ** 0.5
        self.w_text.setText(f"[{head} …]\n|w| {norm:.2f}   ({len(ws)} ws × {len(w0)})")

    def _set_home(self, seed: int) -> None:
        self.home_seed = seed
        self.reset_btn.setText(f"Back to seed {seed}")

    def adopt_home(self) -> None:
        """A loaded state's seed (the nearest whole one) is where Back goes from now on."""
        self._set_home(self.model.state.seed)

    def _set_seed(self, seed: int) -> None:
        self._set_home(seed)
        stride = self.model.state.seed_stride
        self.model.update(seed_x=float(seed % stride), seed_y=float(seed // stride), w=None)

    def _drag(self, dx: float, dy: float) -> None:
        """Right and up (dy < 0 on screen) move to higher seeds. The plane wraps as seeds do
        (RandomState's range), so from seed 0 every direction moves."""
        s = self.model.state
        self.model.update(seed_x=s.seed_x + dx, seed_y=s.seed_y - dy, w=None)

    def _snap(self) -> None:
        s = self.model.state
        self.model.update(seed_x=float(round(s.seed_x)), seed_y=float(round(s.seed_y)))

    def _tick(self) -> None:
        s = self.model.state
        self.model.update(seed_x=s.seed_x + self.speed.value() * 0.033, w=None)

    def _sync(self, changed: set[str]) -> None:
        s = self.model.state
        self.pad.position = (s.seed_x, s.seed_y)
        self.pad.update()
        on_grid = math.isclose(s.seed_x, round(s.seed_x)) and math.isclose(
            s.seed_y, round(s.seed_y)
        )
        self.seed.blockSignals(True)
        self.seed.setValue(s.seed)
        self.seed.blockSignals(False)
        if s.w is not None:
            self.blend.setText("a loaded or projected w (not a seed)")
        elif on_grid:
            self.blend.setText(
                f"drag to blend the neighbouring seeds (x steps 1 seed, y {s.seed_stride})"
            )
            self._set_home(s.seed)  # a whole seed on screen (snapped, stepped, loaded)
        else:
            parts = sorted(s.seed_weights(), key=lambda sw: -sw[1])
            self.blend.setText(
                "blend of seeds "
                + ", ".join(f"{sd} ({wt:.0%})" for sd, wt in parts)
                + f"  (y steps {s.seed_stride} seeds)"
            )
        dim = f"color: {text_color('dim')};"
        self.seed.setStyleSheet("" if on_grid and s.w is None else dim)
