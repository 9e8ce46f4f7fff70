"""training/face_probe.py: the factors it reads are the ones drawn, it learns to read them, and it
saves and loads without pickle."""

from __future__ import annotations

import pytest
import torch

import training.faces as faces
from training.dataset_tool import build_faces_dataset
from training.face_probe import (
    CATEGORIES,
    FaceProbe,
    accuracy,
    factor_classes,
    load_faces,
    load_probe,
    save_probe,
    train_probe,
)


def test_palette_entries_are_the_colours_jittered(monkeypatch):
    drawn = []
    jitter = faces._jitter

    def recording(rng, rgb, amount):
        drawn.append(tuple(rgb))
        return jitter(rng, rgb, amount)

    monkeypatch.setattr(faces, "_jitter", recording)
    for i in range(500):
        drawn.clear()
        f, palette = faces.replay_palette(7, i)
        skin, hair, iris = drawn  # the order sample_factors jitters them in
        assert palette == {
            "skin": faces.SKIN_TONES.index(skin),
            "hair_rgb": faces.HAIR_COLOURS.index(hair),
            "iris": faces.IRIS_COLOURS.index(iris),
        }
        got = factor_classes(f, palette)
        assert (got["skin"], got["hair colour"], got["iris"]) == tuple(palette.values())
        assert CATEGORIES["hair"][got["hair"]] == f["hair"]
        assert CATEGORIES["glasses"][got["glasses"]] == f["glasses"]


def test_the_replay_draws_what_the_dataset_drew():
    for i, (_, _, f) in enumerate(faces.generate_faces(20, 16, seed=5)):
        assert faces.replay_palette(5, i)[0] == f


def test_factors_of_another_kind_are_refused():
    with pytest.raises(ValueError, match="factors unlike those"):
        factor_classes({"hair": "mohawk"}, {})


def test_load_faces_pairs_each_image_with_its_factors(tmp_path):
    build_faces_dataset(tmp_path / "f.zip", 16, 12, seed=3)
    images, classes = load_faces(tmp_path / "f.zip")
    drawn = list(faces.generate_faces(12, 16, seed=3))
    assert images.shape == (12, 3, 16, 16) and images.dtype == torch.uint8
    for i, (_, arr, f) in enumerate(drawn):
        assert torch.equal(images[i], torch.from_numpy(arr.transpose(2, 0, 1).copy()))
        expected = factor_classes(f, faces.replay_palette(3, i)[1])
        assert {k: int(v[i]) for k, v in classes.items()} == expected


def test_a_zip_without_factors_is_refused(tmp_path):
    from PIL import Image

    from training.dataset_tool import build_dataset

    (tmp_path / "src").mkdir()
    for i in range(2):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(tmp_path / "src" / f"{i}.png")
    build_dataset(tmp_path / "src", tmp_path / "plain.zip", 8)
    with pytest.raises(ValueError, match="not a procedural faces dataset"):
        load_faces(tmp_path / "plain.zip")


@pytest.mark.slow
def test_it_learns_to_read_colours_and_round_trips(tmp_path):
    build_faces_dataset(tmp_path / "train.zip", 16, 600, seed=0)
    build_faces_dataset(tmp_path / "fresh.zip", 16, 200, seed=1)
    images, classes = load_faces(tmp_path / "train.zip")
    fresh, fresh_classes = load_faces(tmp_path / "fresh.zip")
    probe = train_probe(images, classes, epochs=6, batch=16, width=16)
    acc = accuracy(probe, fresh, fresh_classes)
    # eight skin tones and eight hair colours: chance is about 1/8 (commonest value ~0.16)
    assert acc["skin"] > 0.5 and acc["hair colour"] > 0.4, acc
    save_probe(probe, tmp_path / "p.safetensors")
    again = load_probe(tmp_path / "p.safetensors")
    a, b = probe.predict(fresh), again.predict(fresh)
    assert all(torch.equal(a[k], b[k]) for k in CATEGORIES)


def test_load_refuses_other_files(tmp_path):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "x.safetensors"))
    with pytest.raises(ValueError, match="not a face probe"):
        load_probe(tmp_path / "x.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="not a readable face probe"):
        load_probe(tmp_path / "bad.safetensors")


def test_confidence_is_the_mean_probability_of_the_value_read():
    probe = FaceProbe(16, 4)
    images = torch.randint(0, 256, (6, 3, 16, 16), dtype=torch.uint8)
    sure = probe.confidence(images)
    with torch.no_grad():
        logits = probe(images)
    for k, values in CATEGORIES.items():
        assert 1 / len(values) <= sure[k] <= 1
        assert abs(sure[k] - float(logits[k].softmax(1).max(1).values.mean())) < 1e-6
