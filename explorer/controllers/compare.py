"""Compare mode: a second network (a bundled model or any file) beside the first, driven by the
same controls. The worker renders every request with each open network; this controller shows
the second one's image, captions and notes, and leaves the mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMenu

from assets import bundled_networks
from explorer.context import Context
from explorer.controllers.files import write_png
from explorer.controllers.network import NETWORK_FILTER, without_file_name
from explorer.fetcher import display_name
from explorer.frames import FrameController
from explorer.network_info import NetworkInfo
from explorer.panels.features import FeaturesPanel
from explorer.published_dialog import PublishedDialog, show_published
from explorer.window_layout import ImageArea
from explorer.worker import Frame

#: what each normalisation is, for the captions over the two images
NORMALIZATION_LABELS = {
    "demod": "demodulated (StyleGAN2)",
    "adain": "AdaIN (StyleGAN1, config A)",
}


def normalization_label(normalization: str) -> str:
    return NORMALIZATION_LABELS.get(normalization, normalization)


class CompareController(QObject):
    changed = Signal()  # a network to compare has loaded, or comparing stopped

    def __init__(
        self, ctx: Context, area: ImageArea, features: FeaturesPanel, frames: FrameController
    ) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.area = area
        self.features = features
        self.frames = frames
        ctx.worker.network_loaded.connect(self._loaded)
        ctx.worker.network_failed.connect(self._failed)
        self.published: PublishedDialog | None = None  # the published-networks dialog, if open
        frames.shown.connect(self._shown)

    def open(self, path: str) -> None:
        """Load a second network (a file, URL or published name); every render then shows it
        beside the first."""
        if self.ctx.network is None:
            self.ctx.status.say("open a network first", 6000)
            return
        name = display_name(path)
        self.ctx.status.say(f"loading {name} to compare…")

        def resolved(local: str | None) -> None:
            if local is not None and self.ctx.network is not None:
                self.ctx.worker.load_network(local, self.ctx.device, index=1)

        self.ctx.fetcher.resolve_network(
            path, resolved, lambda error: self._failed(1, path, error), self.ctx.window
        )

    def dialog(self) -> None:
        info = self.ctx.network
        start = str(Path(info.path).parent) if info else ""
        path, _ = QFileDialog.getOpenFileName(
            self.ctx.window, "Compare with", start, NETWORK_FILTER
        )
        if path:
            self.open(path)

    def published_dialog(self) -> None:
        """Compare with a published network (or any URL or name typed there)."""
        self.published = show_published(
            self.ctx.window, self.open, self._published_closed, "Compare with a published network"
        )

    def _published_closed(self, dialog: PublishedDialog) -> None:
        if self.published is dialog:
            self.published = None

    def close(self) -> None:
        self.ctx.worker.close_compared()
        del self.ctx.networks[1:]
        self.ctx.status.set_network_line(self.ctx.network_summary())
        self.features.set_compare(None, None)
        self.area.show_twin(False)
        self.frames.request_render()
        self.changed.emit()

    def fill_menu(self, menu: QMenu) -> None:
        menu.clear()
        main = self.ctx.network
        for path in bundled_networks():
            if main and Path(path).resolve() == Path(main.path).resolve():
                continue
            a = menu.addAction(f"Bundled: {Path(path).stem}")
            a.setToolTip(path)
            a.triggered.connect(lambda _=False, p=path: self.open(p))
        menu.addAction("Other network…").triggered.connect(self.dialog)
        menu.addAction("Published network…").triggered.connect(self.published_dialog)
        twin = menu.addAction("Save twin image…")
        twin.setEnabled(self.twin_image() is not None)
        twin.triggered.connect(self.save_twin_dialog)
        stop = menu.addAction("Stop comparing")
        stop.setEnabled(self.ctx.compared is not None)
        stop.triggered.connect(self.close)

    def twin_image(self) -> np.ndarray | None:
        """The compared network's image on screen (None when not comparing, or on an error)."""
        frame = self.frames.last
        if self.ctx.compared is None or frame is None or len(frame.results) < 2:
            return None
        twin = frame.results[1]
        return None if twin.error else twin.image

    def save_twin_dialog(self) -> None:
        compared = self.ctx.compared
        stem = compared.stem if compared else "twin"
        name = f"seed{self.ctx.model.state.seed:04d}-{stem}.png"
        path, _ = QFileDialog.getSaveFileName(
            self.ctx.window, "Save twin image", name, "PNG (*.png)"
        )
        if path:
            self.save_twin_image(self.ctx.with_suffix_confirmed(path, ".png"))

    def save_twin_image(self, path: str) -> bool:
        image = self.twin_image()
        if not path or image is None or self.frames.preview_on_screen():
            return False
        return write_png(self.ctx, image, path, None, f"saved the twin's image to {path}")

    def recaption(self) -> None:
        """Name both networks over their images (again after the first one changes)."""
        main, twin = self.ctx.network, self.ctx.compared
        if main is None or twin is None:
            return
        self.area.main_caption.setText(f"{main.stem} — {normalization_label(main.normalization)}")
        self.area.twin_caption.setText(f"{twin.stem} — {normalization_label(twin.normalization)}")
        self.features.set_compare(main.stem, twin.stem)

    def _loaded(self, index: int, info: NetworkInfo) -> None:
        if index != 1 or self.ctx.worker.network_count() < 2:
            return  # the first network, or comparing stopped while this one loaded
        self.ctx.set_network(1, info)
        self.ctx.status.set_network_line(self.ctx.network_summary())
        self.recaption()
        self.area.show_twin(True)
        self.ctx.status.say(f"comparing with {info.name}", 6000)
        self.frames.request_render()
        self.changed.emit()

    def _failed(self, index: int, path: str, error: str) -> None:
        if index == 1:
            said = without_file_name(error, path)
            self.ctx.status.say(f"Could not open {display_name(path)} to compare: {said}", 10000)

    def _shown(self, frame: Frame) -> None:
        if self.ctx.compared is None or len(frame.results) < 2:
            return
        twin = frame.results[1]
        if twin.error or twin.image is None:
            self.area.twin_notes.setText(f"render error: {twin.error}")
        else:
            self.area.twin_view.set_image(twin.image)
            self.area.twin_notes.setText("  ".join(twin.notes))
