"""The render worker: a QThread that owns the network and renders only the newest request.

The GUI calls `submit(request)` as often as it likes (every slider move); a request that arrives
while another is rendering replaces any older pending one, so the worker never falls behind.
Results carry the request id; the window drops any result older than one it has shown.
Errors come back inside the result, never as exceptions across threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PySide6.QtCore import QObject, QThread, Signal

from stylegan2.render import Renderer, RenderRequest, RenderResult

log = logging.getLogger(__name__)


class RenderWorker(QObject):
    result_ready = Signal(object)  # RenderResult
    network_loaded = Signal(object, str)  # (info dict, path) after a successful load
    network_failed = Signal(str, str)  # (path, error): the previous network stays in use
    compare_loaded = Signal(object, str)  # (info dict, path) of the second network, compare mode
    compare_failed = Signal(str, str)  # (path, error)
    job_done = Signal(str, object, str)  # (job name, result or None, error or "")
    job_progress = Signal(str, int, int)  # (job name, done, total) from long jobs
    job_update = Signal(str, object)  # (job name, payload) intermediate results of long jobs

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        self._cond = threading.Condition()
        self._pending: RenderRequest | None = None
        self._pending_loads: dict[bool, tuple[str, str, bool]] = {}  # by compare flag
        self._jobs: list[tuple[str, Callable[[Renderer], Any], bool]] = []
        self._stop = False
        self._renderer: Renderer | None = None
        self._compare: Renderer | None = None  # compare mode: renders every request too
        self._compare_generation = 0  # bumped by close_compare: a load then in flight is dropped
        self._threads = threads
        # The worker object stays in the GUI thread; only its loop runs in the QThread. Signals
        # it emits from there reach GUI-thread receivers as queued calls.
        self._thread = _LoopThread(self._loop)
        self._thread.setObjectName("render-worker")

    # Called from the GUI thread ------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def submit(self, request: RenderRequest | Callable[[Renderer], RenderRequest]) -> None:
        """A request, or a function that builds one from the renderer on the worker thread (path
        positions need the network to turn keyframes into ws)."""
        with self._cond:
            self._pending = request  # newest wins: an unrendered older request is dropped
            self._cond.notify()

    def load_network(self, path: str, device: str = "auto", compare: bool = False) -> None:
        """Load the main network, or with `compare` the second one that every request is also
        rendered with (adapted by `stylegan2.compare.adapt_request`)."""
        with self._cond:
            if not compare:
                # Jobs built for the old network must not run on the new one.
                dropped, self._jobs = self._jobs, []
            else:
                dropped = []
            self._pending_loads[compare] = (path, device, compare, self._compare_generation)
            self._cond.notify()
        for name, _fn, _both in dropped:
            self.job_done.emit(name, None, "cancelled: another network was opened")

    def close_compare(self) -> None:
        """Leave compare mode: no later request is rendered with the second network (one being
        rendered now keeps the reference it took)."""
        with self._cond:
            self._pending_loads.pop(True, None)
            self._compare = None
            self._compare_generation += 1

    def run_job(
        self, name: str, fn: Callable[..., Any], both: bool = False, pair: bool = False
    ) -> None:
        """Run fn(renderer) on the worker thread between frames; the result comes back through
        `job_done`. Exceptions of the usual kinds come back as the error text. With `both`, the
        result is (fn(main), fn(compare, True) or None) so that a figure can show both networks;
        the flag tells the function to adapt its request to the second network. With `pair`,
        fn(main, compare or None) is called once (a side-by-side video)."""
        if pair:
            fn = _Paired(fn)
        with self._cond:
            self._jobs.append((name, fn, both))
            self._cond.notify()

    def set_threads(self, n: int) -> None:
        """CPU threads for rendering, from the next frame or job on. OpenMP keeps its count per
        thread, so the worker thread sets it itself (with or without a network open)."""
        with self._cond:
            self._threads = n
            self._cond.notify()

    def serve_pending(self) -> None:
        """Call from inside a long job (it runs on the worker thread): render the newest request
        now, so that the image keeps following the controls while a projection or PCA runs."""
        with self._cond:
            req, self._pending = self._pending, None
        if req is None:
            return
        try:
            result = self._render(req)
        except Exception as exc:  # the job must go on; the request gets its error shown
            log.warning("render between job steps failed", exc_info=True)
            result = RenderResult(request_id=getattr(req, "request_id", 0), error=_one_line(exc))
        self.result_ready.emit(result)

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.wait()

    # Worker thread -------------------------------------------------------------------------------
    def _loop(self) -> None:
        applied = None
        while True:
            with self._cond:
                while (
                    not self._stop
                    and self._pending is None
                    and not self._pending_loads
                    and not self._jobs
                    and self._threads == applied
                ):
                    self._cond.wait()
                if self._stop:
                    return
                threads = self._threads
                # The main network first: a compare network is adapted to it.
                load = self._pending_loads.pop(False, None) or self._pending_loads.pop(True, None)
                req = None if load else self._pending
                if req is not None:
                    self._pending = None
                job = self._jobs.pop(0) if (load is None and req is None and self._jobs) else None
            if threads != applied:  # before the work it was set for
                if threads:
                    torch.set_num_threads(threads)
                applied = threads
            if load is not None:
                self._load(*load)
            elif req is not None:
                self.result_ready.emit(self._render(req))
            elif job is not None:
                self._run(*job)

    def _run(self, name: str, fn: Callable[[Renderer], Any], both: bool = False) -> None:
        if self._renderer is None:
            self.job_done.emit(name, None, "no network loaded")
            return
        compare = self._compare  # read once: the GUI thread may close compare mode meanwhile
        try:
            main = (
                fn.call(self._renderer, compare) if isinstance(fn, _Paired) else fn(self._renderer)
            )
        except Exception as exc:  # any failure must reach the GUI, not end the loop
            log.warning("job %s failed", name, exc_info=not isinstance(exc, _EXPECTED))
            self.job_done.emit(name, None, _one_line(exc))
            return
        if not both:
            self.job_done.emit(name, main, "")
            return
        second = None
        if compare is not None:
            try:
                second = fn(compare, True)
            except Exception as exc:  # the first network's result still counts
                log.warning("job %s failed on the compare network: %s", name, _one_line(exc))
        self.job_done.emit(name, (main, second), "")

    def _render(self, req) -> RenderResult:
        if self._renderer is None:
            return RenderResult(request_id=getattr(req, "request_id", 0), error="no network loaded")
        builder = req if callable(req) else None
        if builder is not None:
            try:
                req = builder(self._renderer)
            except (ValueError, RuntimeError) as exc:
                return RenderResult(request_id=getattr(req, "request_id", 0), error=str(exc))
        result = self._renderer.render(req)
        compare = self._compare
        if compare is not None:
            from stylegan2.compare import adapt_request

            twin_req, notes = None, ()
            if builder is not None:
                # A path position built on the twin itself: seed keyframes map through its own
                # mapping, so the twin follows the path instead of showing one seed.
                try:
                    twin_req = builder(compare)
                except (ValueError, RuntimeError):
                    twin_req = None
            if twin_req is None:
                twin_req, notes = adapt_request(req, compare.G)
            result.twin = compare.render(twin_req)
            result.notes = notes
        return result

    def _load(self, path: str, device: str, compare: bool = False, generation: int = 0) -> None:
        from stylegan2.checkpoints import CheckpointError, load_checkpoint
        from stylegan2.device import DeviceError, resolve_device
        from stylegan2.info import describe

        try:
            ckpt = load_checkpoint(path, device=resolve_device(device))
            info = describe(ckpt)
            info["layers"] = ckpt.G_ema.layers()
            info["device"] = str(ckpt.G_ema.device)
        except (CheckpointError, DeviceError, OSError) as exc:
            (self.compare_failed if compare else self.network_failed).emit(path, str(exc))
            return
        except Exception as exc:  # a loader bug must not kill the render thread
            log.exception("loading %s", path)
            message = f"{path}: cannot load ({type(exc).__name__}: {exc})"
            (self.compare_failed if compare else self.network_failed).emit(path, message)
            return
        if compare:
            with self._cond:
                if generation != self._compare_generation:
                    return  # compare mode was closed while this file loaded
                self._compare = Renderer(ckpt.G_ema)
            self.compare_loaded.emit(info, str(Path(path)))
        else:
            self._renderer = Renderer(ckpt.G_ema)
            self.network_loaded.emit(info, str(Path(path)))


_EXPECTED = (ValueError, RuntimeError, OSError)


class _Paired:
    """A job that takes both renderers at once."""

    def __init__(self, fn: Callable[[Renderer, Renderer | None], Any]) -> None:
        self.fn = fn

    def call(self, main: Renderer, compare: Renderer | None) -> Any:
        return self.fn(main, compare)


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text if isinstance(exc, _EXPECTED) and text else f"{type(exc).__name__}: {text}"


class _LoopThread(QThread):
    def __init__(self, target: Callable[[], None]) -> None:
        super().__init__()
        self._target = target

    def run(self) -> None:
        self._target()
