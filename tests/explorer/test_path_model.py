"""The Path tab's model without Qt: keyframes and labels move together, listeners hear whether
the path itself changed, and a saved path loads back as it was."""

from __future__ import annotations

import pytest

from explorer.path_model import PathModel
from stylegan2.render import Latent, RenderRequest


def test_keyframes_labels_and_what_listeners_hear():
    m = PathModel()
    heard: list[bool] = []
    m.subscribe(heard.append)
    for s in (1, 2, 3):
        m.add(Latent.from_seed(s), 1.0, f"seed {s}")
    assert m.path(RenderRequest()).duration == 2.0
    assert m.move(0, 1) and m.labels == ["seed 2", "seed 1", "seed 3"]
    assert not m.move(2, 1)  # past the end: nothing moves
    m.set_duration(0, 0.5)
    m.remove(2)
    assert [k.duration for k in m.keyframes] == [0.5, 1.0] and m.labels == ["seed 2", "seed 1"]
    heard.clear()
    m.set_export(fps=12.0)
    m.set_interpolation(loop=True)
    m.set_interpolation(loop=True)  # no change: nobody is told
    assert heard == [False, True] and m.path(RenderRequest()).duration == 1.5


def test_a_saved_path_loads_back_and_a_bad_one_says_why():
    m = PathModel()
    m.add(Latent.from_seed(4), 1.0, "seed 4")
    assert m.path(RenderRequest()) is None  # one keyframe is no path
    m.add(Latent(w=[0.0] * 4), 1.0, "w")
    m.set_interpolation(easing="catmull")
    saved = m.path(RenderRequest())
    other = PathModel()
    other.load(saved)
    assert other.labels == ["seed 4", "w"] and other.interpolation == m.interpolation
    m.set_interpolation(space="z")  # slerp in Z needs seeds: a loaded w cannot be one
    with pytest.raises(ValueError, match="seed keyframes"):
        m.path(RenderRequest())
