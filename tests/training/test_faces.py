"""The procedural faces dataset: reproducible, varied, each image's factors recorded, and factors at
each scale drawn independently of the others."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from training.faces import FACTORS, generate_faces, sample_factors


def test_same_seed_same_faces_other_seed_others():
    a = [img for _, img, _ in generate_faces(6, 32, seed=0)]
    b = [img for _, img, _ in generate_faces(6, 32, seed=0)]
    c = [img for _, img, _ in generate_faces(6, 32, seed=1)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not any(np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    assert a[0].shape == (32, 32, 3) and a[0].dtype == np.uint8


def test_faces_differ_from_each_other():
    imgs = np.stack([img for _, img, _ in generate_faces(16, 32)]).astype(np.float32)
    diffs = [np.abs(imgs[i] - imgs[j]).mean() for i in range(16) for j in range(i + 1, 16)]
    assert min(diffs) > 5  # no two of the first 16 are near-copies (pixel values 0-255)


def test_factors_cover_every_scale_and_vary_independently():
    rng = np.random.RandomState(0)
    rows = [sample_factors(rng) for _ in range(2000)]
    assert set(rows[0]) == {name for names in FACTORS.values() for name in names}
    # Categorical factors take every value; a coarse and a middle one are independent.
    hair = np.array([r["hair"] for r in rows])
    mouth = np.array([r["mouth"] for r in rows])
    assert len(set(hair)) == 7 and len(set(mouth)) == 5
    for h in set(hair):
        share = np.mean(mouth[hair == h] == "smile")
        assert abs(share - np.mean(mouth == "smile")) < 0.08
    tilt = np.array([r["tilt"] for r in rows])
    assert tilt.min() < -12 and tilt.max() > 12


def test_bad_count_or_resolution_is_refused():
    with pytest.raises(ValueError, match="count"):
        next(generate_faces(0, 32))
    with pytest.raises(ValueError, match="power of two"):
        next(generate_faces(1, 48))


def test_cli_builds_a_zip_with_factors(tmp_path):
    from commands.main import main

    dest = tmp_path / "faces.zip"
    assert main(["dataset", "--faces", "5", "--resolution", "16", "--dest", str(dest)]) == 0
    with zipfile.ZipFile(dest) as z:
        meta = json.loads(z.read("dataset.json"))
        assert len([n for n in z.namelist() if n.endswith(".png")]) == 5
    assert len(meta["factors"]) == 5 and meta["faces_seed"] == 0
    assert "MIT" in meta["source"]
    assert meta["factors"][0] == sample_factors(np.random.RandomState(0))
