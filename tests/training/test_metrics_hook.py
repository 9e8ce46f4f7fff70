"""The trainer's --metrics: evaluated on G_ema at every snapshot, one JSON line per metric."""

from __future__ import annotations

import numpy as np

from tests.test_metrics import make_inception_file


def test_trainer_computes_metrics_at_snapshots(tiny_data, tmp_path):
    import json

    from tests.training.conftest import tiny_opts
    from training.loop import train

    path, _ = make_inception_file(tmp_path / "inception.pth")
    opts = tiny_opts(
        tiny_data, tmp_path / "runs", kimg=0.008, metrics=("fid4",), inception=str(path)
    )
    run = train(opts, progress=False)
    lines = (run / "metric-fid4.jsonl").read_text().splitlines()
    rec = json.loads(lines[-1])
    assert rec["snapshot"].startswith("network-snapshot-") and np.isfinite(rec["fid4"])
