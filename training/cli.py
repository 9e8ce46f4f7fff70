"""`stylegan2-train`: train StyleGAN2 (or its AdaIN twin) on a folder or zip of images."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

from training.options import CFGS, PRECISIONS, TrainOptions


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stylegan2-train", description=__doc__)
    p.add_argument("--data", required=True, help="folder of images or dataset zip")
    p.add_argument("--outdir", required=True, help="where run folders are created")
    p.add_argument("--cfg", choices=CFGS, default="auto")
    p.add_argument("--norm", choices=["demod", "adain"], default="demod")
    p.add_argument("--arch", choices=["skip", "resnet", "orig"], default="skip")
    p.add_argument("--batch", type=int, default=None, help="total batch over all processes")
    p.add_argument("--gamma", type=float, default=None, help="R1 weight")
    p.add_argument("--kimg", type=float, default=25000, help="training length in kimg")
    p.add_argument("--tick", type=float, default=4.0, help="kimg per progress tick")
    p.add_argument("--snap", type=int, default=50, help="ticks between snapshots")
    p.add_argument(
        "--keep",
        type=int,
        default=0,
        help="keep only this many newest snapshots in the run folder (default 0: all)",
    )
    p.add_argument("--mirror", action="store_true", help="x-flip augmentation")
    p.add_argument(
        "--aug",
        choices=["ada", "none"],
        default="none",
        help="adaptive discriminator augmentation (for small datasets)",
    )
    p.add_argument("--target", type=float, default=0.6, help="ADA target for E[sign(D(real))]")
    p.add_argument(
        "--ada-kimg",
        type=float,
        default=500,
        help="ADA speed: kimg for p to move by 1 (default 500 as in stylegan2-ada; 100 reacts "
        "faster, for short runs on small datasets)",
    )
    p.add_argument("--resume", default=None, help="snapshot path or 'latest'")
    p.add_argument("--labels", action="store_true", help="conditional training on dataset.json")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--channel-max", type=int, default=None)
    p.add_argument("--map", type=int, default=None, help="mapping layers")
    p.add_argument("--workers", type=int, default=2, help="data loading processes")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (1 when several runs share the cores: two-thread "
        "regions stall badly when the other core is busy)",
    )
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="mixed: the 4 highest resolutions in fp16 on CUDA / bf16 on the CPU, conv outputs "
        "clamped to +-256 (NVIDIA's setting); auto: mixed on CUDA, fp32 on the CPU",
    )
    p.add_argument(
        "--pl-weight",
        type=float,
        default=2.0,
        help="path-length regularization weight (0 turns it off, as in StyleGAN1 / config A)",
    )
    p.add_argument(
        "--metrics",
        default="",
        help="computed at every snapshot on G_ema: comma-separated fid<N>k[_full], "
        "pr<N>k3[_full] (e.g. fid50k_full,pr50k3); needs --inception / --vgg16",
    )
    p.add_argument("--inception", help="FID detector: inception-2015-12-05.pt or pytorch-fid .pth")
    p.add_argument("--vgg16", help="precision/recall detector: vgg16.pt or torchvision's .pth")
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="stop after this much wall time with a snapshot (resume later with --resume latest)",
    )
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--bench",
        action="store_true",
        help="measure img/s per phase on random data at this config, then exit",
    )
    # For the multi-process equivalence test: no per-sample noise, mbstd groups of one and no
    # path-length term, whose batch differs by design between one and N processes.
    p.add_argument("--test-equivalence", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    opts = TrainOptions(
        data=args.data,
        outdir=args.outdir,
        cfg=args.cfg,
        norm=args.norm,
        arch=args.arch,
        batch=args.batch,
        gamma=args.gamma,
        kimg=args.kimg,
        tick_kimg=args.tick,
        snap=args.snap,
        keep=args.keep,
        mirror=args.mirror,
        aug=args.aug,
        ada_target=args.target,
        ada_kimg=args.ada_kimg,
        resume=args.resume,
        use_labels=args.labels,
        lr=args.lr,
        channel_max=args.channel_max,
        map_layers=args.map,
        num_workers=args.workers,
        device=args.device,
        seed=args.seed,
        precision=args.precision,
        max_minutes=args.max_minutes,
        pl_weight=args.pl_weight,
        metrics=tuple(m.strip() for m in args.metrics.split(",") if m.strip()),
        inception=args.inception,
        vgg16=args.vgg16,
    )
    if args.test_equivalence:
        opts = dataclasses.replace(opts, use_noise=False, mbstd_group=1, pl_weight=0.0)
    from stylegan2.checkpoints import CheckpointError
    from stylegan2.device import DeviceError
    from training.dataset import DatasetError
    from training.loop import train

    try:
        if args.bench:
            return _bench(opts)
        run_dir = train(opts, progress=not args.no_progress)
    except (DatasetError, CheckpointError, DeviceError, ValueError, FileNotFoundError) as exc:
        print(f"stylegan2-train: error: {exc}", file=sys.stderr)
        return 2
    print(f"run folder: {run_dir}")
    return 0


def _bench(opts: TrainOptions) -> int:
    import torch

    from stylegan2.device import resolve_device
    from stylegan2.networks import Generator
    from training.bench import bench_training
    from training.dataset import ImageDataset
    from training.options import resolve, use_mixed_precision

    ds = ImageDataset(opts.data, use_labels=opts.use_labels)
    device = resolve_device(opts.device)
    mixed = use_mixed_precision(opts, device.type)
    rc = resolve(opts, ds.resolution, ds.num_channels, ds.c_dim, mixed=mixed)
    res = bench_training(rc, device)
    g = sum(p.numel() for p in Generator(rc.G).parameters())
    print(
        f"{ds.resolution} px, batch {rc.batch}, G {g / 1e6:.1f} M params, device {device}, "
        f"{torch.get_num_threads()} threads, {'mixed' if mixed else 'fp32'} precision"
    )
    width = max(map(len, res))
    for k, v in res.items():
        print(f"{k:>{width}}: {v:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
