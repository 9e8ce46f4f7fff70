"""`stylegan2 blobs` (blob scores per layer over seeds) and `stylegan2 resolution-usage`
(tRGB contributions of a network, or over a training run from its stats.jsonl)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from stylegan2.cli.common import (
    SEEDS_HELP,
    CLIError,
    add_device_arg,
    check_memory,
    check_output,
    count_int,
    parse_range,
    psi_float,
    refuse_overwrite,
)
from stylegan2.safe_writes import atomic_path, same_file, write_text_atomic


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("blobs", help="blob (droplet) scores per layer, averaged over seeds")
    p.add_argument("--network", required=True, help="checkpoint (any supported format)")
    p.add_argument(
        "--seeds",
        type=parse_range,
        default=list(range(100)),
        help=f"e.g. 0-99 (the default); {SEEDS_HELP}",
    )
    p.add_argument(
        "--trunc", type=psi_float, default=1.0, help="truncation psi, -100 to 100 (default 1)"
    )
    p.add_argument("--csv", help="write the table as CSV")
    p.add_argument("--plot", help="write a bar chart PNG")
    add_device_arg(p)
    p.set_defaults(func=run_blobs)

    p = sub.add_parser("resolution-usage", help="share of each resolution's tRGB in the image")
    p.add_argument("source", help="a training run folder (stats.jsonl) or a network file")
    p.add_argument(
        "--samples",
        type=count_int,
        default=1024,
        help="random w's for a network, 1-10^7 (default 1024)",
    )
    p.add_argument("--plot", help="write a PNG (stacked area over training, or bars)")
    add_device_arg(p)
    p.set_defaults(func=run_usage, network_positional="source")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def run_blobs(args: argparse.Namespace) -> int:
    from stylegan2.blobs import blob_scores_over_seeds
    from stylegan2.checkpoints import load_network
    from stylegan2.device import resolve_device

    outputs = [("--csv", args.csv), ("--plot", args.plot)]
    for _, out in outputs:
        if out:
            check_output(out)
    refuse_overwrite(outputs, [("--network", args.network)])
    if args.plot:
        check_plot_format(args.plot)
    if args.csv and args.plot and same_file(args.csv, args.plot):
        raise CLIError(f"--csv and --plot both name {args.plot}: choose two names")
    G = load_network(args.network, device=resolve_device(args.device))
    table = blob_scores_over_seeds(G, args.seeds, psi=args.trunc)
    print(f"{'layer':>12} {'res':>5} {'peak/median':>12} {'top 0.1% energy':>16}")
    for name, row in table.items():
        print(
            f"{name:>12} {row['resolution']:>5} {row['peak_to_median']:>12.2f} "
            f"{row['top_energy_share']:>16.4f}"
        )
    if args.csv:
        lines = ["layer,resolution,peak_to_median,top_energy_share"] + [
            f"{n},{r['resolution']},{r['peak_to_median']:.6g},{r['top_energy_share']:.6g}"
            for n, r in table.items()
        ]
        _write(args.csv, "\n".join(lines) + "\n")
    if args.plot:
        plt = _plt()
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
        names = list(table)
        for ax, key, title in (
            (axes[0], "peak_to_median", "peak / median of mean|x|"),
            (axes[1], "top_energy_share", "energy share of top 0.1 % pixels"),
        ):
            ax.bar(range(len(names)), [table[n][key] for n in names], color="#4285f4")
            ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
            ax.set_title(title)
        fig.suptitle(f"{Path(args.network).name}: blob scores over {len(args.seeds)} seeds")
        fig.tight_layout()
        _save(fig, args.plot)
    return 0


def run_usage(args: argparse.Namespace) -> int:
    src = Path(args.source)
    if args.plot:
        check_output(args.plot)
        # the network, or the run's stats (the run folder itself cannot be written over)
        read = src / "stats.jsonl" if src.is_dir() else src
        refuse_overwrite([("--plot", args.plot)], [("source", read)])
        check_plot_format(args.plot)
    if src.is_dir():
        stats = src / "stats.jsonl"
        if not stats.is_file():
            raise CLIError(f"{src}: no stats.jsonl (is it a training run folder?)")
        rows, bad = [], 0
        for line in stats.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict) or "resolution_usage" not in rec:
                    continue
                kimg = float(rec["kimg"])
                usage = {int(k): float(v) for k, v in rec["resolution_usage"].items()}
                if not math.isfinite(kimg) or not all(map(math.isfinite, usage.values())):
                    raise ValueError("not finite")
            except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
                bad += 1  # a line cut by a killed run, or edited by hand
                continue
            rows.append((kimg, usage))
        if bad:
            print(f"{stats}: {bad} unreadable row(s) left out", file=sys.stderr)
        if not rows:
            raise CLIError(f"{stats}: no resolution usage recorded yet (it is logged at snapshots)")
        res = sorted(rows[-1][1])
        for kimg, usage in rows:
            print(
                f"{kimg:9.1f} kimg  " + "  ".join(f"{r}:{100 * usage.get(r, 0):5.1f}%" for r in res)
            )
        if args.plot:
            plt = _plt()
            fig, ax = plt.subplots(figsize=(7, 4))
            kimgs = [k / 1000 for k, _ in rows]
            ax.stackplot(
                kimgs,
                [[100 * u.get(r, 0) for _, u in rows] for r in res],
                labels=[f"{r}²" for r in res],
            )
            ax.set_xlabel("training progress (Mimg)")
            ax.set_ylabel("contribution (%)")
            ax.set_ylim(0, 100)
            ax.legend(loc="upper left", fontsize=8)
            ax.set_title(f"resolution usage: {src.name}")
            fig.tight_layout()
            _save(fig, args.plot)
        return 0

    from stylegan2.analysis import resolution_usage, sample_ws
    from stylegan2.checkpoints import load_network
    from stylegan2.device import resolve_device

    G = load_network(src, device=resolve_device(args.device))
    # every sample's ws, and every tRGB output kept and joined (4/3 of the last one's pixels)
    per_sample = G.num_ws * G.w_dim * 4 + 2 * G.img_channels * G.img_resolution**2 * 4 * 4 // 3
    check_memory(f"resolution usage over {args.samples:,} samples", args.samples * per_sample)
    usage = resolution_usage(G, sample_ws(G, args.samples))
    print("  ".join(f"{r}:{100 * v:5.1f}%" for r, v in usage.items()))
    if args.plot:
        plt = _plt()
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.bar([f"{r}²" for r in usage], [100 * v for v in usage.values()], color="#4285f4")
        ax.set_ylabel("contribution (%)")
        ax.set_title(f"resolution usage: {src.name} ({args.samples} samples)")
        fig.tight_layout()
        _save(fig, args.plot)
    return 0


def _write(path: str, text: str) -> None:
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_plot_format(path: str) -> None:
    """Refuse, before the work, a plot name whose suffix matplotlib cannot write."""
    from matplotlib.backend_bases import FigureCanvasBase

    # pgf is left out: matplotlib writes it only where a LaTeX installation is found.
    formats = {k: v for k, v in FigureCanvasBase.get_supported_filetypes().items() if k != "pgf"}
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise CLIError(
            f"cannot write {path}: a plot is written as {', '.join(sorted(formats))} "
            "(chosen by the suffix)"
        )


def _save(fig, path: str) -> None:
    # (the temporary keeps the suffix: matplotlib picks the image format from it)
    try:
        with atomic_path(path, Path(path).suffix) as tmp:
            fig.savefig(tmp, dpi=120)
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}") from None
    except (ValueError, RuntimeError) as exc:  # a suffix matplotlib does not write, a missing tool
        raise CLIError(f"cannot write {path}: {exc}") from None
    print(f"wrote {path}")
