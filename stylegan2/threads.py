"""How many CPU threads torch should use for one frame or one command.

On a desktop that is doing other work, torch's default (one thread per core) is often the slowest
choice: each parallel region waits for its slowest thread, and a thread whose core is taken by
another process stalls the whole region (measured on 2 cores with the other one busy:
`stylegan2 video` 26.4 s with two threads, 7.9 s with one). So unless the user says otherwise
(`--threads N`, or the STYLEGAN2_THREADS environment variable), the count is the cores that other
work leaves free, read from the 1-minute load average, and never fewer than one.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_VAR = "STYLEGAN2_THREADS"
# Far beyond any machine's cores, and far below the process-id limit: torch starts every thread
# it is told to, and 100,000 of them crash the process and starve the rest of the system.
MAX_THREADS = 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThreadChoice:
    count: int
    reason: str  # one line for a status bar or a log: where the count came from

    def __str__(self) -> str:
        return f"{self.count} thread{'s' if self.count != 1 else ''} ({self.reason})"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use, not the machine's
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no load average
        return None


def choose_threads(
    requested: int | None = None,
    env: Mapping[str, str] | None = None,
    cores: int | None = None,
    load: float | None = None,
    own_load: float = 0.0,
) -> ThreadChoice:
    """The thread count: `requested` if given, else $STYLEGAN2_THREADS, else the cores left free by
    other work. `own_load` is the part of the load average that is this process's own (a running
    explorer keeps about one core busy itself)."""
    if requested is not None:
        if not 1 <= requested <= MAX_THREADS:
            raise ValueError(f"--threads must be 1 to {MAX_THREADS}, got {requested}")
        return ThreadChoice(requested, "as asked")
    env = os.environ if env is None else env
    text = env.get(ENV_VAR, "").strip()
    if text:
        try:
            count = int(text)
        except ValueError:
            count = 0
        if not 1 <= count <= MAX_THREADS:
            raise ValueError(
                f"{ENV_VAR} must be a whole number from 1 to {MAX_THREADS}, got {text!r}"
            )
        return ThreadChoice(count, f"from {ENV_VAR}")
    cores = cores or _cores()
    load = _load() if load is None else load
    if load is None:
        return ThreadChoice(cores, f"{cores} cores, load unknown")
    other = max(load - own_load, 0.0)
    busy = min(math.floor(other + 0.5), cores)  # cores that other processes keep busy
    count = max(cores - busy, 1)
    return ThreadChoice(count, f"auto: {cores} cores, load {other:.1f} from other work")


def apply_threads(choice: ThreadChoice) -> None:
    """Set torch's intra-op thread count (interop threads are left alone: they can be set only
    once per process)."""
    import torch

    torch.set_num_threads(choice.count)
    log.info("torch CPU threads: %s", choice)
