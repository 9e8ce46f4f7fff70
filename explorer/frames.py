"""The render round trip of the window: the state's request to the worker (a cheap preview while
controls move, then the full frame), and each arriving frame onto the screen unless a newer one is
already there. Other controllers follow `shown` for their part of a frame."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from explorer.context import Context
from explorer.image_view import ImageView
from explorer.worker import Frame, Request

RENDER_ERROR = "render error"


class FrameController(QObject):
    shown = Signal(object)  # a Frame now on screen (its first network rendered without error)
    first_image_shown = Signal()

    def __init__(
        self,
        ctx: Context,
        view: ImageView,
        time_label: QLabel,
        preview_factor: Callable[[], int],
        capture: Callable[[], tuple[str, ...]],
        readout: Callable[[Frame], str],
    ) -> None:
        """`preview_factor`: 0 for no drag previews, else the resolution divisor; `capture`: the
        layers to capture now; `readout`: text put before a frame's time (the path length at a
        path position)."""
        super().__init__(ctx.window)
        self.ctx = ctx
        self.view = view
        self.time_label = time_label
        self.preview_factor = preview_factor
        self.capture = capture
        self.readout = readout
        self.last: Frame | None = None  # the frame on screen
        self.shown_id = 0  # its request id (or a newer failed one's)
        self.state_id = 0  # the newest request made from the state (not a path position)
        self.full_timer = QTimer(self)
        self.full_timer.setSingleShot(True)
        self.full_timer.setInterval(250)
        self.full_timer.timeout.connect(self._submit_full)
        ctx.worker.frame_ready.connect(self.show)
        ctx.model.subscribe(lambda _changed: self.request_render())

    def request_render(self) -> None:
        """Render the state; with preview on, a cheap partial image now and the full one once the
        state has been still for a moment (each newer request replaces the older)."""
        info = self.ctx.network
        if info is None:
            return
        factor = self.preview_factor()
        if factor:
            res = max(info.resolution // factor, 4)
            self.state_id = self.ctx.worker.submit(
                dataclasses.replace(self._request(), preview_resolution=res)
            )
            self.full_timer.start()
            return
        self._submit_full()

    def submit(self, request: Request) -> int:
        """A request that is not the state's (a path position): its image carries no state."""
        return self.ctx.worker.submit(request)

    def _submit_full(self) -> None:
        self.state_id = self.ctx.worker.submit(self._request())

    def _request(self):
        return self.ctx.model.state.to_request(capture=self.capture())

    def reset(self) -> None:
        """Another network: the next frame is the first of its own."""
        self.shown_id = 0
        self.view.image = None

    def show(self, frame: Frame) -> None:
        if frame.request_id <= self.shown_id:
            return  # stale: a newer image is already on screen
        self.shown_id = frame.request_id
        result = frame.main
        status = self.ctx.status
        if result.error:
            status.set_network_line(f"{RENDER_ERROR}: {result.error}")
            return
        info = self.ctx.network
        if status.network_line().startswith(RENDER_ERROR) and info is not None:
            status.set_network_line(self.ctx.network_summary())  # recovered
        first = self.view.image is None
        self.last = frame
        self.view.set_image(result.image)
        kind = "preview" if result.preview_resolution else "frame"
        self.time_label.setText(
            f"{self.readout(frame)}{kind} {result.timings.get('total', 0):.0f} ms"
        )
        self.shown.emit(frame)
        if first:
            self.first_image_shown.emit()

    def state_on_screen(self) -> bool:
        """Whether the image on screen is the current state's: not a path position, an older
        frame while a newer one renders, or the last good frame after a render error."""
        last = self.last
        return last is not None and not last.path_frame and last.request_id == self.state_id

    def preview_on_screen(self) -> bool:
        """True (and says so) while a low-resolution drag preview stands in for the frame."""
        if self.last is not None and self.last.main.preview_resolution:
            self.ctx.status.say(
                "the full-resolution frame is still rendering: try again in a moment", 6000
            )
            return True
        return False
