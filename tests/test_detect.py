"""Detection by reprojection separates a tiny network's images from images it cannot make."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from stylegan2.cli.main import main
from stylegan2.detect import auc, calibrate
from tests.conftest import distinct_generator


def test_calibration_threshold_and_rates():
    cal = calibrate([0.1, 0.2, 0.15, 0.12], [0.5, 0.6, 0.7, 0.4])
    assert 0.2 < cal.threshold < 0.5 and cal.auc == 1.0
    assert cal.held_out_false_positive == 0 and cal.held_out_false_negative == 0
    assert auc([1.0], [1.0]) == 0.5
    with pytest.raises(ValueError):
        calibrate([0.1], [0.2])


@pytest.mark.slow
def test_detect_separates_generated_from_foreign_images(tmp_path, monkeypatch):
    from stylegan2.checkpoints import save_checkpoint

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # never beside the network
    G = distinct_generator()
    net = save_checkpoint(tmp_path / "g.safetensors", G)
    real = tmp_path / "real"
    real.mkdir()
    rs = np.random.RandomState(0)
    for i in range(6):  # high-frequency noise: nothing this generator can reproduce
        Image.fromarray((rs.rand(16, 16, 3) * 255).astype(np.uint8)).save(real / f"{i}.png")
    rc = main(
        [
            "detect",
            "--network",
            str(net),
            "--calibrate",
            "--real",
            str(real),
            "--n",
            "6",
            "--steps",
            "80",
            "--plot",
            str(tmp_path / "h.png"),
        ]
    )
    assert rc == 0
    (written,) = (tmp_path / "data" / "stylegan2-explorer" / "detect").glob("g-*.detect.json")
    assert not list(tmp_path.glob("*.detect.json"))
    cal = json.loads(written.read_text())
    assert cal["steps"] == 80
    assert cal["auc"] > 0.9 and "not LPIPS" in cal["distance"]
    assert (tmp_path / "h.png").exists()
    from stylegan2.detect import generated_images

    Image.fromarray(generated_images(G, [77])[0]).save(tmp_path / "gen.png")
    assert (
        main(
            [
                "detect",
                "--network",
                str(net),
                "--steps",
                "80",
                str(tmp_path / "gen.png"),
                str(real / "0.png"),
            ]
        )
        == 0
    )


def test_calibration_reads_the_real_images_before_projecting(tmp_path, monkeypatch, capsys):
    """A broken real image fails before the generated ones are projected (minutes, or hours
    with --full); a folder named like an image is not taken for one."""
    import stylegan2.detect as detect
    from stylegan2.checkpoints import save_checkpoint

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    net = save_checkpoint(tmp_path / "g.safetensors", distinct_generator())
    real = tmp_path / "real"
    real.mkdir()
    (real / "x.png").mkdir()  # a folder, not an image
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(real / "0.png")
    (real / "1.png").write_text("not an image")

    def projected(*_a, **_k):
        raise AssertionError("projected before the real images were read")

    monkeypatch.setattr(detect, "distances_for", projected)
    argv = ["detect", "--network", str(net), "--calibrate", "--real", str(real), "--n", "3"]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "1.png" in err and "x.png" not in err
