"""Noise panel: global mode, noise seed and animation, per-layer on/off and strength, presets
(all on, all off, or noise in one band of resolutions only: the Mixing tab's coarse / middle /
fine)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from explorer.panels.bands import BANDS, in_band
from explorer.panels.text_colors import text_color
from explorer.state import StateModel
from stylegan2.config import MAX_SEED
from stylegan2.render import LayerInfo

MODES = ("const", "random", "none")


class NoisePanel(QGroupBox):
    def __init__(self, model: StateModel) -> None:
        super().__init__("Noise")
        self.model = model
        self.layers: list[LayerInfo] = []
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.setToolTip("const: the network's stored noise; random: drawn from the noise seed")
        # Noise seeds are uint32 like latent seeds; QSpinBox stops at 2**31 - 1.
        self.seed = QDoubleSpinBox()
        self.seed.setDecimals(0)
        self.seed.setRange(0, MAX_SEED)
        self.seed.setPrefix("seed ")
        self.animate = QCheckBox("Animate")
        self.animate.setToolTip(
            "Step the noise seed ten times a second (switches the mode to random)"
        )
        row.addWidget(self.mode)
        row.addWidget(self.seed, 1)
        row.addWidget(self.animate)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.preset_buttons = {}
        for name in ("All on", "All off", *BANDS):
            b = QPushButton(name)  # (the bands' tooltips name their layers: set_layers)
            b.clicked.connect(lambda _=False, n=name: self.preset(n))
            row.addWidget(b)
            self.preset_buttons[name] = b
        lay.addLayout(row)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setVerticalSpacing(2)
        lay.addWidget(self.grid_host)
        self.rows: dict[str, tuple[QCheckBox, QDoubleSpinBox]] = {}

        self.mode.currentTextChanged.connect(lambda m: model.update(noise_mode=m))
        self.seed.valueChanged.connect(lambda v: model.update(noise_seed=int(v)))
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(lambda: self.seed.setValue((self.seed.value() + 1) % 2**32))
        self.animate.toggled.connect(self._animate)
        model.subscribe(self._sync)

    def set_layers(self, layers: list[LayerInfo]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.rows.clear()
        self.layers = [layer for layer in layers if layer.has_noise]
        for layer, (row, col) in zip(self.layers, _grid_places(self.layers), strict=True):
            on = QCheckBox(f"{layer.name}")
            on.setToolTip(f"{layer.resolution}x{layer.resolution}, {layer.channels} channels")
            strength = QDoubleSpinBox()
            strength.setRange(0.0, 10.0)
            strength.setSingleStep(0.25)
            strength.setPrefix("× ")
            strength.setToolTip(f"{layer.name}: how much of its learned noise strength to use")
            strength.setKeyboardTracking(False)  # typing "0.5" must not pass through "0"
            self.grid.addWidget(on, row, col * 2)
            self.grid.addWidget(strength, row, col * 2 + 1)
            on.toggled.connect(lambda _=False, n=layer.name: self._layer_changed(n))
            strength.valueChanged.connect(lambda _=0.0, n=layer.name: self._layer_changed(n))
            self.rows[layer.name] = (on, strength)
        if not self.layers:
            self.grid.addWidget(QLabel("This network has no noise inputs."), 0, 0)
        for band in BANDS:  # a band without noise inputs in this network has nothing to keep
            names = [x.name for x in self.layers if in_band(band, x.resolution)]
            button = self.preset_buttons[band]
            button.setEnabled(bool(names))
            button.setToolTip(
                f"Noise in {', '.join(names)} only"
                if names
                else "This network has no noise inputs at these resolutions"
            )
        self._sync({"*"})

    def preset(self, name: str) -> None:
        """'All on', 'All off', or one of BANDS: noise in that band of resolutions only."""
        gains: dict[str, float] = {}
        for layer in self.layers:
            on = name == "All on" or (name in BANDS and in_band(name, layer.resolution))
            if not on:
                gains[layer.name] = 0.0
        self.model.update(noise_gains=gains)

    def _layer_changed(self, name: str) -> None:
        on, strength = self.rows[name]
        gains = dict(self.model.state.noise_gains)
        gain = strength.value() if on.isChecked() else 0.0
        strength.setEnabled(on.isChecked())
        if gain == 1.0:
            gains.pop(name, None)
        else:
            gains[name] = gain
        self.model.update(noise_gains=gains)

    def _animate(self, on: bool) -> None:
        if on and self.model.state.noise_mode != "random":
            self.model.update(noise_mode="random")
        self.timer.start() if on else self.timer.stop()

    def _sync(self, changed: set[str]) -> None:
        s = self.model.state
        for w, v in ((self.mode, s.noise_mode), (self.seed, s.noise_seed)):
            w.blockSignals(True)
            if isinstance(w, QComboBox):
                w.setCurrentText(v)
            else:
                w.setValue(v)
            w.blockSignals(False)
        # Const noise has no seed, but a Path with moving noise uses it: dim it, keep it usable.
        used = s.noise_mode == "random"
        self.seed.setStyleSheet("" if used else f"color: {text_color('dim')};")
        self.seed.setToolTip(
            "used by random noise and by the Path tab's moving noise"
            if s.noise_mode == "random"
            else "not used by const noise (the Path tab's moving noise still uses it)"
        )
        for name, (on, strength) in self.rows.items():
            gain = s.noise_gains.get(name, 1.0)
            on.blockSignals(True)
            strength.blockSignals(True)
            on.setChecked(gain != 0.0)
            strength.setValue(gain if gain != 0.0 else strength.value() or 1.0)
            strength.setEnabled(gain != 0.0)
            on.blockSignals(False)
            strength.blockSignals(False)
        self.grid_host.setEnabled(s.noise_mode != "none")


def _grid_places(layers: list[LayerInfo]) -> list[tuple[int, int]]:
    """(row, column) of each layer: one row per resolution, conv0 (the up-sampling conv) on
    the left and conv1 on the right, so the 4 px block's lone conv1 sits under the others'."""
    rows = {res: i for i, res in enumerate(dict.fromkeys(x.resolution for x in layers))}
    return [(rows[x.resolution], 0 if x.kind == "conv0" else 1) for x in layers]
