"""Hand-offs: a run split into G_ema + a small state file, joined elsewhere, trains on."""

from __future__ import annotations

import pytest
import torch

from stylegan2.checkpoints import CheckpointError, load_checkpoint
from tests.training.conftest import tiny_opts
from training.handoff import fingerprint, join, main, read_state, split
from training.loop import train
from training.snapshot import latest_snapshot


def _half(t: torch.Tensor) -> torch.Tensor:
    return t.half().float() if t.is_floating_point() else t


@pytest.fixture
def run(tiny_data, tmp_path):
    return train(tiny_opts(tiny_data, tmp_path / "r", kimg=0.016, aug="ada"), progress=False)


@pytest.mark.slow
def test_split_join_resume(run, tiny_data, tmp_path):
    snap = latest_snapshot(run)
    orig = load_checkpoint(snap)
    state, g_ema = tmp_path / "hand" / "state.safetensors", tmp_path / "hand" / "g.safetensors"
    counters = split(snap, state, g_ema)
    assert counters == orig.metadata["extra"]["counters"]
    st = read_state(state)
    for k, v in orig.D.state_dict().items():  # D travels in float16
        assert torch.equal(st["D"].state_dict()[k], _half(v)), k
    assert st["g_ema_fingerprint"] == fingerprint(load_checkpoint(g_ema).G_ema)

    joined = tmp_path / "joined.safetensors"
    assert join(g_ema, state, joined)["cur_nimg"] == counters["cur_nimg"]
    j = load_checkpoint(joined)
    for k, v in orig.G_ema.state_dict().items():  # G restarts from G_ema
        assert torch.equal(j.G_ema.state_dict()[k], _half(v)), k
        assert torch.equal(j.G.state_dict()[k], _half(v)), k
    assert j.metadata["extra"]["optimizers"] == {}

    again = train(
        tiny_opts(tiny_data, tmp_path / "r", kimg=0.032, aug="ada", resume=str(joined)),
        progress=False,
    )
    assert again != run  # a joined file is outside the run folder: a new run
    log = (again / "log.txt").read_text()
    assert "no Adam moments for G/D, which start afresh" in log
    assert "resumed from" in log
    last = load_checkpoint(latest_snapshot(again)).metadata["extra"]["counters"]
    assert last["cur_nimg"] == 32 and last["step"] == counters["step"] + 4


def test_join_refuses_a_g_ema_from_another_snapshot(run, tiny_data, tmp_path):
    snap = latest_snapshot(run)
    split(snap, tmp_path / "s.safetensors")
    other = train(tiny_opts(tiny_data, tmp_path / "o", kimg=0.008, seed=5), progress=False)
    with pytest.raises(CheckpointError, match="not the G_ema that"):
        join(latest_snapshot(other), tmp_path / "s.safetensors", tmp_path / "j.safetensors")
    assert not (tmp_path / "j.safetensors").exists()
    # The snapshot itself holds the right G_ema (its fp16 rounding is the fingerprint's).
    join(snap, tmp_path / "s.safetensors", tmp_path / "j.safetensors")


def test_bad_inputs_are_clear_errors(run, tmp_path, capsys):
    snap = latest_snapshot(run)
    model = tmp_path / "model.safetensors"
    split(snap, tmp_path / "s.safetensors", model)  # a G_ema-only checkpoint
    with pytest.raises(CheckpointError, match="holds no D"):
        split(model, tmp_path / "s2.safetensors")
    with pytest.raises(CheckpointError, match="not a hand-off state file"):
        read_state(snap)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00")
    with pytest.raises(CheckpointError, match="not a readable hand-off state"):
        read_state(junk)
    junk.write_bytes(b"\xff" * 8 + b"{}")  # a header length of 2^64 - 1
    with pytest.raises(CheckpointError, match="exceeds the file"):
        read_state(junk)
    with pytest.raises(ValueError, match="would write over"):
        split(snap, snap)
    # An existing file is never replaced unasked: a joined snapshot has no Adam moments.
    kept = tmp_path / "kept.safetensors"
    kept.write_bytes(snap.read_bytes())
    with pytest.raises(ValueError, match="exists: choose another name, or --force"):
        join(model, tmp_path / "s.safetensors", kept)
    with pytest.raises(ValueError, match="exists"):
        split(snap, tmp_path / "s.safetensors")
    assert kept.read_bytes() == snap.read_bytes()
    join(model, tmp_path / "s.safetensors", kept, force=True)
    assert load_checkpoint(kept).metadata["extra"]["optimizers"] == {}
    before = snap.read_bytes()
    assert (
        main(
            [
                "join",
                "--g-ema",
                str(model),
                "--state",
                str(tmp_path / "s.safetensors"),
                "--out",
                str(model),
            ]
        )
        == 1
    )
    assert "would write over" in capsys.readouterr().err
    assert snap.read_bytes() == before
    assert main(["split", str(snap), "--state", str(tmp_path / "s3.safetensors")]) == 0
    assert "kimg" in capsys.readouterr().out


def test_join_keeps_the_fuller_machine_history_of_a_shipped_g_ema(run, tmp_path):
    from stylegan2.checkpoints import save_checkpoint

    snap = latest_snapshot(run)
    state, g_ema = tmp_path / "s.safetensors", tmp_path / "g.safetensors"
    split(snap, state, g_ema)
    machine = read_state(state)["card"]["machine"]
    ck = load_checkpoint(g_ema)
    card = {**ck.metadata["card"], "machine": f"box A (to 1.0 kimg); then {machine}"}
    save_checkpoint(g_ema, ck.G_ema, card=card, dtype=torch.float16)  # as a shipped model card
    join(g_ema, state, tmp_path / "j.safetensors")
    assert (
        load_checkpoint(tmp_path / "j.safetensors").metadata["card"]["machine"] == card["machine"]
    )
    # A G_ema card whose history is another run's is not taken.
    card["machine"] = "box B"
    save_checkpoint(g_ema, ck.G_ema, card=card, dtype=torch.float16)
    join(g_ema, state, tmp_path / "k.safetensors")
    assert load_checkpoint(tmp_path / "k.safetensors").metadata["card"]["machine"] == machine
