"""A model card as Markdown, and the figures other code reads off a card.

A card is the JSON object a bundled model carries in its file header (`stylegan2 bundle` writes
it; `stylegan2 convert` adds where a file came from). Any file can carry one, so everything here
reads a card field by field and leaves out what is missing or of the wrong type instead of failing:
a stranger's card renders as far as it can be read, and keys this code does not know are listed
as they are."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: the keys card_markdown shows in its own sections (or, for these two, deliberately not:
#: `options` is every training option, which the commands already say)
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
    }
)


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


def _num(v: Any) -> int | float | None:
    return v if isinstance(v, int | float) and not isinstance(v, bool) else None


def _dict(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}


def _texts(v: Any) -> list[str]:
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def figures(card: Any) -> Mapping[str, Any]:
    """The card's measured figures ({} for a card without them, or no card)."""
    return _dict(_dict(card).get("figures"))


def top_share(card: Any, resolution: int) -> float | None:
    """From the card's resolution usage: the share of the image the `resolution` tRGB makes
    (None where the card does not say)."""
    share = _dict(_dict(figures(card).get("resolution_usage")).get("share")).get(str(resolution))
    return float(share) if _num(share) is not None else None


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
    return line + (f", on {where}" if where else "")


def _ppl_line(f: Mapping[str, Any]) -> list[str]:
    p = _dict(f.get("ppl_w_end"))
    value, samples, distance = (
        _num(p.get("value")),
        _num(p.get("samples")),
        _text(p.get("distance")),
    )
    if value is None:
        return []
    how = ", ".join(x for x in ("W, end points", samples and f"{samples} samples", distance) if x)
    return [f"- PPL ({how}): {value:.4g}"]


def _pixel_pr_lines(pr: Any) -> list[str]:
    pr = _dict(pr)
    nums = {k: _num(pr.get(k)) for k in ("samples", "reals", "k", "precision", "recall")}
    if not pr or any(v is None for v in nums.values()):
        return ["- Precision / recall against the training images: not measured"]
    lines = [
        f"- Precision / recall (`{_text(pr.get('metric')) or 'pixels'}`: {nums['samples']:,} "
        f"samples against {nums['reals']:,} training images, k = {nums['k']}, in 32x32 pixels, no "
        f"learned features): {nums['precision']:.3f} / {nums['recall']:.3f}"
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
            rows.append(f"| {name} | {res} | {peak:.2f} | {100 * share:.2f} % |")
    if not rows:
        return []
    seeds = _text(blobs.get("seeds")) or "?"
    return [
        "",
        f"Blob scores (mean over seeds {seeds}, psi 1):",
        "",
        "| layer | resolution | peak / median | top-0.1 % energy share |",
        "|---|---|---|---|",
        *rows,
    ]


def _measured(f: Mapping[str, Any]) -> list[str]:
    lines = ["## Measured", "", *_ppl_line(f)]
    if "fid" in f:
        lines.append(f"- FID: {json.dumps(f['fid'])}")
    else:
        lines.append("- FID: not measured (no Inception weights on the training machine)")
    lines += _pixel_pr_lines(f.get("pixel_pr"))
    share = _dict(_dict(f.get("resolution_usage")).get("share"))
    usage = [f"{r} px {100 * v:.1f} %" for r, v in share.items() if _num(v) is not None]
    if usage:
        lines.append("- Resolution usage (256 samples): " + ", ".join(usage))
    return lines + _blob_lines(f)


def card_markdown(card: Any) -> str:
    """The card as Markdown: where the model came from, what it measures, its notes and the
    commands that trained it. Fields that are missing or unreadable are left out; unknown ones
    are listed."""
    card = _dict(card)
    lines = [f"# {_text(card.get('title')) or 'Model card'}", ""]
    facts = []
    if dataset := _text(card.get("dataset")):
        facts.append(f"- Dataset: {dataset}")
    if trained := _trained_line(card):
        facts.append(trained)
    if measured_on := _text(card.get("measured_on")):
        facts.append(f"- Figures measured on: {measured_on}")
    if snapshot := _text(card.get("snapshot")):
        facts.append(f"- Source snapshot: `{snapshot}`")
    source = _dict(card.get("converted_from"))
    if file := _text(source.get("file")):
        how = _text(source.get("format"))
        facts.append(f"- Converted from: `{file}`" + (f" ({how})" if how else ""))
    lines += facts or ["- (the card says nothing of where the model came from)"]
    if f := figures(card):
        lines += ["", *_measured(f)]
    if notes := _texts(card.get("notes")):
        lines += ["", "## Notes", "", *[f"- {n}" for n in notes]]
    # Last: every command that made the model, which a reader who wants the figures skips.
    if commands := _texts(card.get("commands")):
        lines += ["", "## Commands", "", "```bash", *commands, "```"]
    other = {k: v for k, v in card.items() if k not in KNOWN_KEYS}
    if other:
        lines += ["", "## Other fields", ""]
        lines += [f"- {k}: `{json.dumps(v, default=str)[:500]}`" for k, v in other.items()]
    return "\n".join(lines) + "\n"
