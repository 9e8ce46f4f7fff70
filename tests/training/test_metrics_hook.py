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
