"""The Speed tab's render thread count: torch's default until one is chosen, then remembered and
applied on the render thread."""

from __future__ import annotations

import torch

from explorer.context import Context
from explorer.frames import FrameController
from explorer.panels.performance import PerformancePanel


class SpeedController:
    def __init__(self, ctx: Context, panel: PerformancePanel, frames: FrameController) -> None:
        self.ctx = ctx
        self.panel = panel
        self.frames = frames
        try:
            n = int(ctx.prefs.get("render_threads") or 0)
        except (TypeError, ValueError):
            n = 0
        box = panel.threads
        box.setValue(n if n > 0 else torch.get_num_threads())
        if n > 0:
            ctx.worker.set_threads(box.value())
        box.valueChanged.connect(self.set_threads)
        panel.preview.currentIndexChanged.connect(lambda _i: frames.request_render())

    def set_threads(self, n: int) -> None:
        """CPU threads per frame (remembered; `--threads` sets it too)."""
        box = self.panel.threads
        box.blockSignals(True)
        box.setValue(n)
        box.blockSignals(False)
        self.ctx.worker.set_threads(box.value())
        self.ctx.prefs.set("render_threads", box.value())
        self.frames.request_render()
