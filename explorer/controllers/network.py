"""Opening the first network (a file, an http(s) URL or a published network's short name,
downloaded off the render thread while the current one keeps rendering): the dialogs, recent
files, and fitting the panels and the state to
a network once it has loaded (or saying, in full, why it did not)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtWidgets import QFileDialog, QMenu

from explorer.context import Context
from explorer.fetcher import Fetch, display_name
from explorer.frames import FrameController
from explorer.network_info import NetworkInfo
from explorer.published_dialog import PublishedDialog, show_published
from explorer.window_layout import WindowUI, welcome_html
from stylegan2.checkpoints.formats import NETWORK_SUFFIXES
from stylegan2.downloads import is_url

log = logging.getLogger(__name__)
NETWORK_FILTER = (
    f"StyleGAN2 networks ({' '.join('*' + s for s in NETWORK_SUFFIXES)});;All files (*)"
)


class NetworkController(QObject):
    opened = Signal(object)  # NetworkInfo: a first network has loaded and the panels fit it
    left_out = Signal(str)  # what of the state did not fit the network that opened, and why

    def __init__(self, ctx: Context, ui: WindowUI, frames: FrameController) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.ui = ui
        self.frames = frames
        self.fetch: Fetch | None = None  # a download in flight for the next network
        self.opening = 0  # counts open() calls: only the newest one's download is loaded
        self.published: PublishedDialog | None = None  # the published-networks dialog, if open
        ctx.worker.network_loaded.connect(self._loaded)
        ctx.worker.network_failed.connect(self._failed)
        ui.open_button.clicked.connect(self.open_dialog)

    def open(self, arg: str) -> None:
        """Open a network file, URL or published name; one being downloaded is cancelled (the
        newest choice wins), and a failure leaves what is open as it is."""
        if self.fetch is not None:
            self.fetch.cancel()
        name = display_name(arg)
        self.ctx.status.set_network_line(f"loading {name}…")
        if self.ctx.network is None:
            self.ui.welcome_text.setText(welcome_html(f"Loading {name}…"))
        self.opening += 1
        n = self.opening
        self.fetch = self.ctx.fetcher.resolve_network(
            arg,
            lambda path: self._resolved(n, path),
            lambda error: self._resolve_failed(n, arg, error),
            self.ctx.window,
        )

    def _resolved(self, n: int, path: str | None) -> None:
        if n != self.opening:
            return  # a newer choice replaced this one while it downloaded
        self.fetch = None
        if path is not None:
            self.ctx.worker.load_network(path, self.ctx.device)

    def _resolve_failed(self, n: int, arg: str, error: str) -> None:
        if n != self.opening:
            return
        self.fetch = None
        self._failed(0, arg, error)

    def open_dialog(self) -> None:
        info = self.ctx.network
        start = str(Path(info.path).parent) if info else ""
        # A URL (where the platform's dialog lets one be typed) opens like a file.
        url, _ = QFileDialog.getOpenFileUrl(
            self.ctx.window,
            "Open network",
            QUrl.fromLocalFile(start),
            NETWORK_FILTER,
            supportedSchemes=["file", "http", "https"],
        )
        arg = url_argument(url)
        if arg:
            self.open(arg)

    def published_dialog(self) -> None:
        """The toolbar's "Open published network": the catalogue, or any URL or name typed."""
        self.published = show_published(self.ctx.window, self.open, self._published_closed)

    def _published_closed(self, dialog: PublishedDialog) -> None:
        if self.published is dialog:
            self.published = None

    def when_opened(self, fn: Callable[[], None]) -> None:
        """Call fn once, after the next first network has loaded (the CLI's --compare)."""

        def once(_info: NetworkInfo) -> None:
            self.opened.disconnect(once)
            fn()

        self.opened.connect(once)

    def fill_recent(self, menu: QMenu) -> None:
        menu.clear()
        recent = self.ctx.prefs.recent_networks()
        for path in recent:
            a = menu.addAction(Path(path).name)
            a.setToolTip(path)
            a.setEnabled(Path(path).is_file())
            a.triggered.connect(lambda _=False, p=path: self.open(p))
        if not recent:
            menu.addAction("(none yet)").setEnabled(False)

    def most_recent(self) -> str | None:
        return next((p for p in self.ctx.prefs.recent_networks() if Path(p).is_file()), None)

    def _loaded(self, index: int, info: NetworkInfo) -> None:
        if index != 0:
            return
        ctx, ui = self.ctx, self.ui
        first = ctx.network is None
        ctx.set_network(0, info)
        ui.stack.setCurrentIndex(1)
        ui.welcome_error.setText("")
        ui.welcome_text.setText(welcome_html())
        ui.net_label.setToolTip("")
        # What no longer fits (a state restored before this network loaded, or one made for
        # another network) is dropped and named, instead of failing every render.
        misfits = ctx.model.state.misfits(info.num_ws, info.w_dim, info.c_dim)
        if not first and info.c_dim == 0 and misfits.pop("class_idx", None):
            ctx.model.update(class_idx=None)  # the previous network's class: nothing to say
        if misfits:
            ctx.model.update(**{k: None for k in misfits})
            said = "left out (does not fit this network): " + "; ".join(misfits.values())
            ctx.status.say(said, 10000)
            self.left_out.emit(said)
        layers = list(info.layers)
        ui.truncation.set_num_ws(info.num_ws)
        ui.noise.set_layers(layers)
        ui.mixing.set_layers(layers, info.num_ws)
        # The first network keeps the offset of a state restored before it loaded.
        ui.directions.set_num_ws(info.num_ws, keep_offset=first)
        ui.features.set_layers(layers)
        ui.performance.set_preview_available(info.architecture == "skip")
        ui.performance.set_top_share(info.top_share(), info.resolution)
        ui.path.set_resolution(info.resolution)
        ui.latent.set_num_classes(info.c_dim)
        ui.performance.set_device(info.device, info.device.startswith("cuda"))
        ctx.status.set_network_line(ctx.network_summary())
        ctx.prefs.add_recent_network(info.path)
        self.frames.reset()
        self.opened.emit(info)
        self.frames.request_render()

    def _failed(self, index: int, path: str, error: str) -> None:
        if index != 0:
            return
        msg = f"Could not open {display_name(path)}: {without_file_name(error, path)}"
        log.warning(msg)
        ui, status = self.ui, self.ctx.status
        # The whole message: the status bar cuts a long one off at its edge.
        ui.net_label.setToolTip(msg)
        if self.ctx.network is None:
            ui.welcome_text.setText(welcome_html())
            ui.welcome_error.setText(msg)
            status.set_network_line("no network")
        else:
            status.set_network_line(f"{msg} — still showing {self.ctx.network.name}")


def without_file_name(error: str, path: str) -> str:
    """A loader's error names the file first ("F: damaged …", "F is a Python pickle …"); after
    "Could not open NAME:" that is said twice, so F becomes nothing or "it"."""
    if is_url(path):
        return error  # ("cannot download …": the URL is not repeated, and stays masked)
    for named in dict.fromkeys((path, str(Path(path)), display_name(path))):
        if error.startswith(f"{named}: "):
            return error[len(named) + 2 :]
        if error.startswith(f"{named} ") and named != display_name(path):
            return "it" + error[len(named) :]  # (only a whole path: a name may be a word)
    return error


def url_argument(url: QUrl) -> str:
    """A dialog's or a drop's URL as a network argument: a local path, or the http(s) URL."""
    if url.isEmpty():
        return ""
    return url.toLocalFile() if url.isLocalFile() else url.toString()
