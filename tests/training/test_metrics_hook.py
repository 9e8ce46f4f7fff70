"""The trainer's --metrics: evaluated on G_ema at every snapshot, one JSON line per metric."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_metrics import make_inception_file


@pytest.mark.slow
def test_trainer_computes_metrics_at_snapshots(tiny_data, tmp_path, monkeypatch):
    import json

    import training.metrics
    from tests.training.conftest import tiny_opts
    from training.loop import train

    # Plumbing only: the metric itself is tested in tests/test_metrics.py (a real Inception
    # forward takes seconds a batch on a CPU).
    seen = []

    def evaluate(G, data, specs, *args, **kwargs):
        seen.append((G.training, [s.name for s in specs]))
        return {"fid4": 12.5}

    monkeypatch.setattr(training.metrics, "evaluate", evaluate)
    path, _ = make_inception_file(tmp_path / "inception.pth")
    opts = tiny_opts(
        tiny_data, tmp_path / "runs", kimg=0.008, metrics=("fid4",), inception=str(path)
    )
    run = train(opts, progress=False)
    lines = (run / "metric-fid4.jsonl").read_text().splitlines()
    rec = json.loads(lines[-1])
    assert rec["snapshot"].startswith("network-snapshot-") and np.isfinite(rec["fid4"])
    assert rec["fid4"] == 12.5 and seen and seen[0] == (False, ["fid4"])  # G_ema, in eval mode


def test_a_detector_or_dataset_metrics_cannot_use_is_refused_before_training(tiny_data, tmp_path):
    from tests.training.conftest import make_images, tiny_opts
    from training.loop import train

    junk = tmp_path / "inception.pth"
    junk.write_bytes(b"not an Inception state dict")
    opts = tiny_opts(tiny_data, tmp_path / "runs", metrics=("fid4",), inception=str(junk))
    with pytest.raises(ValueError, match=r"fid4: .*inception.pth cannot be used"):
        train(opts, progress=False)
    few = tmp_path / "few"
    make_images(few, n=3)
    opts = tiny_opts(few, tmp_path / "runs", metrics=("pxpr1k3",))
    with pytest.raises(ValueError, match="needs more than k=3 training images; the dataset has 3"):
        train(opts, progress=False)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
