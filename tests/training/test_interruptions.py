"""Training that stops early keeps its work: SIGTERM and wall-time snapshots, a SIGKILLed
trainer's workers and lock, grids written whole, stale temporary files and stats rows of a
resumed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from stylegan2.networks import Generator
from tests.conftest import tiny_config
from tests.training.conftest import tiny_opts
from training.loop import train
from training.run_folder import acquire_lock, release_lock
from training.run_records import save_grid

# Fuzz, fault, subprocess and whole-app checks: CI runs them, the quick loop skips them.
pytestmark = pytest.mark.slow


def _start(data: Path, outdir: Path, *extra: str) -> subprocess.Popen:
    """A tiny `stylegan2-train` in a process of its own, long enough to be stopped."""
    args = [
        *("--data", str(data), "--outdir", str(outdir), "--cfg", "small", "--batch", "4"),
        *("--kimg", "1000", "--channel-max", "16", "--map", "1", "--device", "cpu"),
        *("--no-progress", "--threads", "1", *extra),
    ]
    return subprocess.Popen(
        [sys.executable, "-m", "training.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_log(outdir: Path, words: str, proc: subprocess.Popen) -> Path:
    """The run folder, once its log.txt says `words`."""
    deadline = time.time() + 120
    while time.time() < deadline:
        for log in outdir.glob("*/log.txt"):
            if words in log.read_text():
                return log.parent
        if proc.poll() is not None:
            pytest.fail(f"the trainer ended early: {proc.communicate()[1][-2000:]}")
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"no {words!r} in the log")


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_writes_a_snapshot_and_says_so(tiny_data, tmp_path):
    """`timeout`, a job scheduler or a closed session sends SIGTERM: handled as Ctrl-C is.
    Progress shows after the first step, long before the first tick."""
    proc = _start(tiny_data, tmp_path, "--workers", "0", "--tick", "1000", "--snap", "1000")
    _wait_for_log(tmp_path, "first step of 4 images took", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err[-2000:]  # 128 + 15: a script sees it did not finish
    assert "interrupted (SIGTERM): snapshot written, resume with --resume latest" in err
    assert "stylegan2-train: interrupted by SIGTERM" in err
    assert len(list(tmp_path.glob("*/network-snapshot-*.safetensors"))) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_trainer_leaves_no_worker_and_no_lock(tiny_data, tmp_path, capsys):
    from training.cli import main

    proc = _start(tiny_data, tmp_path, "--workers", "1", "--tick", "0.008", "--snap", "1")
    run = _wait_for_log(tmp_path, "snapshot network-snapshot", proc)
    workers = _children(proc.pid)
    assert workers, "no data-loader worker"
    # While it runs, a second trainer is told in one line which process holds the folder.
    argv = ["--data", str(tiny_data), "--outdir", str(tmp_path), "--resume", "latest"]
    assert main([*argv, "--cfg", "small", "--device", "cpu", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"is in use by another trainer (pid {proc.pid} on" in err
    proc.kill()
    proc.communicate()
    lock = acquire_lock(run)  # at once: no worker kept the lock
    release_lock(lock)
    deadline = time.time() + 5
    while any(map(_alive, workers)) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, workers)), "a data-loader worker outlived the trainer"


def test_snapshots_by_wall_time(tiny_data, tmp_path):
    run = train(tiny_opts(tiny_data, tmp_path, kimg=0.016, snap_minutes=1e-5), progress=False)
    log = (run / "log.txt").read_text()
    assert log.count("(1e-05 min since the last)") == 3  # steps 1-3; the 4th is the last
    assert len(list(run.glob("network-snapshot-*.safetensors"))) == 4
    rows = (run / "stats.jsonl").read_text().splitlines()
    assert [json.loads(r)["kimg"] for r in rows] == [0.004, 0.008, 0.012, 0.016]


def test_resume_cleans_stale_temporary_files_and_truncates_stats(tiny_data, tmp_path):
    run = train(tiny_opts(tiny_data, tmp_path, kimg=0.008), progress=False)
    # A trainer killed after a later tick, during a snapshot and a grid write:
    with open(run / "stats.jsonl", "a") as f:
        f.write(json.dumps({"kimg": 0.012, "tick": 2}) + '\n{"kimg": 0.01')
    stale = [".network-snapshot-000000.safetensors.0123abcd.part", ".fakes000000.png.89abcdef.part"]
    for name in stale:
        (run / name).write_bytes(b"\0" * 100)
    assert train(tiny_opts(tiny_data, tmp_path, kimg=0.016, resume="latest"), progress=False) == run
    assert not any((run / name).exists() for name in stale)
    rows = [json.loads(r) for r in (run / "stats.jsonl").read_text().splitlines()]
    assert [r["kimg"] for r in rows] == [0.008, 0.016]
    log = (run / "log.txt").read_text()
    assert f"removed {stale[0]}, left by a trainer that was killed" in log
    assert "stats.jsonl: removed 2 rows after the snapshot" in log


def test_a_new_run_cleans_the_temps_of_idle_runs_but_not_of_busy_ones(tiny_data, tmp_path):
    idle = train(tiny_opts(tiny_data, tmp_path, kimg=0.004), progress=False)
    busy = train(tiny_opts(tiny_data, tmp_path, kimg=0.004), progress=False)
    name = ".network-snapshot-000000.safetensors.0123abcd.part"
    for run in (idle, busy):
        (run / name).write_bytes(b"\0" * 100)
    held = acquire_lock(busy)
    try:
        fresh = train(tiny_opts(tiny_data, tmp_path, kimg=0.004), progress=False)
    finally:
        release_lock(held)
    assert fresh not in (idle, busy)
    assert not (idle / name).exists() and (busy / name).exists()
    assert not (idle / "train.lock").exists()  # the sweep's lock went with it
    assert (
        f"removed {idle / name}, left by a trainer that was killed"
        in (fresh / "log.txt").read_text()
    )


def test_a_grid_write_that_dies_leaves_the_last_grid(tmp_path, monkeypatch):
    from PIL import Image

    G = Generator(tiny_config()).eval()
    path = tmp_path / "fakes000000.png"
    save_grid(G, torch.randn(4, G.z_dim), path)
    before = path.read_bytes()

    def killed_while_saving(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"\x89PNG, the first bytes")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", killed_while_saving)
    with pytest.raises(KeyboardInterrupt):
        save_grid(G, torch.randn(4, G.z_dim), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_full_disk_during_a_grid_write_is_a_message(tiny_data, tmp_path, monkeypatch):
    from PIL import Image

    def full(self, fp, *args, **kwargs):
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(Image.Image, "save", full)
    run = train(tiny_opts(tiny_data, tmp_path, kimg=0.008), progress=False)
    assert "sample grid not written: cannot write" in (run / "log.txt").read_text()
    assert list(run.glob("network-snapshot-*.safetensors"))
    assert not list(run.glob("*.png")) and not list(run.glob(".*"))
