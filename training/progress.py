"""Ticks: the progress line, `stats.jsonl`, `log.txt` entries, sample grids and snapshots."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING

from tqdm import tqdm

if TYPE_CHECKING:
    from training.loop import _Trainer

log = logging.getLogger("training")


class TickReporter:
    def __init__(self, trainer: _Trainer, show_progress: bool) -> None:
        self.t = trainer
        self.main = trainer.dist.is_main
        c = trainer.counters
        if "maintenance" not in c:
            # Time on grids, snapshots and metrics: part of `elapsed`, not of img/s. A run that
            # started before this was counted only has it from its resume on.
            c["maintenance"] = 0.0
            c["maintenance_from_kimg"] = c["cur_nimg"] / 1000
        self.tick_start_nimg = c["cur_nimg"]
        self.maintenance = 0.0  # seconds the previous tick spent on grids, snapshots, metrics
        total = trainer.opts.kimg
        self.bar = (
            tqdm(
                total=round(total, 3),
                initial=round(c["cur_nimg"] / 1000, 3),
                unit="kimg",
                dynamic_ncols=True,
                leave=False,
            )
            if show_progress
            else None
        )
        t0 = time.time()
        if self.main and c["cur_nimg"] == 0:
            trainer.image_grid(trainer.run_dir / "fakes_init.png")
        self.tick_start_time = self.last = time.time()
        self._add_maintenance(self.last - t0)

    def _add_maintenance(self, seconds: float) -> None:
        c = self.t.counters
        c["maintenance"] += seconds
        c["elapsed"] += seconds

    def step(self, stats: dict[str, list[float]], force: bool = False) -> bool:
        """Called after every step; returns True when a tick ended (stats were consumed)."""
        t = self.t
        c = t.counters
        now = time.time()
        c["elapsed"] += now - self.last
        self.last = now
        if self.bar is not None:
            self.bar.n = round(c["cur_nimg"] / 1000, 3)
            rate = (c["cur_nimg"] - self.tick_start_nimg) / max(now - self.tick_start_time, 1e-6)
            self.bar.set_postfix_str(f"{rate:.1f} img/s")
            self.bar.refresh()
        if not force and c["cur_nimg"] - self.tick_start_nimg < t.opts.tick_kimg * 1000:
            return False
        tick_time = now - self.tick_start_time
        nimg = c["cur_nimg"] - self.tick_start_nimg
        c["tick"] += 1
        record = {
            "kimg": c["cur_nimg"] / 1000,
            "tick": c["tick"],
            "timestamp": now,
            "sec_per_tick": tick_time,
            "img_per_sec": nimg / max(tick_time, 1e-6),
            "elapsed_sec": c["elapsed"],
            # time between ticks spent on grids, snapshots and metrics (not in img/s; in elapsed)
            "maintenance_sec": self.maintenance,
        }
        record.update({k: sum(float(x) for x in v) / len(v) for k, v in stats.items() if v})
        snap_now = c["tick"] % t.opts.snap == 0 or force
        if self.main:
            if snap_now:
                usage = t.usage()
                if usage:
                    record["resolution_usage"] = {str(r): v for r, v in usage.items()}
            with open(t.run_dir / "stats.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            nan = float("nan")
            log.info(
                "tick %d kimg %.1f %.1f img/s G %.3f D(real) %.3f D(fake) %.3f pl_mean %.3f",
                c["tick"],
                record["kimg"],
                record["img_per_sec"],
                record.get("Loss/G/loss", nan),
                record.get("Loss/D/loss_real", nan),
                record.get("Loss/D/loss_fake", nan),
                record.get("pl_mean", nan),
            )
            image_ticks = t.opts.image_snapshot_ticks or t.opts.snap
            if c["tick"] % image_ticks == 0 or force:
                t.image_grid(t.run_dir / f"fakes{int(record['kimg']):06d}.png")
            if snap_now and not force:  # the final snapshot is written by the loop itself
                t.write_snapshot()
        self.tick_start_nimg = c["cur_nimg"]
        self.tick_start_time = self.last = time.time()
        self.maintenance = self.tick_start_time - now
        self._add_maintenance(self.maintenance)
        return True

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
