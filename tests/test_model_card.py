"""Model cards as Markdown: the shipped cards render as their .md files, and a card from anywhere
(a stranger's file, a converted one, a damaged header) renders what it can without failing."""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path

import pytest

from stylegan2.checkpoints import load_checkpoint
from stylegan2.model_card import KNOWN_KEYS, card_markdown, top_share

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"
SHIPPED = sorted(MODELS.glob("*.safetensors"))


@pytest.fixture(scope="module")
def shipped_card() -> dict:
    return load_checkpoint(SHIPPED[0]).metadata["card"]


@pytest.mark.parametrize("model", SHIPPED, ids=lambda p: p.stem)
def test_shipped_cards_render_as_their_markdown_files(model):
    card = load_checkpoint(model).metadata["card"]
    assert card_markdown(card) == model.with_suffix(".md").read_text()


def test_sections_in_reading_order(shipped_card):
    md = card_markdown(shipped_card)
    heads = [md.index(h) for h in ("# ", "- Dataset:", "## Measured", "## Notes", "## Commands")]
    assert heads == sorted(heads)
    assert "| b64.conv1 | 64 |" in md and "Precision / recall (`pxpr1k3`" in md


def test_a_card_with_nothing_readable_still_renders():
    for card in (None, [], "text", 3, {}, {"title": 5}):
        md = card_markdown(card)
        assert md.startswith("# Model card\n") and "says nothing of where" in md


def test_a_converted_network_says_where_it_came_from():
    md = card_markdown({"converted_from": {"file": "ffhq.pkl", "format": "stylegan2-ada-pytorch"}})
    assert "- Converted from: `ffhq.pkl` (stylegan2-ada-pytorch)" in md
    assert "## Measured" not in md and "## Other fields" not in md


def test_unknown_keys_are_listed_not_dropped():
    md = card_markdown({"title": "t", "licence": "CC-BY 4.0", "extra": {"a": [1, 2]}})
    assert '- licence: `"CC-BY 4.0"`' in md and '- extra: `{"a": [1, 2]}`' in md


ODD_VALUES = [None, True, 0, -1, 1e308, math.nan, "", "x", [], [1, None, "s"], {}, {"k": "v"}]


@pytest.mark.parametrize("key", sorted(KNOWN_KEYS - {"figures"}))
def test_every_field_of_any_type_renders(shipped_card, key):
    for value in ODD_VALUES:
        card = copy.deepcopy(shipped_card)
        card[key] = value
        assert card_markdown(card).startswith("# ")


def _figure_paths(f, prefix=()):
    for k, v in f.items():
        yield (*prefix, k)
        if isinstance(v, dict):
            yield from _figure_paths(v, (*prefix, k))


def test_every_figure_of_any_type_renders(shipped_card):
    paths = list(_figure_paths(shipped_card["figures"]))
    assert len(paths) > 20
    for path, value in itertools.product(paths, ODD_VALUES):
        card = copy.deepcopy(shipped_card)
        node = card["figures"]
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
        md = card_markdown(card)
        assert md.startswith("# ") and "## Notes" in md, (path, value)
    # What cannot be read is left out, and the rest stays.
    card = copy.deepcopy(shipped_card)
    card["figures"]["pixel_pr"]["recall"] = "high"
    md = card_markdown(card)
    assert "training images: not measured" in md and "- PPL (W, end points" in md


def test_top_share_reads_only_a_number(shipped_card):
    res = max(int(r) for r in shipped_card["figures"]["resolution_usage"]["share"])
    assert 0 < top_share(shipped_card, res) < 1
    assert top_share(shipped_card, 2 * res) is None
    not_a_number = {"figures": {"resolution_usage": {"share": {"64": "x"}}}}
    for card in (None, {}, {"figures": []}, not_a_number):
        assert top_share(card, 64) is None
