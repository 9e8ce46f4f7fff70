"""Path panel, a view of the `PathModel`: keyframes (the current latent, lists of seeds, loaded
w's), order and durations, interpolation and easing, loops, noise, export settings; a timeline
scrubber with play / pause; and the live local path length d(G(t), G(t + eps)) / eps^2 along the
path, computed between frames by the worker."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
)

from explorer.panels.keyframes import KeyframeEditor
from explorer.panels.path_length import PathLengthView
from explorer.path_model import PathModel
from stylegan2.paths import PATH_NOISE, Path
from stylegan2.render import Latent, RenderRequest
from stylegan2.video import MAX_MP4_QUALITY


class PathPanel(QGroupBox):
    position_changed = Signal(float)  # path time to show
    path_changed = Signal()  # keyframes or interpolation edited: recompute the readout
    add_current_requested = Signal()
    export_requested = Signal()

    def __init__(self, model: PathModel) -> None:
        super().__init__("Interpolation path")
        self.model = model
        self.network_names: tuple[str, ...] = ()  # the networks the readout measures
        lay = QVBoxLayout(self)
        self.keyframes = KeyframeEditor(model)
        self.keyframes.add_current_requested.connect(self.add_current_requested)
        self.keyframes.cleared.connect(lambda: self.play.setChecked(False))
        lay.addWidget(self.keyframes)
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
        self.export_scale.setPrefix("size × ")
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

        self.keyframes.problem.connect(self.readout.setText)
        self.space.currentIndexChanged.connect(
            lambda i: model.set_interpolation(space="w" if i == 0 else "z")
        )
        self.easing.currentTextChanged.connect(lambda v: model.set_interpolation(easing=v))
        self.noise.currentTextChanged.connect(lambda v: model.set_interpolation(noise=v))
        self.loop.toggled.connect(lambda on: model.set_interpolation(loop=on))
        self.fps.valueChanged.connect(lambda v: model.set_export(fps=v))
        self.export_scale.valueChanged.connect(lambda v: model.set_export(scale=v))
        self.export_smooth.toggled.connect(lambda on: model.set_export(smooth=on))
        self.export_quality.valueChanged.connect(lambda v: model.set_export(quality=v))
        model.subscribe(self._sync)
        self._sync(path_changed=False)
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
        self.keyframes.add_keyframe(latent, label)

    def load_path(self, path: Path) -> None:
        """Show a saved path: its keyframes and its interpolation settings."""
        self.play.setChecked(False)
        self.model.load(path)

    def clear(self) -> None:
        self.keyframes.clear()

    def _sync(self, path_changed: bool) -> None:
        """Show the model; a changed path restarts the readout."""
        m = self.model
        self.keyframes.sync()
        i, e = m.interpolation, m.export
        for w, value in (
            (self.space, 0 if i.space == "w" else 1),
            (self.easing, i.easing),
            (self.noise, i.noise),
            (self.loop, i.loop),
            (self.fps, e.fps),
            (self.export_scale, e.scale),
            (self.export_smooth, e.smooth),
            (self.export_quality, e.quality),
        ):
            w.blockSignals(True)
            if isinstance(w, QComboBox):
                w.setCurrentIndex(value) if isinstance(value, int) else w.setCurrentText(value)
            elif isinstance(w, QCheckBox):
                w.setChecked(value)
            else:
                w.setValue(value)
            w.blockSignals(False)
        if path_changed:
            self._changed()

    # The path -----------------------------------------------------------------------------------
    def _path(self) -> Path | None:
        """The path (timing only: over a default request), or None, saying why when it is
        not one."""
        try:
            return self.model.path(RenderRequest())
        except ValueError as exc:
            self.readout.setText(str(exc))
            return None

    def time(self) -> float:
        p = self._path()
        return 0.0 if p is None else self.scrub.value() / 1000 * p.duration

    def remeasure(self, network_names: Sequence[str]) -> None:
        """Forget the path-length readout and measure it again on these networks (another
        network opened, or one to compare with opened or closed)."""
        self.network_names = tuple(network_names)
        self._changed()

    def _changed(self) -> None:
        p = self._path()
        self.length.reset(p.duration if p is not None else None, self.network_names)
        self.path_changed.emit()

    def _scrubbed(self, _v: int) -> None:
        t = self.time()
        self.time_label.setText(f"{t:.2f} s")
        self.length.cursor.setValue(t)
        self.position_changed.emit(t)
        self._show_value_at(t)

    def _play(self, on: bool) -> None:
        if on and len(self.model.keyframes) >= 2:
            self.timer.start(round(1000 / self.fps.value()))
        else:
            self.timer.stop()
            self.play.setChecked(False)

    def _tick(self) -> None:
        p = self._path()
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

    def add_sample(self, t: float, values: Sequence[float | None], distance_name: str) -> None:
        """The path lengths at time t, one per network measured."""
        self.length.add_sample(t, values, distance_name, self._path(), self.model.labels)

    def value_at(self, t: float) -> float | None:
        return self.length.value_at(t)

    def _show_value_at(self, t: float) -> None:
        v = self.value_at(t)
        if v is not None:
            self.time_label.setText(f"{t:.2f} s · {v:.3g}")
