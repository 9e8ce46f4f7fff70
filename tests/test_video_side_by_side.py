"""The side-by-side frames that the explorer's compare export and `stylegan2 video` share: two
networks of different resolutions fill equal halves, grey joins RGB as RGB."""

from __future__ import annotations

import numpy as np

from stylegan2.video import side_by_side


def test_mismatched_sizes_are_resized_to_the_first():
    a = np.zeros((8, 8, 3), np.uint8)
    b = np.full((4, 4, 3), 200, np.uint8)
    out = side_by_side([a, b])
    assert out.shape == (8, 16, 3)
    assert (out[:, 8:] == 200).all() and (out[:, :8] == 0).all()


def test_grey_beside_rgb_becomes_rgb():
    grey = np.full((4, 4, 1), 7, np.uint8)
    rgb = np.zeros((4, 4, 3), np.uint8)
    out = side_by_side([grey, rgb])
    assert out.shape == (4, 8, 3) and (out[:, :4] == 7).all()
    assert side_by_side([grey, grey]).shape == (4, 8, 1)
