"""`stylegan2 bundle`: a training snapshot -> a shipped model with a measured model card
(see training.bundle)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bundle", help="snapshot -> shipped model (G_ema, fp16) with model card")
    p.add_argument("snapshot")
    p.add_argument("--out", required=True, help="output .safetensors (a .md card is written too)")
    p.add_argument("--title", required=True)
    p.add_argument(
        "--dataset", required=True, help="what the dataset is, its source and licence (card text)"
    )
    # dest "commands": "command" is the sub-command's name, which errors are printed under
    p.add_argument(
        "--command",
        dest="commands",
        action="append",
        default=[],
        help="exact command (repeatable)",
    )
    p.add_argument("--note", action="append", default=[], help="a note for the card (repeatable)")
    p.add_argument(
        "--lpips-weights",
        help="VGG16 trunk for PPL, a file or URL (never fetched unasked, so the card does not "
        "depend on the machine; else the labelled pixel fallback)",
    )
    p.add_argument(
        "--data",
        help="the training dataset (folder or zip): adds precision/recall and sample diversity "
        "in 32x32 pixels (pxpr1k3) to the card, and FID with --inception",
    )
    p.add_argument("--inception", help="Inception weights: adds fid50k_full against --data")
    p.add_argument("--device", default="cpu", help="where the figures are measured")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stylegan2.cli.common import CLIError
    from stylegan2.device import resolve_device
    from training.bundle import bundle

    device = resolve_device(args.device)  # an unknown or absent device is one line, now
    try:
        card = bundle(
            args.snapshot,
            args.out,
            args.title,
            args.commands,
            args.dataset,
            lpips_weights=args.lpips_weights,
            inception=args.inception,
            data=args.data,
            notes=args.note,
            device=device,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise CLIError(str(exc)) from None
    f = card["figures"]
    line = f"{args.out}: {card['kimg']} kimg, PPL {f['ppl_w_end']['value']:.4g}"
    if "pixel_pr" in f:
        pr = f["pixel_pr"]
        line += (
            f", pxpr1k3 precision {pr['precision']:.3f} recall {pr['recall']:.3f}"
            f", diversity {pr['diversity']:.1f}"
        )
    print(line)
    return 0
