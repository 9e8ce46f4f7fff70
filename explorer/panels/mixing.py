"""Style mixing panel: extra source seeds, which source drives each ws (with the resolutions each
one controls), presets coarse / middle / fine, and the paper's mixing grid, exportable as PNG."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.panels.bands import BANDS, band_name
from explorer.state import StateModel
from stylegan2.bands import ws_in_band
from stylegan2.render import LayerInfo


def ranges(indices: list[int]) -> str:
    """[0, 1, 2, 5] -> '0–2, 5'."""
    out: list[str] = []
    for i in sorted(set(indices)):
        if out and out[-1].split("–")[-1] == str(i - 1):
            out[-1] = f"{out[-1].split('–')[0]}–{i}"
        else:
            out.append(str(i))
    return ", ".join(out)


def ws_resolutions(layers: list[LayerInfo], num_ws: int) -> list[list[LayerInfo]]:
    """For each ws index, the layers it drives."""
    table: list[list[LayerInfo]] = [[] for _ in range(num_ws)]
    for layer in layers:
        table[layer.w_index].append(layer)
    return table


class MixingPanel(QGroupBox):
    grid_requested = Signal(list, list, list)  # row seeds, column seeds, ws indices

    def __init__(self, model: StateModel) -> None:
        super().__init__("Style mixing")
        self.model = model
        self.table: list[list[LayerInfo]] = []
        self.band_ws: dict[str, list[int]] = {label: [] for label in BANDS}  # button label -> ws
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.add_seed = QSpinBox()
        self.add_seed.setRange(0, 2**31 - 1)
        self.add_seed.setValue(1)
        add_btn = QPushButton("Add source")
        clear_btn = QPushButton("Clear")
        row.addWidget(QLabel("Seed"))
        row.addWidget(self.add_seed, 1)
        row.addWidget(add_btn)
        row.addWidget(clear_btn)
        lay.addLayout(row)
        self.sources_label = QLabel("Sources: main only")
        self.sources_label.setWordWrap(True)
        lay.addWidget(self.sources_label)
        row = QHBoxLayout()
        self.preset_buttons: dict[str, QPushButton] = {}
        for name in BANDS:  # each takes the ws of its band from the first extra source
            b = QPushButton(name)
            b.clicked.connect(lambda _=False, n=name: self.preset(n))
            row.addWidget(b)
            self.preset_buttons[name] = b
        lay.addLayout(row)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setVerticalSpacing(2)
        lay.addWidget(self.grid_host)
        self.combos: list[QComboBox] = []
        row = QHBoxLayout()
        self.rows_edit = QLineEdit("85,100,75")
        self.cols_edit = QLineEdit("55,821,1789")
        self.grid_button = grid_btn = QPushButton("Mixing grid…")
        self.rows_edit.setToolTip("The grid's row seeds (comma-separated): each row keeps its seed")
        self.cols_edit.setToolTip(
            "The grid's column seeds (comma-separated): each gives its row the mixed ws"
        )
        row.addWidget(QLabel("Row seeds"))
        row.addWidget(self.rows_edit)
        row.addWidget(QLabel("Column seeds"))
        row.addWidget(self.cols_edit)
        row.addWidget(grid_btn)
        lay.addLayout(row)
        add_btn.clicked.connect(self._add)
        clear_btn.clicked.connect(lambda: model.update(mix_seeds=[], layer_sources=None))
        grid_btn.clicked.connect(self._grid)
        model.subscribe(self._sync)

    def set_layers(self, layers: list[LayerInfo], num_ws: int) -> None:
        self.table = ws_resolutions(layers, num_ws)
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.combos = []
        for i, driven in enumerate(self.table):
            names = ", ".join(f"{layer.resolution} {layer.kind}" for layer in driven)
            label = QLabel(f"ws {i}")
            label.setToolTip(names)
            combo = QComboBox()
            combo.setToolTip(f"drives: {names}")
            combo.currentIndexChanged.connect(lambda _=0, k=i: self._changed(k))
            self.grid.addWidget(label, i // 2, (i % 2) * 3)
            lo, hi = min(x.resolution for x in driven), max(x.resolution for x in driven)
            span = QLabel(f"{lo} px" if lo == hi else f"{lo}–{hi} px")
            span.setToolTip(names)
            self.grid.addWidget(span, i // 2, (i % 2) * 3 + 1)
            self.grid.addWidget(combo, i // 2, (i % 2) * 3 + 2)
            self.combos.append(combo)
        self.band_ws = {label: ws_in_band(layers, band_name(label)) for label in BANDS}
        for band, button in self.preset_buttons.items():  # greyed where no ws is in the band
            ws = self.band_ws[band]
            button.setEnabled(bool(ws))
            button.setToolTip(
                f"Take ws {ranges(ws)} from the first extra source"
                if ws
                else "This network has no ws at these resolutions"
            )
        self._sync({"*"})

    def preset(self, name: str) -> None:
        if not self.model.state.mix_seeds:
            self._add()
        sources = [int(i in self.band_ws[name]) for i in range(len(self.table))]
        self.model.update(layer_sources=sources)

    def _add(self) -> None:
        seeds = [*self.model.state.mix_seeds, self.add_seed.value()]
        self.add_seed.setValue(self.add_seed.value() + 1)
        self.model.update(mix_seeds=seeds)

    def _changed(self, ws_index: int) -> None:
        sources = list(self.model.state.layer_sources or [0] * len(self.table))
        sources[ws_index] = max(self.combos[ws_index].currentIndex(), 0)
        self.model.update(layer_sources=sources)

    def _grid(self) -> None:
        try:
            rows = [int(v) for v in self.rows_edit.text().split(",") if v.strip()]
            cols = [int(v) for v in self.cols_edit.text().split(",") if v.strip()]
        except ValueError:
            self.sources_label.setText("Rows and columns are comma-separated seeds")
            return
        styles = self.grid_styles()
        if rows and cols:
            self.grid_requested.emit(rows, cols, styles)

    def grid_styles(self) -> list[int]:
        """The ws the grid takes from its column seeds: those set to a source above, else
        ws 0-6 (coarse and middle styles, as the paper's Figure 3 mixes)."""
        sources = self.model.state.layer_sources or []
        return [i for i, s in enumerate(sources) if s != 0] or list(range(min(7, len(self.table))))

    def _sync(self, changed: set[str]) -> None:
        s = self.model.state
        names = ["main"] + [f"seed {x}" for x in s.mix_seeds]
        self.sources_label.setText(
            "Sources: main (the Latent tab's latent)"
            + "".join(f", {n}" for n in names[1:])
            + ("" if s.mix_seeds else ". Add a seed to take some ws from it.")
        )
        self.grid_button.setToolTip(
            f"The paper's grid: each cell is its row seed with ws {ranges(self.grid_styles())} "
            "from its column seed (the ws set to a source above; none set: ws 0–6)"
        )
        sources = s.layer_sources or [0] * len(self.combos)
        for i, combo in enumerate(self.combos):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            combo.setCurrentIndex(sources[i] if i < len(sources) and sources[i] < len(names) else 0)
            combo.blockSignals(False)
