"""The render worker: a QThread that owns the open networks and renders only the newest request.

The GUI calls `submit(request)` as often as it likes (every slider move); a request that arrives
while another is rendering replaces any older pending one, so the worker never falls behind.
Each request is rendered by every open network (the first, then any compared with it, each
adapted by `stylegan2.compare.adapt_request`) and comes back as one `Frame`. Frames carry the
request id; the window drops any frame older than one it has shown. Errors come back as data,
never as exceptions across threads.

Longer work (PCA, projection, a video) runs as `run_job(fn, on_done, on_progress)`: `fn(job)`
runs on the worker thread between frames, and the callbacks run on the GUI thread.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from explorer.network_info import NetworkInfo
from stylegan2 import checkpoints
from stylegan2.compare import adapt_request
from stylegan2.device import DeviceError, resolve_device
from stylegan2.paths import Path, request_at
from stylegan2.render import Renderer, RenderRequest, RenderResult

log = logging.getLogger(__name__)

_EXPECTED = (ValueError, RuntimeError, OSError)


@dataclass(frozen=True)
class PathFrame:
    """A request for the image at time `t` along a path: each network turns the path's
    keyframes into ws through its own mapping (so a compared network follows the path too)."""

    path: Path
    t: float
    frame: int
    request_id: int = 0

    def request_for(self, renderer: Renderer) -> RenderRequest:
        req = request_at(renderer, self.path, self.t, self.frame)
        return dataclasses.replace(req, request_id=self.request_id)


Request = RenderRequest | PathFrame


@dataclass(frozen=True)
class Frame:
    """One request rendered by every open network: the first network's result first."""

    request_id: int
    results: tuple[RenderResult, ...]
    path_frame: bool = False  # a position along a path, not the state's own image

    @property
    def main(self) -> RenderResult:
        return self.results[0]


@dataclass(frozen=True)
class Job:
    """What a job function gets on the worker thread."""

    renderers: tuple[Renderer, ...]  # the first network, then any compared with it
    progress: Callable[[Any], None]  # hands a payload to the job's on_progress (GUI thread)
    serve_pending: Callable[[], None]  # render the newest request now (long jobs call it)

    @property
    def main(self) -> Renderer:
        return self.renderers[0]

    def each(self, req: RenderRequest, fn: Callable[[Renderer, RenderRequest], Any]) -> list:
        """fn(renderer, req adapted to it) for every network. A failure on the first raises;
        on a compared network it gives None (the first network's result still counts)."""

        def adapted(r: Renderer) -> Any:
            return fn(r, req if r is self.main else adapt_request(req, r.G)[0])

        return self.each_renderer(adapted)

    def each_renderer(self, fn: Callable[[Renderer], Any]) -> list:
        """fn(renderer) for every network, the first one first. A failure on the first raises;
        on a compared network it gives None (the first network's result still counts)."""
        out = [fn(self.main)]
        for r in self.renderers[1:]:
            try:
                out.append(fn(r))
            except Exception as exc:
                log.warning("job failed on a compared network: %s", _one_line(exc))
                out.append(None)
        return out


@dataclass(frozen=True)
class _JobEntry:
    fn: Callable[[Job], Any]
    on_done: Callable[[Any], None]
    on_progress: Callable[[Any], None] | None
    on_error: Callable[[str], None]


@dataclass(frozen=True)
class _Load:
    index: int
    path: str
    device: str
    generation: int


class RenderWorker(QObject):
    frame_ready = Signal(object)  # Frame
    network_loaded = Signal(int, object)  # (index: 0 the first network, 1.. compared, info)
    network_failed = Signal(int, str, str)  # (index, path, error): what was open stays open
    _call = Signal(object, object)  # (callback, argument): runs the callback on the GUI thread

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        self._cond = threading.Condition()
        self._pending: Request | None = None
        self._loads: list[_Load] = []
        self._jobs: list[_JobEntry] = []
        self._stop = False
        self._renderers: list[Renderer] = []
        self._generation = 0  # bumped by close_compared: a compare load then in flight drops
        self._threads = threads
        self._ids = itertools.count(1)
        self.last_id = 0  # the id of the newest request submitted
        # The worker object stays in the GUI thread; only its loop runs in the QThread. What the
        # loop hands over goes through `_call` to `_on_gui_thread`, a slot of this object, so
        # it arrives as a queued call and every public signal is emitted on the GUI thread.
        self._call.connect(self._on_gui_thread)
        self._thread = _LoopThread(self._loop)
        self._thread.setObjectName("render-worker")

    # Called from the GUI thread ------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def submit(self, request: Request) -> int:
        """Queue a request (replacing any older one not yet rendered); returns its id."""
        self.last_id = next(self._ids)
        request = dataclasses.replace(request, request_id=self.last_id)
        with self._cond:
            self._pending = request
            self._cond.notify()
        return self.last_id

    def load_network(self, path: str, device: str = "auto", index: int = 0) -> None:
        """Open a network as the first (index 0) or as one compared with it (index 1): every
        request is then rendered by each open network."""
        with self._cond:
            dropped: list[_JobEntry] = []
            if index == 0:
                # Jobs built for the old network must not run on the new one.
                dropped, self._jobs = self._jobs, []
            self._loads = [x for x in self._loads if x.index != index]
            self._loads.append(_Load(index, path, device, self._generation))
            self._loads.sort(key=lambda x: x.index)  # the first network first: others adapt
            self._cond.notify()
        for job in dropped:
            job.on_error("cancelled: another network was opened")

    def close_compared(self) -> None:
        """Keep only the first network: no later request is rendered with the others (one being
        rendered now keeps the renderers it took)."""
        with self._cond:
            self._loads = [x for x in self._loads if x.index == 0]
            self._renderers = self._renderers[:1]
            self._generation += 1

    def network_count(self) -> int:
        with self._cond:
            return len(self._renderers)

    def run_job(
        self,
        fn: Callable[[Job], Any],
        on_done: Callable[[Any], None],
        on_progress: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Run fn(job) on the worker thread between frames; its value goes to on_done, each
        job.progress(payload) to on_progress, and a failure's one-line text to on_error, all
        called on the GUI thread."""
        entry = _JobEntry(fn, on_done, on_progress, on_error or _log_error)
        with self._cond:
            self._jobs.append(entry)
            self._cond.notify()

    def set_threads(self, n: int) -> None:
        """CPU threads for rendering, from the next frame or job on. OpenMP keeps its count per
        thread, so the worker thread sets it itself (with or without a network open)."""
        with self._cond:
            self._threads = n
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.wait()

    @Slot(object, object)
    def _on_gui_thread(self, fn: Callable[[Any], None], arg: Any) -> None:
        fn(arg)

    # Worker thread -------------------------------------------------------------------------------
    def _emit(self, signal, *args: Any) -> None:
        self._call.emit(lambda _: signal.emit(*args), None)

    def _serve_pending(self) -> None:
        """Render the newest request now, from inside a long job, so that the image keeps
        following the controls while a projection or PCA runs."""
        with self._cond:
            req, self._pending = self._pending, None
            renderers = tuple(self._renderers)
        if req is not None:
            self._emit(self.frame_ready, self._render(req, renderers))

    def _loop(self) -> None:
        applied = None
        while True:
            with self._cond:
                while (
                    not self._stop
                    and self._pending is None
                    and not self._loads
                    and not self._jobs
                    and self._threads == applied
                ):
                    self._cond.wait()
                if self._stop:
                    return
                threads = self._threads
                load = self._loads.pop(0) if self._loads else None
                req = None if load else self._pending
                if req is not None:
                    self._pending = None
                job = self._jobs.pop(0) if (load is None and req is None and self._jobs) else None
                renderers = tuple(self._renderers)
            if threads != applied:  # before the work it was set for
                if threads:
                    torch.set_num_threads(threads)
                applied = threads
            if load is not None:
                self._load(load)
            elif req is not None:
                try:
                    frame = self._render(req, renderers)
                except Exception as exc:  # a render failure must reach the GUI, not end the loop
                    log.warning("render failed", exc_info=True)
                    error = RenderResult(request_id=req.request_id, error=_one_line(exc))
                    frame = Frame(req.request_id, (error,), isinstance(req, PathFrame))
                self._emit(self.frame_ready, frame)
            elif job is not None:
                self._run(job, renderers)

    def _run(self, entry: _JobEntry, renderers: tuple[Renderer, ...]) -> None:
        if not renderers:
            self._call.emit(entry.on_error, "no network loaded")
            return
        on_progress = entry.on_progress

        def progress(payload: Any) -> None:
            if on_progress is not None:
                self._call.emit(on_progress, payload)

        try:
            value = entry.fn(Job(renderers, progress, self._serve_pending))
        except Exception as exc:  # any failure must reach the GUI, not end the loop
            log.warning("job failed: %s", _one_line(exc), exc_info=not isinstance(exc, _EXPECTED))
            self._call.emit(entry.on_error, _one_line(exc))
            return
        self._call.emit(entry.on_done, value)

    def _render(self, req: Request, renderers: tuple[Renderer, ...]) -> Frame:
        path_frame = isinstance(req, PathFrame)
        if not renderers:
            error = RenderResult(request_id=req.request_id, error="no network loaded")
            return Frame(req.request_id, (error,), path_frame)
        try:
            main_req = req.request_for(renderers[0]) if isinstance(req, PathFrame) else req
        except (ValueError, RuntimeError) as exc:
            error = RenderResult(request_id=req.request_id, error=str(exc))
            return Frame(req.request_id, (error,), path_frame)
        results = [renderers[0].render(main_req)]
        for r in renderers[1:]:
            own, notes = None, ()
            if isinstance(req, PathFrame):
                try:
                    own = req.request_for(r)  # the path through this network's own mapping
                except (ValueError, RuntimeError):
                    own = None
            if own is None:
                own, notes = adapt_request(main_req, r.G)
            result = r.render(own)
            result.notes = notes
            results.append(result)
        return Frame(req.request_id, tuple(results), path_frame)

    def _load(self, load: _Load) -> None:
        try:
            ckpt = checkpoints.load_checkpoint(load.path, device=resolve_device(load.device))
            info = NetworkInfo.of(ckpt, str(FilePath(load.path)))
        except (checkpoints.CheckpointError, DeviceError, OSError) as exc:
            self._emit(self.network_failed, load.index, load.path, str(exc))
            return
        except Exception as exc:  # a loader bug must not kill the render thread
            log.exception("loading %s", load.path)
            message = f"{load.path}: cannot load ({type(exc).__name__}: {exc})"
            self._emit(self.network_failed, load.index, load.path, message)
            return
        with self._cond:
            if load.index > 0 and load.generation != self._generation:
                return  # comparing was stopped while this file loaded
            renderer = Renderer(ckpt.G_ema)
            if load.index < len(self._renderers):
                self._renderers[load.index] = renderer
            elif load.index == len(self._renderers):
                self._renderers.append(renderer)
            else:
                self._emit(self.network_failed, load.index, load.path, "open a network first")
                return
        self._emit(self.network_loaded, load.index, info)


def _log_error(error: str) -> None:
    log.warning("job failed: %s", error)


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text if isinstance(exc, _EXPECTED) and text else f"{type(exc).__name__}: {text}"


class _LoopThread(QThread):
    def __init__(self, target: Callable[[], None]) -> None:
        super().__init__()
        self._target = target

    def run(self) -> None:
        self._target()
