"""The README's tables of the bundled models, from their cards: one summary row per model and
the blob scores per resolution side by side.

    python -m training.card_tables assets/models/a.safetensors assets/models/b.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from stylegan2.checkpoints import load_checkpoint


def summary_table(cards: dict[str, dict[str, Any]]) -> str:
    """One row per model: normalization, kimg, training time, pixel precision/recall, sample
    diversity, PPL and resolution usage."""
    lines = [
        "| model | normalization | kimg | training time | precision / recall (pxpr1k3) "
        "| diversity (reals) | PPL (W, end) | resolution usage |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, card in cards.items():
        f = card["figures"]
        pr = f.get("pixel_pr")
        prec = f"{pr['precision']:.3f} / {pr['recall']:.3f}" if pr else "–"
        div = f"{pr['diversity']:.1f} ({pr['real_diversity']:.1f})" if pr else "–"
        usage = ", ".join(
            f"{r} px {100 * v:.0f} %" for r, v in f["resolution_usage"]["share"].items()
        )
        norm = (card.get("options") or {}).get("norm", "?")
        lines.append(
            f"| `{name}` | {norm} | {card['kimg']} | {card['wall_time_hours']} h | {prec} | {div} "
            f"| {f['ppl_w_end']['value']:.2f} | {usage or '–'} |"
        )
    return "\n".join(lines)


def blob_table(cards: dict[str, dict[str, Any]]) -> str:
    """Markdown table of per-resolution mean blob scores, one column pair per model."""
    per_model = {}
    for name, card in cards.items():
        rows: dict[int, list[tuple[float, float]]] = {}
        for s in card["figures"]["blob_scores"]["layers"].values():
            rows.setdefault(s["resolution"], []).append(
                (s["peak_to_median"], s["top_energy_share"])
            )
        per_model[name] = {r: np.mean(v, axis=0) for r, v in rows.items()}
    names = list(per_model)
    if not names:
        raise ValueError("no models to tabulate")
    res = sorted({r for table in per_model.values() for r in table})
    head = "| resolution | " + " | ".join(f"{n} peak/median | {n} top-0.1 %" for n in names) + " |"
    lines = [head, "|---" * (1 + 2 * len(names)) + "|"]
    for r in res:
        cells = [
            f"{per_model[n][r][0]:.2f} | {100 * per_model[n][r][1]:.2f} %"
            if r in per_model[n]
            else "– | –"
            for n in names
        ]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("models", nargs="+", help="bundled .safetensors files with cards")
    args = ap.parse_args(argv)
    cards = {}
    for path in args.models:
        card = (load_checkpoint(path).metadata or {}).get("card")
        if not card:
            ap.error(f"{path}: no model card in its header (not made by `stylegan2 bundle`)")
        cards[Path(path).stem] = card
    print(summary_table(cards))
    print()
    print(blob_table(cards))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
