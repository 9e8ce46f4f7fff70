"""`stylegan2 bundle`: turn a training snapshot into a shipped model — G_ema only, fp16 weights,
and a model card that says where it came from (dataset and licence, commands, kimg, wall time,
machine) and what it measures (PPL, blob scores per layer, resolution usage; with the training data,
precision/recall and diversity in 32x32 pixels, and FID when Inception weights are given). The
card is stored in the file's header and as a Markdown file beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from stylegan2.analysis import USAGE_SAMPLES, sampled_resolution_usage
from stylegan2.blobs import blob_scores_over_seeds
from stylegan2.checkpoints import load_checkpoint, save_checkpoint
from stylegan2.model_card import card_markdown
from stylegan2.networks import Generator
from stylegan2.safe_writes import folder_problem, same_file, write_text_atomic
from training.machine import machine
from training.snapshot import snapshot_counters


def measure(
    G, seeds: int = 100, ppl_samples: int = 2000, lpips_weights: str | None = None
) -> dict[str, Any]:
    """PPL (W, end points), mean blob scores per conv layer, resolution usage (USAGE_SAMPLES)."""
    from stylegan2.lpips import load_distance
    from stylegan2.ppl import filtered_mean, sample_ppl

    dist = load_distance(lpips_weights, G.device)
    d = sample_ppl(G, dist, ppl_samples, "w", "end", batch=16)
    blobs = blob_scores_over_seeds(G, list(range(seeds)))
    usage = sampled_resolution_usage(G, USAGE_SAMPLES)
    return {
        "ppl_w_end": {
            "value": filtered_mean(d),
            "samples": ppl_samples,
            "distance": getattr(dist, "name", type(dist).__name__),
        },
        "blob_scores": {"seeds": f"0-{seeds - 1}", "psi": 1.0, "layers": blobs},
        "resolution_usage": {
            "samples": USAGE_SAMPLES,
            "share": {str(k): v for k, v in usage.items()},
        },
    }


# Precision/recall of 1,000 samples against 1,000 training images, k = 3, in 32x32 pixels: needs no
# downloaded weights, so every card can carry it (stylegan2.metrics.pixels says what it is not).
PIXEL_METRIC = "pxpr1k3"


def measure_against_data(
    G: Generator,
    data: str | Path,
    inception: str | None = None,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Pixel precision/recall and diversity against the training images, and FID with Inception
    weights."""
    from training.metrics import check_metrics, evaluate

    out: dict[str, Any] = {}
    (spec,) = check_metrics([PIXEL_METRIC], None, None)
    got = evaluate(G, data, [spec], None, None, cache_dir=cache_dir)
    out["pixel_pr"] = {
        "metric": PIXEL_METRIC,
        "samples": spec.num_gen,
        "reals": int(got[f"{PIXEL_METRIC}_reals"]),
        "k": spec.k,
        "precision": got[f"{PIXEL_METRIC}_precision"],
        "recall": got[f"{PIXEL_METRIC}_recall"],
        "diversity": got[f"{PIXEL_METRIC}_diversity"],
        "real_diversity": got[f"{PIXEL_METRIC}_real_diversity"],
    }
    if inception:
        specs = check_metrics(["fid50k_full"], inception, None)
        out["fid"] = evaluate(G, data, specs, inception, None, cache_dir=cache_dir)
    return out


def bundle(
    snapshot: str | Path,
    out: str | Path,
    title: str,
    commands: list[str],
    dataset_note: str,
    lpips_weights: str | None = None,
    inception: str | None = None,
    data: str | None = None,
    notes: list[str] | None = None,
    seeds: int = 100,
    ppl_samples: int = 2000,
    device: str | torch.device = "cpu",
    metrics_cache: str | Path | None = None,
) -> dict[str, Any]:
    """Write G_ema of `snapshot` to `out` in fp16 with its card (also `out` with .md); `data`
    (the training images) adds the figures measured against them."""
    if inception and not data:
        raise ValueError("FID needs the training data (--data) as well as --inception")
    if data is not None and not Path(data).exists():
        raise FileNotFoundError(f"{data}: no such dataset")
    if inception:
        from training.metrics import check_metrics

        check_metrics(["fid50k_full"], inception, None)  # before the minutes of measuring
    card_path = Path(out).with_suffix(".md")
    if same_file(out, card_path):
        raise ValueError(f"--out {out}: the model and its card would write over each other; "
                         "name it .safetensors")  # fmt: skip
    inputs = (
        ("the snapshot", snapshot),
        ("--data", data),
        ("--lpips-weights", lpips_weights),
        ("--inception", inception),
    )
    for what, given in inputs:
        for written in (Path(out), card_path):
            if given and same_file(given, written):
                raise ValueError(
                    f"{'--out' if written == Path(out) else 'the card'} {written} would write "
                    f"over {what} ({given}): choose a .safetensors name of its own"
                )
    for path in (Path(out), card_path):  # before the minutes of measuring
        if path.is_dir():
            raise ValueError(f"cannot write {path}: it is a folder")
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot write {out}: {exc.strerror or exc}") from None
    problem = folder_problem(out)
    if problem:
        raise ValueError(problem)
    ckpt = load_checkpoint(snapshot, device=device)
    G = ckpt.G_ema.eval()
    meta = ckpt.metadata or {}
    counters = snapshot_counters(snapshot, meta)  # before the minutes of measuring
    src_card = meta.get("card") if isinstance(meta.get("card"), dict) else {}
    figures = measure(G, seeds, ppl_samples, lpips_weights)
    if data is not None:
        figures.update(measure_against_data(G, data, inception, metrics_cache))
    card: dict[str, Any] = {
        "title": title,
        "trained_with": "stylegan2-explorer (stylegan2-train)",
        "dataset": dataset_note,
        "commands": commands,
        "kimg": round(counters.get("cur_nimg", 0) / 1000, 1),
        "wall_time_hours": round(counters.get("elapsed", 0.0) / 3600, 2),
        # of which grids, snapshots and metrics (a run whose early snapshots did not count it has
        # it from maintenance_from_kimg on)
        "maintenance_minutes": (
            round(counters["maintenance"] / 60, 1) if "maintenance" in counters else None
        ),
        "maintenance_from_kimg": counters.get("maintenance_from_kimg"),
        # Where it trained (as the snapshot recorded it) and where these figures were measured.
        "machine": src_card.get("machine") or "not recorded (snapshot predates the field)",
        "measured_on": machine(),
        "options": src_card.get("options"),
        "figures": figures,
        "notes": notes or [],
        "snapshot": Path(snapshot).name,
    }
    save_checkpoint(out, G, card=card, dtype=torch.float16)
    write_text_atomic(card_path, card_markdown(card))
    return card
