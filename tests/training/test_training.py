"""The trainer: penalties against autograd references, lazy intervals, exact resume, snapshots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from stylegan2.checkpoints import load_checkpoint
from stylegan2.config import DiscriminatorConfig
from stylegan2.networks import Discriminator, Generator
from tests.conftest import randomize_, tiny_config
from tests.training.conftest import tiny_opts
from training.batches import StepSampler
from training.loop import train
from training.loss import LossConfig, StyleGAN2Loss
from training.run_folder import RunFolderError
from training.snapshot import latest_snapshot

_opts = tiny_opts


def _nets():
    G = randomize_(Generator(tiny_config())).train()
    D = randomize_(
        Discriminator(DiscriminatorConfig(img_resolution=16, channel_base=128, channel_max=16))
    )
    return G, D


def test_r1_penalty_equals_autograd_reference():
    G, D = _nets()
    loss = StyleGAN2Loss(G, D, LossConfig(r1_gamma=3.0))
    real = torch.randn(4, 3, 16, 16)
    stats = loss.accumulate_gradients("Dreg", real, None, None, None, None, gain=16)
    x = real.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(D(x).sum(), x)
    assert math.isclose(
        stats["Loss/r1_penalty"], float(g.square().sum([1, 2, 3]).mean()), rel_tol=1e-5
    )
    # The gradient is that of gain * gamma/2 * mean(penalty).
    D.zero_grad()
    x = real.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    (g.square().sum([1, 2, 3]).mean() * 1.5 * 16).backward()
    ref = [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in D.parameters()]
    D.zero_grad()
    loss.accumulate_gradients("Dreg", real, None, None, None, None, gain=16)
    for a, b in zip(ref, [p.grad for p in D.parameters()], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_path_length_penalty_equals_autograd_reference():
    G, D = _nets()
    loss = StyleGAN2Loss(G, D, LossConfig(pl_weight=2.0, pl_batch_shrink=2, style_mixing_prob=0))
    z = torch.randn(4, 16)
    mix = (1.0, 1, torch.randn(4, 16))
    torch.manual_seed(5)
    stats = loss.accumulate_gradients("Greg", None, None, z, None, mix, gain=4)
    torch.manual_seed(5)
    G.eval()  # same ws and noise draws, without another w_avg update
    ws = G.mapping(z[:2]).detach().requires_grad_(True)
    img = G.synthesis(ws, noise_mode="random")
    y = torch.randn_like(img) / 16
    (g,) = torch.autograd.grad((img * y).sum(), ws)
    lengths = g.square().sum(2).mean(1).sqrt()
    pl_mean = 0.01 * lengths.mean()
    assert math.isclose(stats["pl_mean"], float(pl_mean), rel_tol=1e-4)
    assert math.isclose(
        stats["Loss/pl_penalty"], float((lengths - pl_mean).square().mean()), rel_tol=1e-4
    )


@pytest.mark.slow
def test_lazy_intervals_and_adam_corrections(tiny_data, tmp_path, monkeypatch):
    from training import loop

    calls: list[tuple[int, str, float]] = []
    real = loop.StyleGAN2Loss.accumulate_gradients

    def spy(self, phase, *args, gain):
        calls.append((self.G.training and 0, phase, gain))
        return real(self, phase, *args, gain=gain)

    monkeypatch.setattr(loop.StyleGAN2Loss, "accumulate_gradients", spy)
    trainer_opts = _opts(tiny_data, tmp_path / "runs", kimg=0.068)  # 17 steps of 4
    train(trainer_opts, progress=False)
    phases = [p for _, p, _ in calls]
    assert phases.count("Gmain") == 17 and phases.count("Dmain") == 17
    assert phases.count("Greg") == 5  # steps 0, 4, 8, 12, 16
    assert phases.count("Dreg") == 2  # steps 0, 16
    assert {g for _, p, g in calls if p == "Greg"} == {4} and {
        g for _, p, g in calls if p == "Dreg"
    } == {16}
    # Adam: lr * c and betas ** c with c = I / (I + 1), stored in the snapshot.
    snap = latest_snapshot(next((tmp_path / "runs").iterdir()))
    ck = load_checkpoint(snap)
    groups = ck.metadata["extra"]["optimizers"]
    g = groups["G"]["param_groups"][0]
    d = groups["D"]["param_groups"][0]
    assert math.isclose(g["lr"], 0.0025 * 4 / 5) and math.isclose(g["betas"][1], 0.99 ** (4 / 5))
    assert math.isclose(d["lr"], 0.0025 * 16 / 17) and math.isclose(
        d["betas"][1], 0.99 ** (16 / 17)
    )
    assert g["betas"][0] == 0


@pytest.mark.slow
def test_resume_continues_exactly(tiny_data, tmp_path):
    straight = train(_opts(tiny_data, tmp_path / "a", kimg=0.048), progress=False)  # 12 steps
    first = train(_opts(tiny_data, tmp_path / "b", kimg=0.048), max_steps=6, progress=False)
    again = train(_opts(tiny_data, tmp_path / "b", kimg=0.048, resume="latest"), progress=False)
    assert first == again
    a = load_checkpoint(latest_snapshot(straight))
    b = load_checkpoint(latest_snapshot(again))
    assert a.metadata["extra"]["counters"]["step"] == b.metadata["extra"]["counters"]["step"] == 12
    for net in ("G_ema", "G", "D"):
        sa, sb = getattr(a, net).state_dict(), getattr(b, net).state_dict()
        for k in sa:
            torch.testing.assert_close(sa[k], sb[k], atol=1e-5, rtol=1e-4, msg=f"{net}.{k}")


def test_snapshot_loads_in_generate_and_has_logs(tiny_data, tmp_path):
    from stylegan2.cli.main import main

    run = train(_opts(tiny_data, tmp_path / "r", kimg=0.016), progress=False)
    snaps = sorted(run.glob("network-snapshot-*.safetensors"))
    assert snaps and (run / "stats.jsonl").exists() and (run / "log.txt").exists()
    assert (run / "fakes_init.png").exists() and (run / "training_options.json").exists()
    assert (
        main(
            [
                "generate",
                "--network",
                str(snaps[-1]),
                "--seeds",
                "0-1",
                "--outdir",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )
    import json

    records = [json.loads(ln) for ln in (run / "stats.jsonl").read_text().splitlines()]
    usage = records[-1]["resolution_usage"]
    assert set(usage) == {"4", "8", "16"} and math.isclose(sum(usage.values()), 1.0, rel_tol=1e-6)
    # Ticks after the first carry the time the previous one spent on grids and snapshots.
    assert records[0]["maintenance_sec"] == 0 and all(r["maintenance_sec"] >= 0 for r in records)
    counters = load_checkpoint(snaps[-1]).metadata["extra"]["counters"]
    assert 0 < counters["maintenance"] <= counters["elapsed"]  # the grids, fakes_init included
    assert counters["maintenance_from_kimg"] == 0


def test_sampler_order_is_independent_of_start():
    full = StepSampler(10, 4, 0, 1, seed=3, start=0)
    it = iter(full)
    batches = [next(it) for _ in range(6)]
    resumed = iter(StepSampler(10, 4, 0, 1, seed=3, start=3))
    assert [next(resumed) for _ in range(3)] == batches[3:]
    flat = np.concatenate(batches[:5])[:10]
    assert sorted(flat.tolist()) == list(range(10))  # epoch 0 is a permutation
    # Two ranks split each global batch.
    r0 = next(iter(StepSampler(10, 4, 0, 2, seed=3, start=0)))
    r1 = next(iter(StepSampler(10, 4, 1, 2, seed=3, start=0)))
    assert r0 + r1 == batches[0]


def _free_port() -> int:
    """A port nothing listens on now (a fixed one clashes with a concurrent or lingering run)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_equal_one(tiny_data, tmp_path):
    """torchrun with 2 CPU processes (gloo) gives the single-process result for the same batch."""
    import subprocess
    import sys

    common = [
        "--data",
        str(tiny_data),
        "--cfg",
        "small",
        "--batch",
        "4",
        "--kimg",
        "0.016",
        "--channel-max",
        "16",
        "--map",
        "1",
        "--workers",
        "0",
        "--device",
        "cpu",
        "--no-progress",
        "--tick",
        "1",
    ]
    # mbstd groups and per-sample noise would differ between layouts by design; PL is per rank.
    env_opts = ["--test-equivalence"]
    one = subprocess.run(
        [
            sys.executable,
            "-m",
            "training.cli",
            *common,
            *env_opts,
            "--outdir",
            str(tmp_path / "one"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            str(_free_port()),
            "-m",
            "training.cli",
            *common,
            *env_opts,
            "--outdir",
            str(tmp_path / "two"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    a = load_checkpoint(latest_snapshot(next((tmp_path / "one").iterdir())))
    b = load_checkpoint(latest_snapshot(next((tmp_path / "two").iterdir())))
    for net in ("G", "D", "G_ema"):
        sa, sb = getattr(a, net).state_dict(), getattr(b, net).state_dict()
        for k in sa:
            torch.testing.assert_close(sa[k], sb[k], atol=1e-4, rtol=1e-3, msg=f"{net}.{k}")


def test_conditional_training_and_generate(tmp_path):
    from stylegan2.cli.main import main as cli
    from tests.training.conftest import make_images
    from training.dataset_tool import build_dataset

    for cls in ("a", "b", "c"):
        make_images(tmp_path / "src" / cls, n=4, seed=ord(cls))
    build_dataset(tmp_path / "src", tmp_path / "d.zip", 16, labels=True)
    run = train(
        _opts(tmp_path / "d.zip", tmp_path / "r", kimg=0.016, use_labels=True), progress=False
    )
    snap = latest_snapshot(run)
    ck = load_checkpoint(snap)
    assert ck.G_ema.c_dim == 3 and ck.D.c_dim == 3
    # Sample grids and resolution usage cycle through the classes.
    assert len(list(run.glob("fakes*.png"))) >= 2
    rows = [json.loads(r) for r in (run / "stats.jsonl").read_text().splitlines()]
    assert any(len(r.get("resolution_usage") or {}) == 3 for r in rows)
    out = tmp_path / "o"
    assert (
        cli(
            [
                "generate",
                "--network",
                str(snap),
                "--seeds",
                "0",
                "--class",
                "2",
                "--outdir",
                str(out),
            ]
        )
        == 0
    )
    assert cli(["generate", "--network", str(snap), "--seeds", "0", "--outdir", str(out)]) == 2


@pytest.mark.slow
def test_ctrl_c_writes_a_snapshot_and_resumes(tiny_data, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    args = [
        sys.executable,
        "-m",
        "training.cli",
        "--data",
        str(tiny_data),
        "--outdir",
        str(tmp_path / "r"),
        "--cfg",
        "small",
        "--batch",
        "4",
        "--kimg",
        "1000",
        "--channel-max",
        "16",
        "--map",
        "1",
        "--workers",
        "0",
        "--device",
        "cpu",
        "--no-progress",
        "--snap",
        "100000",
        "--tick",
        "0.008",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "r").glob("*/stats.jsonl")):
        time.sleep(0.5)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]  # 128 + SIGINT, as a shell reports Ctrl-C
    snaps = list((tmp_path / "r").glob("*/network-snapshot-*.safetensors"))
    assert len(snaps) == 1 and "interrupted" in err
    step = load_checkpoint(snaps[0]).metadata["extra"]["counters"]["step"]
    assert step > 0
    # ...and it resumes from there.
    run = train(
        _opts(tiny_data, tmp_path / "r", kimg=(step + 2) * 4 / 1000, resume="latest"),
        progress=False,
    )
    last = load_checkpoint(latest_snapshot(run))
    assert last.metadata["extra"]["counters"]["step"] == step + 2


@pytest.mark.slow
def test_resume_latest_picks_the_run_of_the_same_kind(tiny_data, tmp_path):
    demod = train(_opts(tiny_data, tmp_path / "r", kimg=0.008), progress=False)
    adain = train(_opts(tiny_data, tmp_path / "r", kimg=0.008, norm="adain"), progress=False)
    again = train(_opts(tiny_data, tmp_path / "r", kimg=0.016, resume="latest"), progress=False)
    assert again == demod != adain


def test_max_minutes_stops_with_a_snapshot_that_resumes(tiny_data, tmp_path):
    run = train(_opts(tiny_data, tmp_path, kimg=10, max_minutes=0.0), progress=False)
    snap = load_checkpoint(latest_snapshot(run))
    assert snap.metadata["extra"]["counters"]["step"] == 1  # one step, then out of time
    again = train(_opts(tiny_data, tmp_path, kimg=0.016, resume="latest"), progress=False)
    assert again == run
    last = load_checkpoint(latest_snapshot(run))
    assert last.metadata["extra"]["counters"]["step"] == 4


def test_train_bench_reports_every_phase_and_the_arithmetic(tiny_data, tmp_path, capsys):
    from training.cli import main

    assert (
        main(
            [
                "--data",
                str(tiny_data),
                "--outdir",
                str(tmp_path / "o"),
                "--cfg",
                "small",
                "--bench",
                "--batch",
                "4",
                "--channel-max",
                "32",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    vals = dict(
        (k.strip(), float(v))
        for k, v in (ln.split(":") for ln in out.splitlines()[1:] if ":" in ln)
    )
    for k in ("Gmain_sec", "Greg_sec", "Dmain_sec", "Dreg_sec", "img_per_sec"):
        assert vals[k] > 0, k
    # 16 px nets of at most 32 channels: about 0.1 GFLOP per image; the rate follows.
    assert 0.01 < vals["gflop_per_img_excl_r1"] < 1, vals
    # The rate leaves R1 out of both the work and the time, so it is above work * img/s.
    assert vals["gflop_per_sec_excl_r1"] > vals["gflop_per_img_excl_r1"] * vals["img_per_sec"]


def test_ada_speed_option_and_changed_options_are_logged_on_resume(
    tiny_data, tmp_path, monkeypatch
):
    from training.augment import AdaptiveP

    run = train(_opts(tiny_data, tmp_path, kimg=0.008, aug="ada"), progress=False)
    seen = []
    orig = AdaptiveP.__init__

    def spy(self, *a, **kw):
        orig(self, *a, **kw)
        seen.append(self.kimg)

    monkeypatch.setattr(AdaptiveP, "__init__", spy)
    again = train(
        _opts(tiny_data, tmp_path, kimg=0.016, aug="ada", ada_kimg=100.0, resume="latest"),
        progress=False,
    )
    assert again == run and seen == [100.0]
    log = (run / "log.txt").read_text()
    assert "options changed on resume: kimg 0.008 -> 0.016, ada_kimg 500 -> 100.0" in log


def test_resume_by_run_folder_with_damaged_options_and_a_new_outdir(tiny_data, tmp_path):
    """--resume may name a run folder (its newest snapshot); a training_options.json that holds
    no options only loses the 'options changed' line; an --outdir that does not exist is fine."""
    run = train(_opts(tiny_data, tmp_path / "r", kimg=0.008), progress=False)
    (run / "training_options.json").write_text('{"options": []}')
    again = train(_opts(tiny_data, tmp_path / "fresh", kimg=0.016, resume=str(run)), progress=False)
    assert again == run and latest_snapshot(run).name == "network-snapshot-000000.016.safetensors"
    assert "training_options.json held no readable options" in (run / "log.txt").read_text()
    assert json.loads((run / "training_options.json").read_text())["options"]["kimg"] == 0.016
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RunFolderError, match="a folder holding no snapshot"):
        train(_opts(tiny_data, tmp_path / "r", resume=str(empty)), progress=False)


@pytest.mark.parametrize("kw", [{"ada_kimg": 0}, {"ada_kimg": -5}, {"ada_target": 1.5}])
def test_bad_ada_settings_are_refused_before_training(tiny_data, tmp_path, kw):
    from training.options import resolve

    with pytest.raises(ValueError, match=r"ada-kimg|target"):
        resolve(_opts(tiny_data, tmp_path, aug="ada", **kw), 16, 3, 0)


@pytest.mark.slow
def test_resume_from_an_older_or_foreign_snapshot_starts_a_new_run(tiny_data, tmp_path):
    """Continuing where later snapshots exist would overwrite them; a model kept outside a run
    folder must not get a run written around it."""
    import shutil

    run = train(_opts(tiny_data, tmp_path / "r", kimg=0.008), progress=False)
    snap = latest_snapshot(run)
    later = run / "network-snapshot-000005.safetensors"  # as if the run had gone on
    shutil.copy(snap, later)
    kept = later.read_bytes()
    again = train(_opts(tiny_data, tmp_path / "r", kimg=0.016, resume=str(snap)), progress=False)
    assert again != run and again.parent == tmp_path / "r"
    assert later.read_bytes() == kept
    assert "continuing from" in (again / "log.txt").read_text()
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(snap, models / "m.safetensors")
    third = train(
        _opts(tiny_data, tmp_path / "r", kimg=0.016, resume=str(models / "m.safetensors")),
        progress=False,
    )
    assert third.parent == tmp_path / "r"
    assert [p.name for p in models.iterdir()] == ["m.safetensors"]


def test_one_trainer_per_run_folder(tiny_data, tmp_path, monkeypatch):
    import fcntl

    import training.loop

    run = train(_opts(tiny_data, tmp_path, kimg=0.008), progress=False)
    assert not (run / "train.lock").exists()  # released at the end
    with open(run / "train.lock", "w") as held:  # another trainer holds the run
        held.write("pid 12345 on elsewhere")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(
            RuntimeError, match=r"in use by another trainer \(pid 12345 on elsewhere"
        ):
            train(_opts(tiny_data, tmp_path, kimg=0.016, resume="latest"), progress=False)
    # A lock file left by a killed run holds no lock: the next trainer goes ahead.
    (run / "train.lock").write_text("pid 1 on a container that was stopped")
    assert train(_opts(tiny_data, tmp_path, kimg=0.016, resume="latest"), progress=False) == run
    assert not (run / "train.lock").exists()

    # The lock is released on failure too: the same process can train there again.
    def boom(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(training.loop._Trainer, "run", boom)
    with pytest.raises(RuntimeError, match="boom"):
        train(_opts(tiny_data, tmp_path, kimg=0.024, resume="latest"), progress=False)
    assert not (run / "train.lock").exists()


def test_snapshots_within_one_kimg_are_all_kept(tmp_path):
    """NVIDIA's names count whole kimg; a second snapshot in the same kimg is named to the image
    instead of replacing the first, and 'latest' goes by the number, not the sort order."""
    from training.snapshot import snapshot_path

    names = []
    for nimg in (80_000, 80_512, 80_768, 81_024):
        path = snapshot_path(tmp_path, nimg)
        path.write_bytes(b"")
        names.append(path.name)
    assert names == [
        "network-snapshot-000080.safetensors",
        "network-snapshot-000080.512.safetensors",
        "network-snapshot-000080.768.safetensors",
        "network-snapshot-000081.safetensors",
    ]
    assert snapshot_path(tmp_path, 81_000).name == names[-1]  # the same state again: no tie
    (tmp_path / "network-snapshot-000081.safetensors").unlink()
    assert latest_snapshot(tmp_path).name == "network-snapshot-000080.768.safetensors"


@pytest.mark.slow
def test_keep_leaves_only_the_newest_snapshots_and_resume_goes_on(tiny_data, tmp_path):
    opts = dict(kimg=0.04, tick_kimg=0.008, snap=1, keep=2)  # a snapshot every 2 steps
    run = train(_opts(tiny_data, tmp_path, **opts), progress=False)
    snaps = sorted(p.name for p in run.glob("network-snapshot-*.safetensors"))
    assert snaps == [
        "network-snapshot-000000.032.safetensors",
        "network-snapshot-000000.040.safetensors",
    ]
    assert "removed network-snapshot-000000.safetensors (--keep 2)" in (run / "log.txt").read_text()
    again = train(
        _opts(tiny_data, tmp_path, **{**opts, "kimg": 0.048}, resume="latest"), progress=False
    )
    assert again == run
    snaps = sorted(p.name for p in run.glob("network-snapshot-*.safetensors"))
    assert snaps == [
        "network-snapshot-000000.040.safetensors",
        "network-snapshot-000000.048.safetensors",
    ]
    with pytest.raises(ValueError, match="--keep must be 0"):
        train(_opts(tiny_data, tmp_path / "bad", keep=-1), progress=False)


def test_a_run_that_moves_keeps_every_machine_and_dataset_on_its_card(
    tiny_data, tmp_path, monkeypatch
):
    import training.loop as loop
    from training.dataset_tool import build_dataset
    from training.resume import with_history

    assert with_history(None, "A", 1.0) == "A"
    assert with_history("A", "A", 1.0) == "A"
    assert with_history("A (to 1.0 kimg); then B", "B", 2.0) == "A (to 1.0 kimg); then B"
    assert with_history("A; torch 2, Linux", "B", 2.5) == "A; torch 2, Linux (to 2.5 kimg); then B"

    monkeypatch.setattr(loop, "machine", lambda: "box A")
    first = train(_opts(tiny_data, tmp_path / "r", kimg=0.016), progress=False)
    other = tmp_path / "other.zip"
    build_dataset(tiny_data, other, 16)
    monkeypatch.setattr(loop, "machine", lambda: "box B")
    opts = _opts(other, tmp_path / "r", kimg=0.024, resume=str(latest_snapshot(first)))
    card = load_checkpoint(latest_snapshot(train(opts, progress=False))).metadata["card"]
    assert card["machine"] == "box A (to 0.0 kimg); then box B"
    assert card["dataset"] == f"{tiny_data} (to 0.0 kimg); then {other}"


def test_a_run_in_the_same_process_does_not_write_into_an_earlier_runs_log(tiny_data, tmp_path):
    from tests.training.conftest import tiny_opts
    from training.loop import train

    first = train(tiny_opts(tiny_data, tmp_path / "a", kimg=0.004), progress=False)
    size = (first / "log.txt").stat().st_size
    second = train(tiny_opts(tiny_data, tmp_path / "b", kimg=0.004), progress=False)
    assert (first / "log.txt").stat().st_size == size
    assert (second / "log.txt").stat().st_size > 0


def test_a_snapshot_that_does_not_fit_the_options_is_refused_and_the_run_left_alone(
    tiny_data, tmp_path
):
    run = train(_opts(tiny_data, tmp_path, kimg=0.008), progress=False)
    snap = latest_snapshot(run)
    options = (run / "training_options.json").read_text()
    wider = _opts(tiny_data, tmp_path, kimg=0.016, channel_max=32, resume=str(snap))
    with pytest.raises(ValueError, match=r"does not fit these options: its G .* is \[16"):
        train(wider, progress=False)
    assert (run / "training_options.json").read_text() == options
