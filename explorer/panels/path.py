"""Path panel: keyframes (the current latent, lists of seeds, loaded w's), order and durations,
interpolation and easing, loops, noise; a timeline scrubber with play / pause; and the live local
path length d(G(t), G(t + eps)) / eps^2 along the path, computed between frames by the worker."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from stylegan2.paths import PATH_NOISE, Keyframe, Path
from stylegan2.render import Latent, RenderRequest


class PathPanel(QGroupBox):
    position_changed = Signal(float)  # path time to show
    path_changed = Signal()  # keyframes or interpolation edited: recompute the readout
    add_current_requested = Signal()
    export_requested = Signal()

    def __init__(self) -> None:
        super().__init__("Interpolation path")
        self.keyframes: list[Keyframe] = []
        self.active = False  # True while the scrubber drives the image
        lay = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setMaximumHeight(110)
        lay.addWidget(self.list)
        row = QHBoxLayout()
        add_cur = QPushButton("Add current")
        self.seeds_edit = QLineEdit("0,1,2,3")
        add_seeds = QPushButton("Add seeds")
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
        self.duration.setSuffix(" s")
        self.duration.setToolTip("Duration of the selected keyframe's segment")
        for w in (up, down, remove, clear, self.duration):
            row.addWidget(w)
        lay.addLayout(row)
        form = QFormLayout()
        self.space = QComboBox()
        self.space.addItems(["lerp in W (per layer)", "slerp in Z (seeds only)"])
        self.easing = QComboBox()
        self.easing.addItems(["linear", "ease", "catmull"])
        self.loop = QCheckBox("Loop")
        self.noise = QComboBox()
        self.noise.addItems(list(PATH_NOISE))
        self.noise.setToolTip(
            "fixed: the Noise tab's noise on every frame\n"
            "animated: new random noise every frame (flickers)\n"
            "smooth: random noise moving continuously, back where it started at the end"
        )
        row = QHBoxLayout()
        row.addWidget(self.easing, 1)
        row.addWidget(self.loop)
        form.addRow("Interpolation", self.space)
        form.addRow("Easing", row)
        form.addRow("Noise", self.noise)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setRange(0, 1000)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(24)
        self.fps.setSuffix(" fps")
        self.time_label = QLabel("0.00 s")
        row.addWidget(self.play)
        row.addWidget(self.scrub, 1)
        row.addWidget(self.time_label)
        row.addWidget(self.fps)
        lay.addLayout(row)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("#2b2d31")
        self.plot.setFixedHeight(140)
        self.plot.setLabel("left", "path length")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "t (s)")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setXRange(0, 1, padding=0.02)  # until there is a path: not pyqtgraph's ±500
        self.curve = self.plot.plot(pen=pg.mkPen("#8ab4f8", width=1.5), symbol="o", symbolSize=4)
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#f28b82"))
        self.plot.addItem(self.cursor)
        lay.addWidget(self.plot)
        export = QPushButton("Export video…")
        export.setToolTip("MP4 (H.264), GIF or a folder of PNG frames, at the fps above")
        export.clicked.connect(self.export_requested)
        lay.addWidget(export)
        self.readout = QLabel("")
        self.readout.setWordWrap(True)
        lay.addWidget(self.readout)
        self.samples: dict[float, float] = {}
        self.distance_name = ""

        add_cur.clicked.connect(self.add_current_requested)
        add_seeds.clicked.connect(self._add_seeds)
        up.clicked.connect(lambda: self._move(-1))
        down.clicked.connect(lambda: self._move(1))
        remove.clicked.connect(self._remove)
        clear.clicked.connect(self.clear)
        self.duration.valueChanged.connect(self._set_duration)
        self.list.currentRowChanged.connect(self._select)
        for w in (self.space, self.easing, self.noise):
            w.currentIndexChanged.connect(lambda _i: self._changed())
        self.loop.toggled.connect(lambda _on: self._changed())
        self.scrub.valueChanged.connect(self._scrubbed)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.play.toggled.connect(self._play)

    # Keyframes ----------------------------------------------------------------------------------
    def add_keyframe(self, latent: Latent, label: str) -> None:
        self.keyframes.append(Keyframe(latent, self.duration.value()))
        self.list.addItem(label)
        self._changed()

    def _add_seeds(self) -> None:
        try:
            seeds = [int(v) for v in self.seeds_edit.text().split(",") if v.strip()]
        except ValueError:
            self.readout.setText("Seeds are comma-separated integers")
            return
        for s in seeds:
            self.add_keyframe(Latent.from_seed(s), f"seed {s}")

    def _move(self, d: int) -> None:
        i = self.list.currentRow()
        j = i + d
        if 0 <= i < len(self.keyframes) and 0 <= j < len(self.keyframes):
            self.keyframes[i], self.keyframes[j] = self.keyframes[j], self.keyframes[i]
            item = self.list.takeItem(i)
            self.list.insertItem(j, item)
            self.list.setCurrentRow(j)
            self._changed()

    def _remove(self) -> None:
        i = self.list.currentRow()
        if 0 <= i < len(self.keyframes):
            del self.keyframes[i]
            self.list.takeItem(i)
            self._changed()

    def clear(self) -> None:
        self.keyframes.clear()
        self.list.clear()
        self.play.setChecked(False)
        self._changed()

    def _select(self, i: int) -> None:
        if 0 <= i < len(self.keyframes):
            self.duration.blockSignals(True)
            self.duration.setValue(self.keyframes[i].duration)
            self.duration.blockSignals(False)

    def _set_duration(self, v: float) -> None:
        i = self.list.currentRow()
        if 0 <= i < len(self.keyframes):
            self.keyframes[i] = Keyframe(self.keyframes[i].latent, v)
            self._changed()

    # The path -----------------------------------------------------------------------------------
    def path(self, base: RenderRequest) -> Path | None:
        if len(self.keyframes) < 2:
            return None
        try:
            return Path(
                tuple(self.keyframes),
                "w" if self.space.currentIndex() == 0 else "z",
                self.easing.currentText(),
                self.loop.isChecked(),
                self.noise.currentText(),
                base,
            )
        except ValueError as exc:
            self.readout.setText(str(exc))
            return None

    def time(self) -> float:
        p = self.path(RenderRequest())
        return 0.0 if p is None else self.scrub.value() / 1000 * p.duration

    def _changed(self) -> None:
        self.samples.clear()
        self.curve.setData([], [])
        p = self.path(RenderRequest())
        self.plot.setXRange(0, p.duration if p is not None else 1, padding=0.02)
        self.readout.setText("")
        self.path_changed.emit()

    def _scrubbed(self, _v: int) -> None:
        t = self.time()
        self.time_label.setText(f"{t:.2f} s")
        self.cursor.setValue(t)
        self.active = True
        self.position_changed.emit(t)
        self._show_value_at(t)

    def _play(self, on: bool) -> None:
        if on and len(self.keyframes) >= 2:
            self.timer.start(round(1000 / self.fps.value()))
        else:
            self.timer.stop()
            self.play.setChecked(False)

    def _tick(self) -> None:
        p = self.path(RenderRequest())
        if p is None:
            self.play.setChecked(False)
            return
        step = round(1000 / (p.duration * self.fps.value()))
        v = self.scrub.value() + max(step, 1)
        self.scrub.setValue(v % 1001 if (p.loop or v <= 1000) else 1000)
        if not p.loop and v > 1000:
            self.play.setChecked(False)

    # Path-length readout ------------------------------------------------------------------------
    def add_sample(self, t: float, value: float, distance_name: str) -> None:
        self.samples[t] = value
        self.distance_name = distance_name
        ts = sorted(self.samples)
        self.curve.setData(ts, [self.samples[x] for x in ts])
        self._summarise()

    def _summarise(self) -> None:
        p = self.path(RenderRequest())
        if p is None or not self.samples:
            return
        parts = []
        for i in range(p.segments):
            vals = [v for t, v in self.samples.items() if p.locate(t)[0] == i]
            if vals:
                parts.append(f"{i}: {np.mean(vals):.3g}")
        mean = float(np.mean(list(self.samples.values())))
        self.readout.setText(
            f"mean {mean:.4g} over {len(self.samples)} points · per segment "
            f"{', '.join(parts)}\n[{self.distance_name}]"
        )

    def value_at(self, t: float) -> float | None:
        if not self.samples:
            return None
        return self.samples[min(self.samples, key=lambda x: abs(x - t))]

    def _show_value_at(self, t: float) -> None:
        v = self.value_at(t)
        if v is not None:
            self.time_label.setText(f"{t:.2f} s · {v:.3g}")
