"""A snapshot whose training state is damaged (counters, optimizer settings or moments) is
refused with one line naming the field, by the trainer's resume and by `stylegan2 bundle`
before any measuring, instead of failing in arithmetic or at the first Adam step."""

from __future__ import annotations

import json
import shutil

import pytest

from stylegan2.checkpoints import CheckpointError
from tests.training.conftest import tiny_opts
from training.loop import train
from training.snapshot import latest_snapshot, load_snapshot


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    from tests.training.conftest import make_images

    root = tmp_path_factory.mktemp("damaged")
    make_images(root / "data")
    run = train(tiny_opts(root / "data", root / "runs", kimg=0.008), progress=False)
    return latest_snapshot(run), root / "data"


def _with(path, dest, edit_extra=None, edit_tensors=None):
    """A copy of the snapshot at `dest` with its 'extra' metadata and tensors edited."""
    from safetensors.torch import load_file, save_file

    shutil.copy(path, dest)
    with open(dest, "rb") as f:
        meta = json.loads(f.read(int.from_bytes(f.read(8), "little")))["__metadata__"]
    tensors = load_file(str(dest))
    if edit_extra:
        extra = json.loads(meta["extra"])
        edit_extra(extra)
        meta["extra"] = json.dumps(extra)
    if edit_tensors:
        edit_tensors(tensors)
    save_file(tensors, str(dest), metadata=meta)
    return dest


def _set(*keys, value):
    def edit(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return edit


def _first_group(edit):
    return lambda extra: edit(extra["optimizers"]["G"]["param_groups"][0])


DAMAGE = {
    "counters not an object": (_set("counters", value="oops"), "counters are damaged"),
    "cur_nimg a string": (_set("counters", "cur_nimg", value="12"), "cur_nimg is damaged"),
    "negative step": (_set("counters", "step", value=-3), "step is damaged"),
    "huge elapsed": (_set("counters", "elapsed", value=10**400), "elapsed is damaged"),
    "optimizers a list": (_set("optimizers", value=[1]), "optimizer settings are damaged"),
    "no param_groups": (_set("optimizers", "G", value={}), "no parameter groups"),
    "group a string": (_set("optimizers", "G", "param_groups", value=["x"]), "not a JSON"),
    "lr a string": (_first_group(_set("lr", value="abc")), "learning rate 'abc'"),
    "betas": (_first_group(_set("betas", value=[5, "x"])), "betas"),
    "amsgrad": (_first_group(_set("amsgrad", value="yes")), "amsgrad"),
    "params": (_first_group(_set("params", value=["a"])), "params"),
}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_damaged_training_state_is_named(snapshot, tmp_path, name):
    snap, _ = snapshot
    edit, message = DAMAGE[name]
    bad = _with(snap, tmp_path / "network-snapshot-000000.safetensors", edit_extra=edit)
    with pytest.raises(CheckpointError, match=message):
        load_snapshot(bad, "cpu")


def test_moments_of_the_wrong_shape_are_refused_at_resume(snapshot, tmp_path):
    import torch

    snap, data = snapshot

    def shrink(tensors):
        key = next(k for k in tensors if k.startswith("state.opt_G.") and k.endswith(".exp_avg"))
        tensors[key] = torch.zeros(3)

    bad = _with(snap, tmp_path / "m.safetensors", edit_tensors=shrink)
    with pytest.raises(
        CheckpointError, match=r"G optimizer state has exp_avg of shape \(3,\)"
    ) as e:
        train(tiny_opts(data, tmp_path / "runs", kimg=0.016, resume=str(bad)), progress=False)
    assert "may be whole" not in str(e.value)  # the file reads: an earlier one is no better
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())  # no run folder left half made


def test_bundle_refuses_damaged_counters_before_measuring(snapshot, tmp_path, monkeypatch):
    import training.bundle as bundle_module

    snap, _ = snapshot
    bad = _with(snap, tmp_path / "s.safetensors", edit_extra=_set("counters", value="oops"))

    def measured(*_a, **_k):
        raise AssertionError("measured a snapshot it should have refused")

    monkeypatch.setattr(bundle_module, "measure", measured)
    with pytest.raises(CheckpointError, match="counters are damaged"):
        bundle_module.bundle(bad, tmp_path / "out.safetensors", "t", [], "d")
    assert not (tmp_path / "out.safetensors").exists()


def test_a_damaged_newest_snapshot_points_to_the_one_before(snapshot, tmp_path):
    snap, data = snapshot
    run = tmp_path / "00000-run"
    shutil.copytree(snap.parent, run)
    newest = run / "network-snapshot-000005.safetensors"
    newest.write_bytes(snap.read_bytes()[:5000])  # cut short, as by a kill while copying
    with pytest.raises(CheckpointError, match=rf"may be whole: --resume .*{snap.name}"):
        train(tiny_opts(data, tmp_path / "runs", kimg=0.016, resume=str(newest)), progress=False)


def test_times_a_clock_set_back_made_negative_still_load(snapshot, tmp_path):
    """elapsed and maintenance are wall-clock differences: a clock stepped back early in a run
    leaves them negative in a good snapshot, which must still resume."""
    snap, _ = snapshot

    def set_back(extra):
        extra["counters"]["elapsed"] = -0.4
        extra["counters"]["maintenance"] = -0.1

    good = _with(snap, tmp_path / "network-snapshot-000000.safetensors", edit_extra=set_back)
    assert load_snapshot(good, "cpu")["counters"]["elapsed"] == -0.4
