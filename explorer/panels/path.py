"""Path panel: keyframes (the current latent, lists of seeds, loaded w's), order and durations,
interpolation and easing, loops, noise; a timeline scrubber with play / pause; and the live local
path length d(G(t), G(t + eps)) / eps^2 along the path, computed between frames by the worker."""

from __future__ import annotations

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
    QSpinBox,
    QVBoxLayout,
)

from explorer.panels.path_length import PathLengthView
from stylegan2.paths import PATH_NOISE, Keyframe, Path
from stylegan2.render import Latent, RenderRequest
from stylegan2.video import MAX_MP4_QUALITY


class PathPanel(QGroupBox):
    position_changed = Signal(float)  # path time to show
    path_changed = Signal()  # keyframes or interpolation edited: recompute the readout
    add_current_requested = Signal()
    export_requested = Signal()

    def __init__(self) -> None:
        super().__init__("Interpolation path")
        self.keyframes: list[Keyframe] = []
        lay = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setMaximumHeight(110)
        lay.addWidget(self.list)
        row = QHBoxLayout()
        add_cur = QPushButton("Add current")
        self.seeds_edit = QLineEdit("0,1,2,3")
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
        self.length = PathLengthView()
        lay.addWidget(self.length)
        self.readout = self.length.readout  # also where path errors are shown
        row = QHBoxLayout()
        self.export_scale = QSpinBox()
        self.export_scale.setRange(1, 16)
        self.export_scale.setPrefix("× ")
        self.export_scale.setToolTip("Frame size as a multiple of the network's resolution")
        self.export_smooth = QCheckBox("Smooth")
        self.export_smooth.setToolTip("Lanczos scaling; off: every pixel a sharp square")
        self.export_quality = QSpinBox()
        self.export_quality.setRange(1, MAX_MP4_QUALITY)
        self.export_quality.setValue(8)
        self.export_quality.setPrefix("MP4 quality ")
        export = QPushButton("Export video…")
        export.setToolTip("MP4 (H.264), GIF or a folder of PNG frames, at the fps above")
        export.clicked.connect(self.export_requested)
        for w in (self.export_scale, self.export_smooth, self.export_quality):
            row.addWidget(w)
        row.addWidget(export, 1)
        lay.addLayout(row)

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

    def set_resolution(self, resolution: int) -> None:
        """A new network: exported frames default to about 512 px and stay within 2048 px."""
        self.export_scale.setMaximum(max(1, 2048 // resolution))
        self.export_scale.setValue(max(1, 512 // resolution))

    # Keyframes ----------------------------------------------------------------------------------
    def add_keyframe(self, latent: Latent, label: str) -> None:
        self.keyframes.append(Keyframe(latent, self.duration.value()))
        self.list.addItem(label)
        self._changed()

    def load_path(self, path: Path) -> None:
        """Show a saved path: its keyframes and its interpolation settings."""
        self.clear()
        self.space.setCurrentIndex(0 if path.space == "w" else 1)
        self.easing.setCurrentText(path.easing)
        self.loop.setChecked(path.loop)
        self.noise.setCurrentText(path.noise)
        for key in path.keyframes:
            seeds = key.latent.seeds
            single = seeds is not None and len(seeds) == 1 and key.latent.w is None
            self.keyframes.append(key)
            self.list.addItem(f"seed {seeds[0][0]}" if single else "w")
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

    def remeasure(self) -> None:
        """Forget the path-length readout and measure it again (another network)."""
        self._changed()

    def _changed(self) -> None:
        p = self.path(RenderRequest())
        self.length.reset(p.duration if p is not None else None)
        self.path_changed.emit()

    def _scrubbed(self, _v: int) -> None:
        t = self.time()
        self.time_label.setText(f"{t:.2f} s")
        self.length.cursor.setValue(t)
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
    @property
    def samples(self) -> dict[float, float]:
        return self.length.samples

    def add_sample(self, t: float, value: float, distance_name: str) -> None:
        self.length.add_sample(t, value, distance_name, self.path(RenderRequest()))

    def value_at(self, t: float) -> float | None:
        return self.length.value_at(t)

    def _show_value_at(self, t: float) -> None:
        v = self.value_at(t)
        if v is not None:
            self.time_label.setText(f"{t:.2f} s · {v:.3g}")
