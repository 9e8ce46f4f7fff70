"""The render worker: a QThread that owns the network and renders only the newest request.

The GUI calls `submit(request)` as often as it likes (every slider move); a request that arrives
while another is rendering replaces any older pending one, so the worker never falls behind.
Results carry the request id; the window drops any result older than one it has shown.
Errors come back inside the result, never as exceptions across threads.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import torch
from PySide6.QtCore import QObject, QThread, Signal

from stylegan2.render import Renderer, RenderRequest, RenderResult

log = logging.getLogger(__name__)


class RenderWorker(QObject):
    result_ready = Signal(object)  # RenderResult
    network_loaded = Signal(object, str)  # (info dict, path) after a successful load
    network_failed = Signal(str, str)  # (path, error): the previous network stays in use

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        self._cond = threading.Condition()
        self._pending: RenderRequest | None = None
        self._pending_load: tuple[str, str] | None = None
        self._stop = False
        self._renderer: Renderer | None = None
        self._threads = threads
        self._thread = QThread()
        self._thread.setObjectName("render-worker")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._loop)

    # Called from the GUI thread ------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def submit(self, request: RenderRequest) -> None:
        with self._cond:
            self._pending = request  # newest wins: an unrendered older request is dropped
            self._cond.notify()

    def load_network(self, path: str, device: str = "auto") -> None:
        with self._cond:
            self._pending_load = (path, device)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.quit()
        self._thread.wait(30_000)

    # Worker thread -------------------------------------------------------------------------------
    def _loop(self) -> None:
        if self._threads:
            torch.set_num_threads(self._threads)
        while True:
            with self._cond:
                while not self._stop and self._pending is None and self._pending_load is None:
                    self._cond.wait()
                if self._stop:
                    return
                load, self._pending_load = self._pending_load, None
                req = None if load else self._pending
                if req is not None:
                    self._pending = None
            if load is not None:
                self._load(*load)
            elif req is not None:
                self.result_ready.emit(self._render(req))

    def _render(self, req: RenderRequest) -> RenderResult:
        if self._renderer is None:
            return RenderResult(request_id=req.request_id, error="no network loaded")
        return self._renderer.render(req)

    def _load(self, path: str, device: str) -> None:
        from stylegan2.checkpoints import CheckpointError, load_checkpoint
        from stylegan2.device import DeviceError, resolve_device
        from stylegan2.info import describe

        try:
            ckpt = load_checkpoint(path, device=resolve_device(device))
        except (CheckpointError, DeviceError, OSError) as exc:
            self.network_failed.emit(path, str(exc))
            return
        self._renderer = Renderer(ckpt.G_ema)
        info = describe(ckpt)
        info["layers"] = ckpt.G_ema.layers()
        info["device"] = str(ckpt.G_ema.device)
        self.network_loaded.emit(info, str(Path(path)))
