"""The tick scheduler decides on its own (no trainer): ticks, grids, snapshots, the first-step
line, and what counts as maintenance time."""

from __future__ import annotations

import time

from training.options import TrainOptions
from training.progress import TickScheduler


def test_the_scheduler_decides_and_the_caller_carries_out():
    opts = TrainOptions(data="d", outdir="o", tick_kimg=0.008, snap=2, snap_minutes=0)
    c = {"cur_nimg": 0, "tick": 0, "elapsed": 0.0}
    ticks = TickScheduler(opts, c, main=True, show_progress=False)
    first = ticks.begin()
    assert first.grid == "init" and first.work and first.record is None
    time.sleep(0.01)  # the grid's time is maintenance, not training
    ticks.carried_out()
    assert c["maintenance"] >= 0.01 and c["elapsed"] >= 0.01
    decisions = []
    for nimg, done in ((4, False), (8, False), (12, False), (16, False), (18, True)):
        c["cur_nimg"] = nimg
        decisions.append(ticks.after_step({"Loss/G/loss": [1.0, 3.0]}, done=done, stop=False))
        if decisions[-1].work:
            ticks.carried_out()
    step1, tick1, step3, tick2, last = decisions
    assert step1.record is None and not step1.work
    assert step1.notes and "first step of 4 images" in step1.notes[0]
    assert tick1.record["tick"] == 1 and tick1.record["kimg"] == 0.008
    assert tick1.record["Loss/G/loss"] == 2.0 and tick1.record["maintenance_sec"] == 0
    assert not tick1.snapshot and tick1.grid is None and not step3.work
    assert tick2.snapshot and tick2.usage and tick2.grid == "tick"
    assert last.snapshot and last.grid and last.record["tick"] == 3 and not last.why
    assert c["tick"] == 3


def test_a_snapshot_comes_by_wall_time_on_the_main_process_only():
    opts = TrainOptions(data="d", outdir="o", tick_kimg=100, snap=100, snap_minutes=1e-6)
    for main in (True, False):
        c = {"cur_nimg": 4, "tick": 0, "elapsed": 0.0}
        ticks = TickScheduler(opts, c, main=main, show_progress=False)
        time.sleep(0.001)
        d = ticks.after_step({}, done=False, stop=False)
        assert d.snapshot is main and (d.why == "1e-06 min since the last") is main


def test_a_second_grid_within_one_kimg_gets_its_own_name(tmp_path):
    from training.run_records import grid_path

    assert grid_path(tmp_path, 0, initial=True).name == "fakes_init.png"
    assert grid_path(tmp_path, 1500).name == "fakes000001.png"
    (tmp_path / "fakes000001.png").write_bytes(b"")
    assert grid_path(tmp_path, 1750).name == "fakes000001.750.png"
    assert grid_path(tmp_path, 2000).name == "fakes000002.png"


def test_a_run_with_short_ticks_keeps_every_grid(tiny_data, tmp_path):
    from tests.training.conftest import tiny_opts
    from training.loop import train

    opts = tiny_opts(tiny_data, tmp_path, kimg=0.012, tick_kimg=0.004, snap=1)
    run = train(opts, progress=False)
    grids = sorted(p.name for p in run.glob("fakes*.png"))
    assert grids == [
        "fakes000000.008.png",
        "fakes000000.012.png",
        "fakes000000.png",
        "fakes_init.png",
    ]
