"""Keep Python's cyclic garbage collection on the GUI thread.

The collector runs in whichever thread happens to allocate. If that is the render worker and the
garbage holds Qt wrappers, their C++ destructors run off the GUI thread, wait for a Qt lock that
the GUI thread holds while it waits for the GIL, and the app freezes (seen in the test suite).
While a window is open, automatic collection is off and a timer collects on the GUI thread
whenever the allocation counts pass the usual thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

_active = 0


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject, interval_ms: int = 250) -> None:
        global _active
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        _active += 1
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)
        self.stopped = False

    def check(self) -> None:
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = self.threshold
        if c0 > t0:
            gc.collect(2 if c2 > t2 else 1 if c1 > t1 else 0)

    def stop(self) -> None:
        """Collect once more on this thread and give automatic collection back."""
        global _active
        if self.stopped:
            return
        self.stopped = True
        self.timer.stop()
        gc.collect()
        _active -= 1
        if _active == 0:
            gc.enable()
