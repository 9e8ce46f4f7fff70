"""What the window says, as plain functions: a loader's error after "Could not open NAME:",
how a directions file of an unknown method reads, and which segment names never wrap."""

from __future__ import annotations

from pathlib import Path

from explorer.controllers.network import without_file_name
from explorer.panels.directions import METHODS, method_view
from explorer.panels.path_length import _unbroken


def test_a_loaders_error_does_not_name_the_file_twice(tmp_path):
    f = tmp_path / "net.pkl"
    assert without_file_name(f"{f}: damaged checkpoint", str(f)) == "damaged checkpoint"
    assert without_file_name(f"{f} is a Python pickle …", str(f)) == "it is a Python pickle …"
    # typed with a redundant separator: the loader names the normalised path
    typed = f"{tmp_path}//net.pkl"
    assert without_file_name(f"{f}: cut short", typed) == "cut short"
    # the bare file name is dropped before ": ", never turned into "it" (a name may be a word)
    odd = tmp_path / "cannot"
    assert without_file_name("cannot: damaged", str(odd)) == "damaged"
    assert without_file_name("cannot open the zip", str(odd)) == "cannot open the zip"
    # a URL's error is left whole (it names the URL masked, or not at all)
    url = "https://user:secret@example.invalid/net.pkl"
    said = "cannot download example.invalid/net.pkl: 404"
    assert without_file_name(said, url) == said
    assert without_file_name("other words", str(Path("x.pkl"))) == "other words"


def test_a_directions_file_of_an_unknown_method_claims_nothing():
    view = method_view("made-elsewhere")
    assert view.title == "made-elsewhere" and view.unit == "score" and not view.named
    assert all(view.unit != m.unit for m in METHODS.values())
    assert method_view("labels") is METHODS["labels"]


def test_short_segment_names_never_wrap_long_ones_may():
    assert " " not in _unbroken("seed 1 → seed 2")
    long = "w at seed plane (0.50, 1.20) → w at seed plane (3.00, 4.00)"
    assert _unbroken(long) == long
