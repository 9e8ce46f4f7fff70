"""A model card as Markdown, and the figures other code reads off a card.

A card is the JSON object a bundled model carries in its file header (`stylegan2 bundle` writes
it; `stylegan2 convert` adds where a file came from). Any file can carry one, so everything here
reads a card field by field and leaves out what is missing or of the wrong type instead of failing,
and every piece of card text goes in as one line of plain text: a stranger's card renders as far
as it can be read, cannot add lines, headings, table rows or code blocks of its own, and cannot
send control characters to a terminal. Keys this code does not know are listed as they are."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

#: the keys card_markdown shows in its own sections (or, for these two, deliberately not:
#: `options` is every training option, which the commands already say; `trained_with` names
#: the trainer, which decides only how missing figures are worded)
KNOWN_KEYS = frozenset(
    {
        "title",
        "trained_with",
        "dataset",
        "commands",
        "kimg",
        "wall_time_hours",
        "maintenance_minutes",
        "maintenance_from_kimg",
        "machine",
        "measured_on",
        "options",
        "figures",
        "notes",
        "snapshot",
        "converted_from",
        "damaged_card",
    }
)
#: the figures `stylegan2 bundle` measures; others a card holds are listed with the unknown keys
KNOWN_FIGURES = frozenset({"ppl_w_end", "fid", "pixel_pr", "resolution_usage", "blob_scores"})
OUR_TRAINER = "stylegan2-explorer"
# Bounds on what a card can make a reader scroll through (a header may hold 100 MB).
MAX_TEXT, MAX_ITEMS = 2000, 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BLOCK_START = re.compile(r"^(\s*)([#>+=*-]|\d+[.)])")


def inline(text: str, limit: int = MAX_TEXT) -> str:
    """`text` as one line of Markdown that shows as written: control characters (newlines,
    terminal escapes) become spaces, table bars, backticks and image/link brackets are escaped,
    and a leading block marker (heading, list, quote) is escaped; cut to `limit` characters."""
    text = _CONTROL.sub(" ", text)
    if len(text) > limit:
        text = text[:limit] + " …"
    text = re.sub(r"([\\`|<\[\]!])", r"\\\1", text)
    return _BLOCK_START.sub(r"\1\\\2", text)


def _code(text: str) -> str:
    """`text` as an inline code span (its backticks become quotes: a span cannot hold them)."""
    return "`" + _CONTROL.sub(" ", text)[:MAX_TEXT].replace("`", "'") + "`"


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


def _num(v: Any) -> int | float | None:
    """A number that every format here can print (a JSON integer too large for a float is not)."""
    if not isinstance(v, int | float) or isinstance(v, bool):
        return None
    try:
        float(v)
    except OverflowError:
        return None
    return v


def _dict(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}


def _texts(v: Any) -> list[str]:
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def _dump(v: Any) -> str:
    """Any value as compact JSON (or, for what JSON cannot hold, its repr)."""
    try:
        return json.dumps(v, default=str, skipkeys=True)
    except (TypeError, ValueError, RecursionError):
        return repr(v)


def _capped(items: list[str], what: str) -> list[str]:
    if len(items) <= MAX_ITEMS:
        return items
    return [*items[:MAX_ITEMS], f"(… {len(items) - MAX_ITEMS} more {what} not shown)"]


def figures(card: Any) -> Mapping[str, Any]:
    """The card's measured figures ({} for a card without them, or no card)."""
    return _dict(_dict(card).get("figures"))


def top_share(card: Any, resolution: int) -> float | None:
    """From the card's resolution usage: the share of the image the `resolution` tRGB makes
    (None where the card does not say, or says something that is not a share)."""
    share = _num(
        _dict(_dict(figures(card).get("resolution_usage")).get("share")).get(str(resolution))
    )
    return float(share) if share is not None and 0 <= share <= 1 else None


def _maintenance_note(card: Mapping[str, Any]) -> str:
    minutes, since = _num(card.get("maintenance_minutes")), _num(card.get("maintenance_from_kimg"))
    if minutes is None or since is None:
        return ""
    what = f"{minutes} min on sample grids, snapshots and metrics"
    return f" (of which {what})" if since == 0 else f" ({what} since {since:.1f} kimg)"


def _trained_line(card: Mapping[str, Any]) -> str | None:
    kimg, hours = _num(card.get("kimg")), _num(card.get("wall_time_hours"))
    if kimg is None:
        return None
    where = _text(card.get("machine"))
    line = f"- Trained: {kimg} kimg"
    if hours is not None:
        line += f", {hours} h of training time" + _maintenance_note(card)
    return line + (f", on {inline(where)}" if where else "")


def _ppl_line(f: Mapping[str, Any]) -> list[str]:
    p = _dict(f.get("ppl_w_end"))
    value, samples = _num(p.get("value")), _num(p.get("samples"))
    distance = _text(p.get("distance"))
    if value is None:
        return []
    parts = ("W, end points", samples and f"{samples} samples", distance and inline(distance))
    return [f"- PPL ({', '.join(x for x in parts if x)}): {value:.4g}"]


def _pixel_pr_lines(pr: Any, missing: str) -> list[str]:
    pr = _dict(pr)
    nums = {k: _num(pr.get(k)) for k in ("samples", "reals", "k", "precision", "recall")}
    if not pr or any(v is None for v in nums.values()):
        return [f"- Precision / recall against the training images: {missing}"]
    lines = [
        f"- Precision / recall ({_code(_text(pr.get('metric')) or 'pixels')}: "
        f"{nums['samples']:,} samples against {nums['reals']:,} training images, k = {nums['k']}, "
        f"in 32x32 pixels, no learned features): {nums['precision']:.3f} / {nums['recall']:.3f}"
    ]
    div, real = _num(pr.get("diversity")), _num(pr.get("real_diversity"))
    if div is not None and real is not None:
        lines.append(
            "- Mean pairwise distance of samples (32x32 pixels, mean absolute difference in "
            f"0-255): {div:.1f} (training images: {real:.1f})"
        )
    return lines


def _blob_lines(f: Mapping[str, Any]) -> list[str]:
    blobs = _dict(f.get("blob_scores"))
    rows = []
    for name, s in _dict(blobs.get("layers")).items():
        s = _dict(s)
        res, peak = _num(s.get("resolution")), _num(s.get("peak_to_median"))
        share = _num(s.get("top_energy_share"))
        if res is not None and peak is not None and share is not None:
            rows.append(f"| {inline(str(name), 80)} | {res} | {peak:.2f} | {100 * share:.2f} % |")
    if not rows:
        return []
    seeds = inline(_text(blobs.get("seeds")) or "?", 80)
    return [
        "",
        f"Blob scores (mean over seeds {seeds}, psi 1):",
        "",
        "| layer | resolution | peak / median | top-0.1 % energy share |",
        "|---|---|---|---|",
        *_capped(rows, "layers"),
    ]


def _measured(f: Mapping[str, Any], ours: bool, level: int) -> list[str]:
    # Our bundles always measure these, so a gap in one of their cards is a real "not measured";
    # another trainer's card simply does not say.
    missing = "not measured" if ours else "not given"
    lines = [f"{'#' * (level + 1)} Measured", "", *_ppl_line(f)]
    if "fid" in f:
        lines.append(f"- FID: {inline(_dump(f['fid']), 500)}")
    elif ours:
        lines.append("- FID: not measured (no Inception weights on the training machine)")
    lines += _pixel_pr_lines(f.get("pixel_pr"), missing)
    usage = _dict(f.get("resolution_usage"))
    share = _dict(usage.get("share"))
    shares = [
        f"{inline(str(r), 12)} px {100 * v:.1f} %" for r, v in share.items() if _num(v) is not None
    ]
    if shares:
        n = _num(usage.get("samples"))
        how = f"{n if n is not None else '?'} samples"
        lines.append(f"- Resolution usage ({how}): " + ", ".join(shares[:MAX_ITEMS]))
    return lines + _blob_lines(f)


def card_markdown(card: Any, level: int = 1) -> str:
    """The card as Markdown, its title a heading of `level` (its sections one below): where the
    model came from, what it measures, its notes and the commands that trained it. Fields that
    are missing or unreadable are left out; unknown ones are listed."""
    card = _dict(card)
    h = "#" * level
    lines = [f"{h} {inline(_text(card.get('title')) or 'Model card', 300)}", ""]
    facts = []
    if damage := _text(card.get("damaged_card")):
        facts.append(f"- The card in this file is damaged and was not read: {inline(damage)}")
    if dataset := _text(card.get("dataset")):
        facts.append(f"- Dataset: {inline(dataset)}")
    if trained := _trained_line(card):
        facts.append(trained)
    if measured_on := _text(card.get("measured_on")):
        facts.append(f"- Figures measured on: {inline(measured_on)}")
    if snapshot := _text(card.get("snapshot")):
        facts.append(f"- Source snapshot: {_code(snapshot)}")
    source = _dict(card.get("converted_from"))
    if file := _text(source.get("file")):
        how = _text(source.get("format"))
        facts.append(f"- Converted from: {_code(file)}" + (f" ({inline(how, 80)})" if how else ""))
    lines += facts or ["- (the card says nothing of where the model came from)"]
    ours = (_text(card.get("trained_with")) or "").startswith(OUR_TRAINER)
    if f := figures(card):
        lines += ["", *_measured(f, ours, level)]
    if notes := _texts(card.get("notes")):
        lines += ["", f"{h}# Notes", "", *_capped([f"- {inline(n)}" for n in notes], "notes")]
    # Last: every command that made the model, which a reader who wants the figures skips.
    if commands := _texts(card.get("commands")):
        commands = [_CONTROL.sub(" ", c)[:MAX_TEXT] for c in commands]
        # A fence longer than any run of backticks in the commands is one they cannot close.
        ticks = max((len(m) for c in commands for m in re.findall(r"`+", c)), default=0)
        fence = "`" * max(3, ticks + 1)
        lines += ["", f"{h}# Commands", "", fence + "bash", *_capped(commands, "commands"), fence]
    other = {k: v for k, v in card.items() if k not in KNOWN_KEYS}
    other.update({f"figures.{k}": v for k, v in figures(card).items() if k not in KNOWN_FIGURES})
    if other:
        items = [f"- {inline(str(k), 200)}: {_code(_dump(v)[:500])}" for k, v in other.items()]
        lines += ["", f"{h}# Other fields", "", *_capped(items, "fields")]
    return "\n".join(lines) + "\n"
