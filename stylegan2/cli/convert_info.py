"""`stylegan2 convert` (any supported file -> our format) and `stylegan2 info`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from stylegan2.checkpoints import load_checkpoint, save_checkpoint
from stylegan2.checkpoints.formats import suffixes_text
from stylegan2.cli.common import CLIError
from stylegan2.info import describe, roles
from stylegan2.model_card import card_markdown


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert a checkpoint to our safetensors format")
    p.add_argument("src", help=f"input checkpoint ({suffixes_text()})")
    p.add_argument("dst", help="output .safetensors path")
    p.add_argument("--g-ema-only", action="store_true", help="drop G and D (smaller file)")
    p.add_argument("--fp16", action="store_true", help="store weights as float16")
    p.set_defaults(func=run_convert, network_positional="src")

    p = sub.add_parser("info", help="describe a checkpoint")
    p.add_argument("path")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_info, network_positional="path")


#: the suffixes of the pickled formats `convert` reads (it never writes them)
PICKLE_SUFFIXES = (".pkl", ".pt", ".pth")


def run_convert(args: argparse.Namespace) -> int:
    from stylegan2.safe_writes import same_file

    if same_file(args.src, args.dst):
        raise CLIError(
            f"{args.dst} is the file being converted: choose another name (converting drops "
            "a snapshot's optimizer state and counters, so it must not replace it)"
        )
    if Path(args.dst).suffix.lower() in PICKLE_SUFFIXES:
        raise CLIError(
            f"{args.dst}: convert writes the safe .safetensors format, not a pickle; "
            "name it .safetensors"
        )
    ckpt = load_checkpoint(args.src)
    G, D = (None, None) if args.g_ema_only else (ckpt.G, ckpt.D)
    card = dict(ckpt.metadata.get("card") or {})
    card.setdefault("converted_from", {"file": Path(args.src).name, "format": ckpt.format})
    save_checkpoint(
        args.dst, ckpt.G_ema, G=G, D=D, card=card, dtype=torch.float16 if args.fp16 else None
    )
    print(f"wrote {args.dst} ({roles(ckpt, args.g_ema_only)})")
    return 0


def run_info(args: argparse.Namespace) -> int:
    info = describe(load_checkpoint(args.path))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    params = info.pop("parameters")
    channels = info.pop("channels")
    card = info.pop("card", None)
    for k, v in info.items():
        print(f"{k:>26}: {v}")
    print(f"{'channels':>26}: " + ", ".join(f"{r}:{c}" for r, c in channels.items()))
    for k, v in params.items():
        print(f"{'parameters ' + k:>26}: {v:,}")
    if card:
        print()
        print(card_markdown(card), end="")
    return 0
