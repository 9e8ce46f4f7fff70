"""Feature-map panel: any synthesis layer as mean |x|, one channel, a channel grid or three
channels as RGB; per-channel, global or dB normalisation; FFT; statistics and blob scores with the
strongest blob marked. Updates with every render (the window asks the worker to capture the layer).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from explorer.feature_maps import (
    NORMS,
    VIEWS,
    display_maps,
    feature_maps,
    shared_scale,
    strongest_channel,
)
from explorer.image_view import ImageView
from explorer.panels.plots import CURVE_COLOR, TWIN_COLOR, plot_hint, small_plot
from explorer.panels.text_colors import text_color
from stylegan2.blobs import blob_score
from stylegan2.render import LayerInfo

#: one colour per resolution of the resolution-usage bars, lowest first
USAGE_COLORS = (
    "#8ab4f8",
    "#81c995",
    "#fdd663",
    "#f28b82",
    "#c58af9",
    "#78d9ec",
    "#fcad70",
    "#ff8bcb",
    "#a8dab5",
)


def _short(name: str, n: int = 18) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def _distinct(a: str, b: str, n: int = 14) -> tuple[str, str]:
    """Two network names without what they share at the start ('faces64-stylegan2' and
    'faces64-adain' -> 'stylegan2', 'adain'), shortened, so that row labels tell them apart."""
    shorter = min(len(a), len(b))
    common = next((i for i in range(shorter) if a[i] != b[i]), shorter)
    cut = max(a.rfind(sep, 0, common) for sep in "-_ .") + 1
    if a == b or cut >= min(len(a), len(b)):
        cut = 0  # the same name, or one the start of the other: keep both whole
    return _short(a[cut:], n), _short(b[cut:], n)


class FeaturesPanel(QGroupBox):
    layer_changed = Signal()
    peak_changed = Signal()  # the strongest blob moved (mark it on the image)
    all_layers_requested = Signal()
    usage_requested = Signal()
    export_requested = Signal()  # save the feature map on show as a PNG

    def __init__(self) -> None:
        super().__init__("Feature maps")
        self.layers: list[LayerInfo] = []
        self.data: np.ndarray | None = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.layer = QComboBox()
        self.view_mode = QComboBox()
        self.view_mode.addItems(VIEWS)
        self.norm = QComboBox()
        self.norm.addItems(NORMS)
        row = QHBoxLayout()
        self.channel = QSpinBox()
        self.strongest = QPushButton("Strongest")
        self.strongest.setToolTip(
            "Show the channel with the largest |x| on its own (the first network's when two are "
            "compared): a droplet that dominates one channel's statistics is diluted in the mean "
            "over channels"
        )
        self.fft = QCheckBox("FFT")
        self.mark = QCheckBox("Mark strongest blob")
        self.mark.setChecked(True)
        row.addWidget(self.channel, 1)
        row.addWidget(self.strongest)
        row.addWidget(self.fft)
        row.addWidget(self.mark)
        form.addRow("Layer", self.layer)
        form.addRow("View", self.view_mode)
        form.addRow("Normalise", self.norm)
        form.addRow("Channel", row)
        lay.addLayout(form)
        self.same_scale = QCheckBox("Same scale for both networks")
        self.same_scale.setChecked(False)
        self.same_scale.setToolTip(
            "Normalise both maps by the larger of their maxima, so that equal activations look "
            "equally bright (dB is absolute anyway)"
        )
        self.same_scale.setVisible(False)
        lay.addWidget(self.same_scale)
        views = QHBoxLayout()
        self.view = ImageView(in_panel=True)
        self.view.setFixedHeight(260)
        self.twin_view = ImageView(in_panel=True)
        self.twin_view.setFixedHeight(260)
        self.twin_view.setVisible(False)
        views.addWidget(self.view, 1)
        views.addWidget(self.twin_view, 1)
        lay.addLayout(views)
        self.stats = QLabel("")
        self.stats.setStyleSheet("font-family: monospace;")
        self.stats.setWordWrap(True)
        lay.addWidget(self.stats)
        stats_help = (
            "The layer's activations x over every channel: mean, standard deviation, largest "
            "|x| and the channel that holds it.\nBlob: the largest per-pixel |x| (mean over "
            "channels) against the median pixel's, and the share of the squared activations "
            "in the strongest 0.1 % of pixels, with where that peak is (the + on the map). A "
            "droplet shows as a peak/median far above the StyleGAN2 model's."
        )
        self.twin_stats = QLabel("")
        self.twin_stats.setStyleSheet(f"font-family: monospace; color: {text_color('twin')};")
        self.twin_stats.setWordWrap(True)
        for label in (self.stats, self.twin_stats):
            label.setToolTip(stats_help)
        self.twin_stats.setVisible(False)
        lay.addWidget(self.twin_stats)
        export = QPushButton("Export PNG…")
        export.clicked.connect(self.export_requested)
        lay.addWidget(export)
        self.peak: tuple[int, int] | None = None
        self.twin_peak: tuple[int, int] | None = None
        self.twin_data: np.ndarray | None = None
        self.names = ("", "")  # (main, twin) network names in compare mode
        self.comparing = False
        self.chart = small_plot(120, "peak / median")
        self.chart_hint = plot_hint(self.chart, "measuring every conv layer…")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=CURVE_COLOR)
        self.chart.addItem(self.bars)
        self.twin_bars = pg.BarGraphItem(x=[], height=[], width=0.4, brush=TWIN_COLOR)
        self.chart.addItem(self.twin_bars)
        self.legend = self.chart.addLegend(offset=(4, 2), labelTextSize="8pt")
        all_btn = QPushButton("Blob scores of all layers: measure again for this latent")
        all_btn.setToolTip(
            "Render once capturing every conv layer and chart each one's blob score (peak / "
            "median of |x|); measured when the tab opens and after this button"
        )
        all_btn.clicked.connect(self.all_layers_requested)
        lay.addWidget(all_btn)
        lay.addWidget(self.chart)
        usage_btn = QPushButton("Resolution usage (this latent and 256 random)")
        usage_btn.setToolTip(
            "Share of each resolution's tRGB output in the image (std of the "
            "pixels it adds), as in the paper's Figure 8"
        )
        usage_btn.clicked.connect(self.usage_requested)
        lay.addWidget(usage_btn)
        self.usage = small_plot(110)
        self.usage.getAxis("left").setTicks([[(0, "this"), (1, "avg")]])
        self.usage.getAxis("left").setWidth(40)
        self.usage.setLabel("bottom", "share of the image (%)")
        self.usage.setXRange(0, 100)
        self.usage.invertY(True)  # rows read top down: the first network's first
        self.usage_hint = plot_hint(
            self.usage, "press the button above (renders 256 latents)", x=50, y=0.5
        )
        self.usage.setYRange(0, 1)
        lay.addWidget(self.usage)
        self.usage_legend = QLabel("")  # which colour is which resolution
        lay.addWidget(self.usage_legend)
        self.layer.currentIndexChanged.connect(lambda _i: self.layer_changed.emit())
        for w in (self.view_mode, self.norm):
            w.currentIndexChanged.connect(lambda _i: self.redraw())
        self.view_mode.currentIndexChanged.connect(lambda _i: self._channel_use())
        self._channel_use()
        self.channel.valueChanged.connect(lambda _v: self.redraw())
        self.strongest.clicked.connect(self.show_strongest_channel)
        self.fft.toggled.connect(lambda _on: self.redraw())
        self.mark.toggled.connect(lambda _on: self.redraw())
        self.same_scale.toggled.connect(lambda _on: self.redraw())

    def set_compare(self, main_name: str | None, twin_name: str | None) -> None:
        """Enter compare mode (both names) or leave it (twin_name None)."""
        on = twin_name is not None
        self.comparing = on
        self.names = (main_name or "", twin_name or "")
        for w in (self.twin_view, self.twin_stats, self.same_scale):
            w.setVisible(on)
        self.twin_data = None
        self.twin_peak = None
        self.twin_bars.setOpts(x=[], height=[])
        self.legend.clear()
        if not on:
            self.twin_view.image = None

    def clear_charts(self) -> None:
        """Forget the blob scores and resolution usage (they were another network's)."""
        self.bars.setOpts(x=[], height=[])
        self.twin_bars.setOpts(x=[], height=[])
        self.legend.clear()
        self.chart.getAxis("bottom").setTicks(None)
        self.chart.setXRange(0, 1)
        self.chart.setYRange(0, 1)
        self.chart_hint.setVisible(True)
        self.usage.clear()
        self.usage.getAxis("left").setTicks([[(0, "this"), (1, "avg")]])
        self.usage.addItem(self.usage_hint)
        self.usage.setYRange(0, 1)
        self.usage_legend.setText("")

    def _channel_use(self) -> None:
        """The channel box matters in the views of one channel or three; in the others it is
        greyed out, saying why."""
        view = self.view_mode.currentText()
        used = view in ("one channel", "RGB of 3 channels")
        self.channel.setEnabled(used)
        self.channel.setToolTip(
            "The channel shown (RGB: the first of three)"
            if used
            else f"The {view} view shows every channel; pick one channel to choose one"
        )

    def set_layers(self, layers: list[LayerInfo]) -> None:
        self.layers = list(layers)
        self.layer.blockSignals(True)
        self.layer.clear()
        for info in self.layers:
            self.layer.addItem(f"{info.name}  ({info.resolution}², {info.channels} ch)")
        # Blobs show from 64x64 on: start on the first conv layer at 64 px, else the last conv.
        convs = [i for i, x in enumerate(self.layers) if x.kind != "torgb"]
        start = next(
            (i for i in convs if self.layers[i].resolution >= 64), convs[-1] if convs else 0
        )
        self.layer.setCurrentIndex(start)
        self.layer.blockSignals(False)
        self.data = None

    def current_layer(self) -> str | None:
        i = self.layer.currentIndex()
        return self.layers[i].name if 0 <= i < len(self.layers) else None

    def show_capture(
        self, captures: dict[str, np.ndarray], twin_captures: dict[str, np.ndarray] | None = None
    ) -> None:
        """Show the current layer; in compare mode also the same layer of the second network
        (when it has one of that name)."""
        name = self.current_layer()
        if name is None or name not in captures:
            return
        self.data = captures[name]
        self.twin_data = (twin_captures or {}).get(name)
        if twin_captures is not None and self.twin_data is None:
            self.twin_stats.setText(f"{self.names[1]}: has no layer {name}")
        self.channel.setRange(0, self.data.shape[0] - 1)
        self.redraw()

    def show_strongest_channel(self) -> None:
        """The one-channel view of the channel with the largest |x| (the first network's)."""
        if self.data is None:
            return
        self.view_mode.setCurrentText("one channel")
        self.channel.setValue(strongest_channel(self.data))

    def _mode(self) -> tuple[str, str, bool]:
        return self.view_mode.currentText(), self.norm.currentText(), self.fft.isChecked()

    def redraw(self) -> None:
        if self.data is None:
            return
        view, norm, fft = self._mode()
        channel = self.channel.value()
        maps = feature_maps(self.data, view, channel, fft)
        twin = self.twin_data if self.comparing else None
        twin_maps = feature_maps(twin, view, channel, fft) if twin is not None else None
        scale = None
        if twin_maps is not None and self.same_scale.isChecked():
            scale = shared_scale(maps, twin_maps, norm)
        self.peak = self._draw(self.view, self.data, maps, scale, self.stats, self.names[0])
        if twin is not None and twin_maps is not None:
            self.twin_peak = self._draw(
                self.twin_view, twin, twin_maps, scale, self.twin_stats, self.names[1]
            )
        elif self.comparing:
            self.twin_peak = None  # no such layer in the twin, or its frame failed
            self.twin_view.item.clear()
            self.twin_view.image = None
        self.peak_changed.emit()

    def _draw(self, target: ImageView, x, maps, scale, stats: QLabel, name: str):
        view, norm, fft = self._mode()
        img = display_maps(maps, view, norm, scale)
        score = blob_score(x)
        if self.mark.isChecked() and view != "channel grid" and not fft:
            img = img.copy()
            y0, x0 = score.peak
            img[max(y0 - 1, 0) : y0 + 2, x0] = (255, 64, 64)
            img[y0, max(x0 - 1, 0) : x0 + 2] = (255, 64, 64)
        values = None if fft or view == "channel grid" else maps
        target.set_image(img, values)
        a = np.abs(x)
        prefix = f"{name}: " if name and self.comparing else ""
        stats.setText(
            f"{prefix}mean {x.mean():+.3g}  std {x.std():.3g}  max|x| {a.max():.3g}  "
            f"(strongest channel {strongest_channel(x)})\n"
            f"blob: peak/median {score.peak_to_median:.2f}, top-0.1% energy "
            f"{100 * score.top_energy_share:.1f}% at (y {score.peak[0]}, x {score.peak[1]})"
        )
        return score.peak

    def show_all_scores(
        self,
        table: list[tuple[str, int, float, float]],
        twin_table: list[tuple[str, int, float, float]] | None = None,
    ) -> None:
        """(layer, resolution, peak/median, top energy share) for every conv layer; in compare
        mode the second network's bars sit beside the first's, matched by layer name."""
        self.chart.enableAutoRange()  # new scores: a zoom into the old ones does not carry over
        self.chart_hint.setVisible(False)
        xs = list(range(len(table)))
        self.legend.clear()
        if twin_table is None:
            self.bars.setOpts(x=xs, height=[row[2] for row in table], width=0.6)
            self.twin_bars.setOpts(x=[], height=[])
        else:
            index = {row[0]: i for i, row in enumerate(table)}
            pairs = [(index[row[0]], row[2]) for row in twin_table if row[0] in index]
            self.bars.setOpts(x=[x - 0.2 for x in xs], height=[row[2] for row in table], width=0.4)
            self.twin_bars.setOpts(
                x=[i + 0.2 for i, _ in pairs], height=[v for _, v in pairs], width=0.4
            )
            self.legend.addItem(self.bars, _short(self.names[0]) or "main")
            self.legend.addItem(self.twin_bars, _short(self.names[1]) or "compare")
        axis = self.chart.getAxis("bottom")
        axis.setTicks([[(i, row[0].replace(".conv", "c")) for i, row in enumerate(table)]])

    def show_usage(self, per_network: list[list[dict[int, float]] | None]) -> None:
        """Stacked horizontal bars: for each network (None: it has no usage to show), one row
        per usage dict (resolution -> share), this latent's and the average's. In compare
        mode each row is named by its network; a legend names the resolutions."""
        rows: list[dict[int, float]] = []
        labels: list[str] = []
        names = _distinct(*self.names) if self.comparing else ("", "")
        for k, usage in enumerate(per_network[:2]):
            if usage is None:
                continue
            prefix = f"{names[k]} " if len(per_network) > 1 and names[k] else ""
            rows += usage
            labels += [f"{prefix}{what}" for what in ("this", "avg")][: len(usage)]
        axis = self.usage.getAxis("left")
        axis.setTicks([list(enumerate(labels))])
        width = max(QFontMetrics(axis.font()).horizontalAdvance(t) for t in labels) if labels else 0
        axis.setWidth(max(40, width + 14))
        self.usage.setFixedHeight(max(110, 30 * len(rows) + 50))
        self.usage.clear()
        resolutions = sorted({res for usage in rows for res in usage})
        self.usage_legend.setText(
            "  ".join(
                f'<span style="color:{USAGE_COLORS[i % len(USAGE_COLORS)]}">■</span> {res} px'
                for i, res in enumerate(resolutions)
            )
        )
        for y, usage in enumerate(rows):
            left = 0.0
            for res, share in usage.items():
                width = 100 * share
                color = USAGE_COLORS[resolutions.index(res) % len(USAGE_COLORS)]
                bar = pg.BarGraphItem(x0=[left], y=[y], width=[width], height=0.6, brush=color)
                self.usage.addItem(bar)
                if width > 6:
                    label = pg.TextItem(f"{res}", color="#202124", anchor=(0.5, 0.5))
                    label.setPos(left + width / 2, y)
                    self.usage.addItem(label)
                left += width
        self.usage.setXRange(0, 100)
        self.usage.setYRange(-0.6, len(rows) - 0.4, padding=0)
