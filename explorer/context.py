"""What every controller of the window is built from: one `Context` holding the render worker,
the state model, the open networks' `NetworkInfo`, a status sink, the remembered preferences and
the window that parents dialogs, and the fetcher that downloads. Nothing else is shared between
controllers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QLabel, QMessageBox, QStatusBar, QWidget

from explorer.fetcher import Fetcher
from explorer.network_info import NetworkInfo
from explorer.state import StateModel
from explorer.worker import Job, RenderWorker
from stylegan2.catalogue import cached_weights


class Status:
    """The status bar: passing messages, and the line naming the network (or a render error)."""

    def __init__(self, bar: QStatusBar, net_label: QLabel) -> None:
        self.bar = bar
        self.net_label = net_label

    def say(self, text: str, ms: int = 0) -> None:
        self.bar.showMessage(text, ms)

    def clear(self) -> None:
        self.bar.clearMessage()

    def message(self) -> str:
        return self.bar.currentMessage()

    def set_network_line(self, text: str) -> None:
        self.net_label.setText(text)

    def network_line(self) -> str:
        return self.net_label.text()


class Preferences:
    """Settings remembered between sessions (QSettings). A `--screenshot` run turns `persist`
    off: it must not overwrite the user's remembered session."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings
        self.persist = True
        self.lpips_weights: str | None = self.get_str("lpips_weights")

    def set(self, key: str, value: Any) -> None:
        if self.persist:
            self.settings.setValue(key, value)

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.value(key, default)

    def get_str(self, key: str) -> str | None:
        """A remembered text, or None when absent, empty or not text (a settings file edited
        by hand or damaged must not stop the app)."""
        value = self.settings.value(key)
        return value if isinstance(value, str) and value else None

    def get_bytes(self, key: str) -> QByteArray | None:
        """A remembered byte string (window geometry, splitter state), or None likewise."""
        value = self.settings.value(key)
        return value if isinstance(value, QByteArray | bytes) else None

    def set_lpips_weights(self, path: str | None) -> None:
        self.lpips_weights = path or None
        self.set("lpips_weights", path or "")

    def lpips_weights_to_use(self) -> str | None:
        """The VGG16 trunk LPIPS measures with: the one set, else the cached copy of NVIDIA's
        vgg16.pt (a Path-tab download or a command's), else None: the pixel fallback."""
        if self.lpips_weights:
            return self.lpips_weights
        cached = cached_weights("vgg16")
        return None if cached is None else str(cached)

    def recent_networks(self) -> list[str]:
        value = self.settings.value("recent_networks", [])
        if isinstance(value, str):
            value = [value]
        return [p for p in value if isinstance(p, str) and p] if isinstance(value, list) else []

    def add_recent_network(self, path: str) -> None:
        recent = [p for p in self.recent_networks() if p != path]
        self.set("recent_networks", [path, *recent][:10])


@dataclass
class Context:
    worker: RenderWorker
    model: StateModel
    status: Status
    prefs: Preferences
    window: QWidget  # the parent of dialogs
    device: str = "auto"
    # The open networks, the first one first, then any compared with it (as the worker's list).
    networks: list[NetworkInfo] = field(default_factory=list)
    # Downloads (networks by URL or published name, detector weights), off the render thread.
    fetcher: Fetcher = field(default_factory=Fetcher)

    @property
    def network(self) -> NetworkInfo | None:
        return self.networks[0] if self.networks else None

    @property
    def compared(self) -> NetworkInfo | None:
        return self.networks[1] if len(self.networks) > 1 else None

    def network_summary(self) -> str:
        """The status bar's line for the open networks: the first's summary, and the one it is
        compared with ("" before any opens)."""
        main, twin = self.network, self.compared
        if main is None:
            return ""
        if twin is None:
            return main.summary()
        return f"{main.summary()}   |   compared with {twin.name} ({twin.normalization})"

    def set_network(self, index: int, info: NetworkInfo) -> None:
        if index < len(self.networks):
            self.networks[index] = info
        else:
            self.networks.append(info)

    def run_job(
        self,
        label: str,
        fn: Callable[[Job], Any],
        on_done: Callable[[Any], None],
        on_progress: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """A worker job whose failure, unless on_error takes it, is said in the status bar as
        "<label> failed: …"; a success clears the bar's passing message."""

        def done(value: Any) -> None:
            self.status.clear()
            on_done(value)

        def failed(error: str) -> None:
            if on_error is not None:
                on_error(error)
            else:
                self.status.say(f"{label} failed: {error}", 8000)

        self.worker.run_job(fn, done, on_progress, failed)

    def with_suffix_confirmed(self, path: str, suffix: str) -> str:
        """A save dialog's answer with `suffix` added when typed without it (so the load dialog's
        filter finds the file); replacing a file under the added name is asked first, as the
        dialog asked only about the name typed. '' for no."""
        if not path or path.lower().endswith(suffix):
            return path
        full = path + suffix
        if Path(full).exists():
            answer = QMessageBox.question(
                self.window, "Replace file?", f"{full} exists. Replace it?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return ""
        return full

    def write_or_report(self, path: str, write: Callable[[str], Any]) -> bool:
        """Run write(path); an OS error (full disk, no permission) goes to the status bar."""
        try:
            write(path)
        except OSError as exc:
            self.status.say(f"cannot write {path}: {exc.strerror}", 8000)
            return False
        return True
