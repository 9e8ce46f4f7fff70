"""w / ws files, including NVIDIA's projected_w.npz layout."""

from __future__ import annotations

import numpy as np
import pytest

from stylegan2.latents import LatentFileError, load_w, save_w


def test_round_trips_and_nvidia_layout(tmp_path):
    ws = np.random.RandomState(0).randn(6, 8).astype(np.float32)
    save_w(tmp_path / "projected_w.npz", ws)
    with np.load(tmp_path / "projected_w.npz") as d:
        assert d["w"].shape == (1, 6, 8)
    assert np.array_equal(load_w(tmp_path / "projected_w.npz", 6, 8), ws)
    save_w(tmp_path / "w.npy", ws)
    assert np.array_equal(load_w(tmp_path / "w.npy", 6, 8), ws)
    np.save(tmp_path / "single.npy", ws[0])
    assert load_w(tmp_path / "single.npy", 6, 8).shape == (8,)


def test_bad_files(tmp_path):
    np.save(tmp_path / "shape.npy", np.zeros((5, 8), np.float32))
    with pytest.raises(LatentFileError, match="does not fit"):
        load_w(tmp_path / "shape.npy", 6, 8)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(LatentFileError):
        load_w(tmp_path / "obj.npy", 6, 8)
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(LatentFileError, match="not a readable"):
        load_w(tmp_path / "junk.npz", 6, 8)
    np.save(tmp_path / "nan.npy", np.full(8, np.nan, np.float32))
    with pytest.raises(LatentFileError, match="NaN"):
        load_w(tmp_path / "nan.npy", 6, 8)
