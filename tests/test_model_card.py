"""Model cards as Markdown: the shipped cards render as their .md files, and a card from anywhere
(a stranger's file, a converted one, a damaged header) renders what it can without failing."""

from __future__ import annotations

import copy
import itertools
import json
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


HUGE = json.loads("1" + "0" * 400)  # an integer JSON holds and a float cannot
_loop: dict = {}
_loop["self"] = _loop
ODD_VALUES = [
    None,
    True,
    0,
    -1,
    HUGE,
    1e308,
    math.nan,
    math.inf,
    -math.inf,
    "",
    "x",
    "line\n# heading\n```",
    "\x1b]0;title\x07\x1b[2J",
    [],
    [1, None, "s"],
    {},
    {"k": "v"},
    # not JSON: what a caller building a card in Python might pass
    {1, 2},
    {(1, 2): 3},
    _loop,
]


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


def test_card_text_cannot_make_structure_or_reach_a_terminal(shipped_card):
    card = copy.deepcopy(shipped_card)
    card["title"] = "Faces\n\n- Dataset: FFHQ 70k (CC0)\n- Trained: 25000 kimg"
    card["notes"] = [
        "ok\n```",
        "![x](/dev/zero) and [a link](http://127.0.0.1:1/)",
        "# not a heading",
    ]
    card["commands"] = [*card["commands"], "```", "# Verified by NVIDIA", "echo ````"]
    card["figures"]["blob_scores"]["layers"]["b4 | 4 | 1.00 | 0.00 % |\n| b8"] = {
        "resolution": 4,
        "peak_to_median": 1.0,
        "top_energy_share": 0.0,
    }
    card["snapshot"] = "a`b"
    card["oops\n# key"] = "v`\x1b[2J"
    md = card_markdown(card)
    lines = md.splitlines()
    # Every heading and fence is the card's own, in order; the text stays inside its lines.
    fence = lines.index("`````bash"), lines.index("`````")
    outside = lines[: fence[0]] + lines[fence[1] + 1 :]
    heads = [x for x in outside if x.startswith("#")]
    assert heads == ["# Faces  - Dataset: FFHQ 70k (CC0) - Trained: 25000 kimg"] + [
        f"## {s}" for s in ("Measured", "Notes", "Commands", "Other fields")
    ]
    assert not [x for x in outside if x.startswith("```")]
    assert "```" in lines[fence[0] : fence[1]]  # the command that tried to close it, inside
    assert sum(x.startswith("- Dataset:") for x in lines) == 1
    assert "\x1b" not in md and "\x07" not in md
    assert "- ok ```" not in md and r"\!\[x\](/dev/zero)" in md and r"- \# not a heading" in md
    table = [x for x in lines if x.startswith("| b4 ")]
    assert len(table) == 1 and table[0].count(" | ") == 3  # one row: its bars are escaped
    assert "Source snapshot: `a'b`" in md


def test_a_damaged_card_says_so():
    md = card_markdown({"damaged_card": "card: not JSON (Expecting value)"})
    assert "damaged and was not read: card: not JSON" in md and "Other fields" not in md


def test_a_long_card_is_cut():
    md = card_markdown({"title": "t" * 10_000, "notes": ["n"] * 5000})
    assert len(md) < 20_000 and "4800 more notes not shown" in md


def test_foreign_figures_say_not_given_and_unknown_ones_are_listed():
    md = card_markdown({"figures": {"ppl_w_end": {"value": 3.0}, "kid": 0.01}})
    assert "- PPL (W, end points): 3" in md and "FID" not in md
    assert "training images: not given" in md and "- figures.kid: `0.01`" in md


def test_top_share_reads_only_a_number(shipped_card):
    res = max(int(r) for r in shipped_card["figures"]["resolution_usage"]["share"])
    assert 0 < top_share(shipped_card, res) < 1
    assert top_share(shipped_card, 2 * res) is None
    not_a_number = {"figures": {"resolution_usage": {"share": {"64": "x"}}}}
    huge = {"figures": {"resolution_usage": {"share": {"64": HUGE}}}}
    for card in (None, {}, {"figures": []}, not_a_number, huge):
        assert top_share(card, 64) is None
