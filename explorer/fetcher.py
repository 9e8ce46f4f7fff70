"""Downloads off the render thread: a network named by URL or published name, or detector weights,
fetched on a thread of its own (so the current network keeps rendering while it arrives), with a
progress dialog that can cancel it. Results and failures come back on the GUI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from explorer.network_info import file_label
from stylegan2.catalogue import find_network, network_url, pending_download, resolve_network
from stylegan2.downloads import DownloadError, Progress, display_url, is_url, url_label

log = logging.getLogger(__name__)

#: what runs on the fetch thread: fn(progress, cancel) -> a local path
FetchFn = Callable[[Progress, threading.Event], str | None]


class Fetch:
    """One download in flight: cancel() stops it at the next chunk."""

    def __init__(self, label: str, dialog: QProgressDialog | None) -> None:
        self.label = label
        self.dialog = dialog
        self.cancel_event = threading.Event()
        self.thread: threading.Thread | None = None

    def cancel(self) -> None:
        self.cancel_event.set()

    def close_dialog(self) -> None:
        if self.dialog is not None:
            # closing a QProgressDialog emits canceled: the fetch is over either way
            self.dialog.canceled.disconnect()
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None


class Fetcher(QObject):
    """Runs fetches on Python threads and hands their outcome to the GUI thread."""

    _call = Signal(object, object)  # (callback, argument), queued onto the GUI thread

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[Fetch] = []  # in flight
        self._stopped = False
        self._call.connect(self._on_gui_thread)

    def start(
        self,
        label: str,
        fn: FetchFn,
        on_done: Callable[[str | None], None],
        on_failed: Callable[[str], None],
        parent: QWidget | None = None,
        show_progress: bool = True,
    ) -> Fetch:
        """Run fn(progress, cancel) on a new thread; its path goes to on_done, a DownloadError's
        line (or any failure's) to on_failed. With `show_progress`, a progress dialog labelled
        `label` shows until it ends, and its Cancel stops the download."""
        dialog = None
        if show_progress:
            dialog = QProgressDialog(label, "Cancel", 0, 0, parent)
            dialog.setWindowTitle("Downloading")
            dialog.setMinimumDuration(0)
            dialog.setAutoClose(False)
            dialog.setAutoReset(False)
        fetch = Fetch(label, dialog)
        if dialog is not None:
            dialog.canceled.connect(fetch.cancel)
            dialog.show()

        def progress(done: int, total: int | None) -> None:
            self._call.emit(lambda _: self._progress(fetch, done, total), None)

        def run() -> None:
            try:
                path = fn(progress, fetch.cancel_event)
            except DownloadError as exc:
                self._call.emit(lambda m: self._finish(fetch, on_failed, m), str(exc))
                return
            except Exception as exc:  # a bug must reach the window as a message, not vanish
                log.exception("fetching %s", label)
                message = f"{label}: {type(exc).__name__}: {exc}"
                self._call.emit(lambda m: self._finish(fetch, on_failed, m), message)
                return
            self._call.emit(lambda p: self._finish(fetch, on_done, p), path)

        fetch.thread = threading.Thread(target=run, name="fetch", daemon=True)
        self.fetches.append(fetch)
        fetch.thread.start()
        return fetch

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel every fetch and wait for their threads (each stops at its next chunk); no
        callback runs after this."""
        self._stopped = True
        for fetch in self.fetches:
            fetch.cancel()
        for fetch in self.fetches:
            if fetch.thread is not None:
                fetch.thread.join(timeout)
            fetch.close_dialog()
        self.fetches.clear()

    @Slot(object, object)
    def _on_gui_thread(self, fn: Callable[[Any], None], arg: Any) -> None:
        if not self._stopped:
            fn(arg)

    def _progress(self, fetch: Fetch, done: int, total: int | None) -> None:
        dialog = fetch.dialog
        if dialog is None or fetch.cancel_event.is_set():
            return
        # KiB: a QProgressDialog counts in 32-bit ints, and networks reach hundreds of MB
        dialog.setMaximum(total // 1024 if total else 0)
        dialog.setValue(done // 1024 if total else 0)
        mb = f"{done / 2**20:.1f}" + (f" of {total / 2**20:.1f}" if total else "")
        dialog.setLabelText(f"{fetch.label}\n{mb} MB")

    def _finish(self, fetch: Fetch, callback: Callable[[Any], None], value: Any) -> None:
        fetch.close_dialog()
        if fetch in self.fetches:
            self.fetches.remove(fetch)
        callback(value)

    def resolve_network(
        self,
        arg: str,
        on_done: Callable[[str | None], None],
        on_failed: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> Fetch | None:
        """A network argument (path, URL or published name) as a local file, to on_done: a
        local path at once; a URL or name on a fetch thread, with a progress dialog when it is
        not cached yet. None when it was answered at once."""
        if network_url(arg) is None:
            try:  # a local path, or a near-miss of a published name (said with the suggestion)
                path = resolve_network(arg, offline=True)
            except DownloadError as exc:
                on_failed(str(exc))
                return None
            on_done(path)
            return None
        url = pending_download(arg)
        return self.start(
            download_label(arg),
            lambda progress, cancel: resolve_network(arg, progress=progress, cancel=cancel),
            on_done,
            on_failed,
            parent,
            show_progress=url is not None,
        )


def download_label(arg: str) -> str:
    """What a progress dialog says it downloads: a published network with its size and licence."""
    entry = find_network(arg)
    if entry is None:
        return f"Downloading {display_url(arg)}"
    return f"Downloading {entry.name} (about {entry.size_mb} MB; {entry.licence})"


def display_name(arg: str) -> str:
    """A network argument as the status bar names it: a file or URL by its last part."""
    return url_label(arg) if is_url(arg) else file_label(arg)
