"""The list of formats people are shown (stylegan2.checkpoints.formats) is the list the
importers produce: a new importer without an entry, or an entry without an importer, fails."""

from __future__ import annotations

import re
from pathlib import Path

import stylegan2.checkpoints as checkpoints
from stylegan2.checkpoints.formats import FORMATS, NETWORK_SUFFIXES, formats_sentence


def test_every_importer_format_is_listed_and_every_listed_format_is_produced():
    folder = Path(checkpoints.__file__).parent
    produced = {
        m
        for path in folder.glob("*.py")
        for m in re.findall(r'CheckpointContents\(\s*format="([^"]+)"', path.read_text())
    }
    assert produced == {f.name for f in FORMATS}


def test_the_shown_lists_name_every_format_and_suffix():
    sentence = formats_sentence()
    assert all(f.label in sentence for f in FORMATS)
    assert set(NETWORK_SUFFIXES) == {s for f in FORMATS for s in f.suffixes}
