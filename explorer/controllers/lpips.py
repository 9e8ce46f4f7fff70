"""The VGG16 trunk that LPIPS measures with in the explorer (path lengths and projection): the
file the user set (remembered), else NVIDIA's published vgg16.pt from the download cache, else,
after one remembered question, fetched on a thread with progress. Declined, offline or until it
has arrived, the measures use the labelled pixel fallback."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog

from explorer.context import Context
from explorer.published_dialog import Ask, ask_yes_no
from stylegan2.catalogue import DETECTORS, resolve_weights
from stylegan2.downloads import offline_mode

#: the remembered answer to "download the VGG16 weights?": "yes" or "no"
LPIPS_DOWNLOAD_KEY = "lpips_download"


class LpipsController(QObject):
    changed = Signal()  # other weights from now on: distances measured so far used the old ones

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.ask: Ask = ask_yes_no  # a seam for tests
        self.offered = False  # the download was offered (or started) since the window opened

    def dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.ctx.window,
            "VGG16 weights for LPIPS (torchvision vgg16-397923af.pth or NVIDIA vgg16.pt)",
            "",
            "Weights (*.pth *.pt);;All files (*)",
        )
        if path:
            self.set_weights(path)

    def set_weights(self, path: str | None) -> None:
        """Where the VGG16 trunk lives (remembered); LPIPS measures with it from now on."""
        self.ctx.prefs.set_lpips_weights(path)
        self.changed.emit()

    def weights(self) -> str | None:
        """The VGG16 trunk to measure with: the one set, else the cached published file, else
        None (the pixel fallback) while a download is offered. Call it on the GUI thread."""
        weights = self.ctx.prefs.lpips_weights_to_use()
        if weights is not None:
            return weights
        # A question can wait for the slot to return; a picture (--screenshot) never asks.
        if not self.offered and not offline_mode() and self.ctx.prefs.persist:
            self.offered = True
            QTimer.singleShot(0, self.offer_download)
        return None

    def offer_download(self) -> bool:
        """Ask once (the answer is remembered) to fetch NVIDIA's vgg16.pt, then fetch it on a
        thread with progress; `changed` is emitted once it has arrived. False when not
        fetched."""
        prefs, entry = self.ctx.prefs, DETECTORS["vgg16"]
        answer = prefs.get(LPIPS_DOWNLOAD_KEY)
        if answer not in ("yes", "no"):
            yes = self.ask(
                self.ctx.window,
                "LPIPS weights",
                "Path lengths and projection measure with LPIPS, which needs NVIDIA's VGG16 "
                f"weights (vgg16.pt, about {entry.size_mb} MB, {entry.licence}). Download them "
                "once now? Without them a pixel distance is used, labelled as such.",
            )
            answer = "yes" if yes else "no"
            prefs.set(LPIPS_DOWNLOAD_KEY, answer)
        if answer != "yes":
            return False
        self.offered = True

        def done(path: str | None) -> None:
            if path is None:
                self.ctx.status.say(
                    "could not download the VGG16 weights; LPIPS keeps the pixel fallback", 8000
                )
                return
            self.ctx.status.say("VGG16 weights downloaded: distances now use LPIPS", 6000)
            self.changed.emit()

        self.ctx.fetcher.start(
            f"Downloading VGG16 weights for LPIPS (about {entry.size_mb} MB)",
            lambda progress, cancel: resolve_weights(
                "vgg16", None, offline=False, progress=progress, cancel=cancel
            ),
            done,
            lambda error: self.ctx.status.say(f"{error}; LPIPS keeps the pixel fallback"),
            self.ctx.window,
        )
        return True
