"""The tick scheduler: after every step it decides whether a tick ends and what that tick brings
(a stats row, a sample grid, a snapshot), keeps the run's clocks and drives the progress bar.
It only decides; `_Trainer.run` carries the decisions out and says when it is done, so that the
time spent on grids, snapshots and metrics is counted apart from training (img/s)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tqdm import tqdm

from stylegan2.safe_writes import write_text_atomic
from training.options import TrainOptions

log = logging.getLogger("training")


@dataclass(frozen=True)
class Decision:
    """What the end of a step brings; the trainer carries it out."""

    record: dict[str, Any] | None = None  # a tick ended: its stats.jsonl row
    # a sample grid to write: "init" (the untrained generator) or "tick" (named by the image
    # count, training.run_records.grid_path)
    grid: Literal["init", "tick"] | None = None
    snapshot: bool = False
    usage: bool = False  # add the resolution usage of G_ema to the record
    why: str | None = None  # why a snapshot comes off its tick schedule
    notes: tuple[str, ...] = ()  # lines for the log

    @property
    def work(self) -> bool:
        return self.record is not None or self.grid is not None or self.snapshot


class TickScheduler:
    """`main`: the process that writes; only its counters go into snapshots. Decisions by wall
    time are taken there alone: nothing at a tick is collective, so the other processes need
    not agree on where ticks end."""

    def __init__(
        self, opts: TrainOptions, counters: dict[str, Any], main: bool, show_progress: bool
    ) -> None:
        self.opts, self.c, self.main = opts, counters, main
        c = counters
        if "maintenance" not in c:
            # Time on grids, snapshots and metrics: part of `elapsed`, not of img/s. A run that
            # started before this was counted only has it from its resume on.
            c["maintenance"] = 0.0
            c["maintenance_from_kimg"] = c["cur_nimg"] / 1000
        self.tick_start_nimg = c["cur_nimg"]
        self.maintenance = 0.0  # seconds the previous tick spent on grids, snapshots, metrics
        self.steps = 0
        self.last_snapshot = time.monotonic()
        self.bar = (
            tqdm(
                total=round(opts.kimg, 3),
                initial=round(c["cur_nimg"] / 1000, 3),
                unit="kimg",
                dynamic_ncols=True,
                leave=False,
            )
            if show_progress
            else None
        )
        self.tick_start_time = self.last = time.monotonic()
        self._decided_at: float | None = None
        self._at_tick = False

    def begin(self) -> Decision:
        """Before the first step: a fresh run's grid of the untrained generator."""
        self._decided_at, self._at_tick = time.monotonic(), False
        if self.main and self.c["cur_nimg"] == 0:
            return Decision(grid="init")
        return Decision()

    def after_step(self, stats: dict[str, list[float]], done: bool, stop: bool) -> Decision:
        """Called after every step. A tick ends after `--tick` kimg, at the end (`done`, `stop`)
        and when a snapshot is due by wall time; the caller then starts new `stats`."""
        c, opts = self.c, self.opts
        now = time.monotonic()
        c["elapsed"] += now - self.last
        self.last = now
        self.steps += 1
        notes = (self._first_step_note(now),) if self.steps == 1 and self.main else ()
        if self.bar is not None:
            self.bar.n = round(c["cur_nimg"] / 1000, 3)
            rate = (c["cur_nimg"] - self.tick_start_nimg) / max(now - self.tick_start_time, 1e-6)
            self.bar.set_postfix_str(f"{rate:.1f} img/s")
            self.bar.refresh()
        force = done or stop
        timed = (
            self.main
            and opts.snap_minutes > 0
            and time.monotonic() - self.last_snapshot >= 60 * opts.snap_minutes
        )
        if not force and not timed and c["cur_nimg"] - self.tick_start_nimg < opts.tick_kimg * 1000:
            return Decision(notes=notes)
        tick_time = now - self.tick_start_time
        nimg = c["cur_nimg"] - self.tick_start_nimg
        c["tick"] += 1
        record = {
            "kimg": c["cur_nimg"] / 1000,
            "tick": c["tick"],
            "timestamp": time.time(),  # (the wall clock; durations use the monotonic one)
            "sec_per_tick": tick_time,
            "img_per_sec": nimg / max(tick_time, 1e-6),
            "elapsed_sec": c["elapsed"],
            # time between ticks spent on grids, snapshots and metrics (not in img/s; in elapsed)
            "maintenance_sec": self.maintenance,
        }
        record.update({k: sum(float(x) for x in v) / len(v) for k, v in stats.items() if v})
        on_schedule = c["tick"] % opts.snap == 0
        snapshot = on_schedule or force or timed
        why = None
        if timed and not (on_schedule or force):
            why = f"{opts.snap_minutes:g} min since the last"
        if snapshot:
            self.last_snapshot = time.monotonic()
        image_ticks = opts.image_snapshot_ticks or opts.snap
        grid: Literal["tick"] | None = "tick" if c["tick"] % image_ticks == 0 or force else None
        self.tick_start_nimg = c["cur_nimg"]
        self._decided_at, self._at_tick = now, True
        return Decision(record, grid, snapshot, usage=snapshot, why=why, notes=notes)

    def _first_step_note(self, now: float) -> str:
        """Progress within seconds of the start, long before the first tick."""
        c, opts = self.c, self.opts
        nimg = c["cur_nimg"] - self.tick_start_nimg
        took = now - self.tick_start_time
        by_time = f" or {opts.snap_minutes:g} min" if opts.snap_minutes > 0 else ""
        return (
            f"kimg {c['cur_nimg'] / 1000:.3f}: first step of {nimg} images took {took:.1f} s "
            f"(warm-up included); ticks every {opts.tick_kimg:g} kimg, snapshots every "
            f"{opts.snap} ticks{by_time}"
        )

    def carried_out(self) -> None:
        """The last decision's work is done: its time counts as maintenance, and the next tick
        starts now."""
        if self._decided_at is None:
            return
        now = time.monotonic()
        spent = now - self._decided_at
        self.c["maintenance"] += spent
        self.c["elapsed"] += spent
        if self._at_tick:  # (the first record has none: the grid before training is not a tick's)
            self.maintenance = spent
        self.tick_start_time = self.last = now
        self._decided_at = None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def write_tick(run_dir: Path, record: dict[str, Any]) -> None:
    """A tick's row in stats.jsonl and its line in the log. A row that cannot be written (a full
    disk) is a warning: the snapshot that follows says whether the run can go on."""
    try:
        with open(run_dir / "stats.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
    except OSError as exc:
        log.warning("stats.jsonl: tick %d not written (%s)", record["tick"], exc.strerror or exc)
    nan = float("nan")
    log.info(
        "tick %d kimg %s %.1f img/s G %.3f D(real) %.3f D(fake) %.3f pl_mean %.3f",
        record["tick"],
        # Short ticks early in a run would all read "kimg 0.0".
        f"{record['kimg']:.1f}" if record["kimg"] >= 10 else f"{record['kimg']:.3f}",
        record["img_per_sec"],
        record.get("Loss/G/loss", nan),
        record.get("Loss/D/loss_real", nan),
        record.get("Loss/D/loss_fake", nan),
        record.get("pl_mean", nan),
    )


def truncate_stats(path: Path, kimg: float) -> int:
    """Drop the rows of ticks after `kimg` (a resumed run does those ticks again) and any line
    a kill cut short; returns how many went."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return 0
    kept = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and row.get("kimg", 0) <= kimg + 1e-9:
            kept.append(line)
    if len(kept) < len(lines):
        write_text_atomic(path, "".join(ln + "\n" for ln in kept))
    return len(lines) - len(kept)
