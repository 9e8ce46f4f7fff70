"""The Speed tab's render thread count. Unless one is chosen (the Speed tab, `--threads`, both
remembered), it is picked by `stylegan2.threads.choose_threads` from the cores that other work
leaves free, checked again every few seconds, and applied on the render thread; the tab says
what was chosen and why."""

from __future__ import annotations

import time
from collections import deque

import torch
from PySide6.QtCore import QTimer

from explorer.context import Context
from explorer.frames import FrameController
from explorer.panels.performance import PerformancePanel
from stylegan2.threads import MAX_THREADS, ThreadChoice, choose_threads

#: how often an automatic count is checked against the load
RECHECK_MS = 5000
#: the load average's span: this process's own CPU time over it is its own share of the load
LOAD_WINDOW_S = 60.0


class SpeedController:
    def __init__(self, ctx: Context, panel: PerformancePanel, frames: FrameController) -> None:
        self.ctx = ctx
        self.panel = panel
        self.frames = frames
        self.choice: ThreadChoice | None = None  # what the render thread uses, and why
        # (wall clock, this process's CPU seconds): what the explorer itself adds to the load
        # average. The CPU spent before this (starting up) counts as spent just now.
        self.cpu_samples: deque[tuple[float, float]] = deque([(time.monotonic(), 0.0)])
        self.timer = QTimer(ctx.window)
        self.timer.setInterval(RECHECK_MS)
        self.timer.timeout.connect(self.recheck)
        try:
            n = int(ctx.prefs.get("render_threads") or 0)
        except (TypeError, ValueError):
            n = 0
        if 0 < n <= MAX_THREADS:  # anything else in the file: pick from the load
            self._apply(ThreadChoice(n, "chosen in the Speed tab"), auto=False)
        else:
            self.auto()
        panel.threads.valueChanged.connect(self.set_threads)
        panel.auto_threads.toggled.connect(self._auto_toggled)
        panel.preview.currentIndexChanged.connect(lambda _i: frames.request_render())

    def set_threads(self, n: int, reason: str = "chosen in the Speed tab") -> None:
        """CPU threads per frame, as the user chose (remembered; `--threads` sets it too)."""
        self._apply(ThreadChoice(n, reason), auto=False)
        self.ctx.prefs.set("render_threads", self.panel.threads.value())
        self.frames.request_render()

    def auto(self) -> None:
        """Pick the count from the load from now on (and forget a remembered choice)."""
        self.ctx.prefs.set("render_threads", 0)
        self._apply(self._choose(), auto=True)
        self.timer.start()

    def recheck(self) -> None:
        """Choose again from the load now (every few seconds while automatic)."""
        if self.panel.auto_threads.isChecked():
            self._apply(self._choose(), auto=True)

    def own_load(self) -> float:
        """This process's CPU seconds over the last minute, per second: its own part of the
        1-minute load average (rendering keeps about one core busy)."""
        now, cpu = time.monotonic(), time.process_time()
        samples = self.cpu_samples
        samples.append((now, cpu))
        while len(samples) > 2 and now - samples[1][0] >= LOAD_WINDOW_S:
            samples.popleft()
        t0, c0 = samples[0]
        return max(cpu - c0, 0.0) / max(now - t0, LOAD_WINDOW_S)

    def _choose(self) -> ThreadChoice:
        try:
            return choose_threads(None, own_load=self.own_load())
        except ValueError as exc:  # a bad STYLEGAN2_THREADS
            return ThreadChoice(torch.get_num_threads(), f"{exc}; torch's default")

    def _apply(self, choice: ThreadChoice, auto: bool) -> None:
        box, check = self.panel.threads, self.panel.auto_threads
        count = min(max(choice.count, box.minimum()), box.maximum())
        if count != choice.count:
            choice = ThreadChoice(count, f"{choice.reason}; this process may use {count}")
        for w in (box, check):
            w.blockSignals(True)
        box.setValue(count)
        check.setChecked(auto)
        for w in (box, check):
            w.blockSignals(False)
        if not auto:
            self.timer.stop()
        if self.choice is None or self.choice.count != count:
            self.ctx.worker.set_threads(count)
        self.choice = choice
        self.panel.threads_note.setText(str(choice))

    def _auto_toggled(self, on: bool) -> None:
        if on:
            self.auto()
        else:
            self.set_threads(self.panel.threads.value())
