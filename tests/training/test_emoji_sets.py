"""The emoji datasets of the bundled models: the "faces" set lies inside "all", and the recipe
builds it (where the Debian font is installed)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from training.emoji import DEFAULT_FONT, EMOJI_RANGES, EMOJI_SETS, FACE_RANGES, render_emoji


def _points(ranges):
    return {cp for lo, hi in ranges for cp in range(lo, hi + 1)}


def test_faces_are_a_subset_of_all_and_leave_out_people_and_objects():
    faces = _points(FACE_RANGES)
    assert faces <= _points(EMOJI_RANGES)
    for not_a_face in (0x1F916, 0x1F921, 0x1F926, 0x1F977, 0x1FAE6, 0x1FAE7, 0x1F645):
        assert not_a_face not in faces
    assert {0x1F600, 0x1F638, 0x1F9D0, 0x263A} <= faces
    assert set(EMOJI_SETS) == {"all", "faces"}


def test_unknown_set_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown emoji set 'animals'"):
        next(render_emoji(tmp_path / "none.ttf", 16, emoji_set="animals"))


@pytest.mark.skipif(not Path(DEFAULT_FONT).exists(), reason="needs fonts-noto-color-emoji")
def test_faces_dataset_records_its_set(tmp_path):
    from training.dataset_tool import build_emoji_dataset

    dest = tmp_path / "faces.zip"
    n = build_emoji_dataset(DEFAULT_FONT, dest, 16, max_images=5, emoji_set="faces")
    assert n == 5
    with zipfile.ZipFile(dest) as z:
        meta = json.loads(z.read("dataset.json"))
    assert meta["emoji_set"] == "faces"
    assert meta["names"][0] == "u1f600"


def test_a_font_without_emoji_is_refused_and_leaves_no_zip(tmp_path):
    """A text font draws one placeholder (or nothing) for every emoji: not a dataset."""
    import matplotlib

    from training.dataset import DatasetError
    from training.dataset_tool import build_emoji_dataset

    text_font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    dest = tmp_path / "e.zip"
    with pytest.raises(DatasetError, match="distinct image"):
        build_emoji_dataset(text_font, dest, 16, emoji_set="faces")
    assert not dest.exists()
