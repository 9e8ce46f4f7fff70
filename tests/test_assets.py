"""The shipped models: present, small, loadable, fp16, with complete model cards, and the AdaIN
twin trained on the same data for the same kimg as the default StyleGAN2 model."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from assets import DEFAULT_MODEL, TWIN_MODEL
from stylegan2.checkpoints import load_checkpoint

MODELS = Path(str(resources.files("assets").joinpath("models")))
TWIN = TWIN_MODEL


def _card(path: Path) -> dict:
    return load_checkpoint(path).metadata["card"]


def test_default_and_twin_ship_with_cards():
    files = sorted(MODELS.glob("*.safetensors"))
    assert {p.name for p in files} >= {DEFAULT_MODEL, TWIN}
    for path in files:
        assert path.stat().st_size < 30 * 2**20, path.name
        with open(path, "rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {"F16"}
        card = _card(path)
        for key in ("title", "dataset", "commands", "kimg", "wall_time_hours", "machine"):
            assert card.get(key), (path.name, key)
        figures = card["figures"]
        assert {"ppl_w_end", "blob_scores", "resolution_usage"} <= set(figures)
        assert path.with_suffix(".md").is_file()


def test_twin_pairs_with_the_default():
    a = load_checkpoint(MODELS / DEFAULT_MODEL)
    b = load_checkpoint(MODELS / TWIN)
    assert a.G_ema.cfg.synthesis.normalization == "demod"
    assert b.G_ema.cfg.synthesis.normalization == "adain"
    assert a.G_ema.num_ws == b.G_ema.num_ws and a.G_ema.layers() == b.G_ema.layers()
    ca, cb = a.metadata["card"], b.metadata["card"]
    assert ca["options"]["data"] == cb["options"]["data"]
    assert abs(ca["kimg"] - cb["kimg"]) <= 4.5  # the same budget, up to one snapshot interval


def test_explorer_opens_the_default():
    from assets import bundled_networks, default_network

    assert Path(default_network()).name == DEFAULT_MODEL
    assert {Path(p).name for p in bundled_networks()} >= {DEFAULT_MODEL, TWIN}


@pytest.mark.slow
def test_shipped_hand_offs_go_on_training(tmp_path):
    """assets/training holds each shipped model's state (D, counters): joined with the shipped
    G_ema it is a snapshot the trainer resumes, at the card's kimg."""
    from tests.training.conftest import make_images, tiny_opts
    from training.handoff import join
    from training.loop import train
    from training.snapshot import latest_snapshot

    states = Path(__file__).parents[1] / "assets" / "training"
    starts = {}
    for model in (DEFAULT_MODEL, TWIN):
        name = model.removesuffix(".safetensors")
        starts[model] = tmp_path / f"{name}-start.safetensors"
        counters = join(MODELS / model, states / f"{name}-state.safetensors", starts[model])
        assert round(counters["cur_nimg"] / 1000, 1) == _card(MODELS / model)["kimg"]
    make_images(tmp_path / "data", n=8, res=64)
    opts = tiny_opts(
        tmp_path / "data",
        tmp_path / "runs",
        batch=4,
        channel_max=None,
        map_layers=None,
        kimg=1e6,
        resume=str(starts[DEFAULT_MODEL]),
    )
    run = train(opts, max_steps=1, progress=False)
    start = load_checkpoint(starts[DEFAULT_MODEL]).metadata["extra"]["counters"]
    last = load_checkpoint(latest_snapshot(run)).metadata["extra"]["counters"]
    assert last["cur_nimg"] == start["cur_nimg"] + 4 and last["step"] == start["step"] + 1


def test_each_model_opens_with_its_named_directions():
    from stylegan2.directions import Directions

    for name in (DEFAULT_MODEL, TWIN):
        G = load_checkpoint(MODELS / name).G_ema
        d = Directions.load(MODELS / name.replace(".safetensors", "-directions.npz"))
        assert d.method == "labels" and d.layers == (0, G.num_ws - 1)
        assert d.vectors.shape[1] == G.w_dim and len(d.names) >= 5
        assert "glasses" in d.names and list(d.scores) == sorted(d.scores, reverse=True)
