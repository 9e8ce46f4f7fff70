"""Feature-map panel: any synthesis layer as mean |x|, one channel, a channel grid or three
channels as RGB; per-channel, global or dB normalisation; FFT; statistics and blob scores with the
strongest blob marked. Updates with every render (the window asks the worker to capture the layer).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
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
from explorer.panels.feature_charts import BlobChart, UsageChart
from explorer.panels.text_colors import text_color
from stylegan2.blobs import blob_score
from stylegan2.render import LayerInfo


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
        self.blob_chart = BlobChart()
        self.blob_chart.requested.connect(self.all_layers_requested)
        lay.addWidget(self.blob_chart)
        self.usage_chart = UsageChart()
        self.usage_chart.requested.connect(self.usage_requested)
        lay.addWidget(self.usage_chart)
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
        for chart in (self.blob_chart, self.usage_chart):
            chart.set_names(*self.names)
        if not on:
            self.twin_view.image = None

    def clear_charts(self) -> None:
        """Forget the blob scores and resolution usage (they were another network's)."""
        self.blob_chart.clear()
        self.usage_chart.clear()

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
        prefix = f"{name}\n" if name and self.comparing else ""  # its own line: no odd wrap
        stats.setText(
            f"{prefix}mean {x.mean():+.3g}  std {x.std():.3g}  "
            f"max|x| {a.max():.3g} in channel {strongest_channel(x)}\n"
            f"blob: peak/median {score.peak_to_median:.2f}, top-0.1% energy "
            f"{100 * score.top_energy_share:.1f}% at (y {score.peak[0]}, x {score.peak[1]})"
        )
        return score.peak
