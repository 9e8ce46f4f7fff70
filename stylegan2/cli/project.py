"""`stylegan2 project`: find the w whose image matches a target picture (as stylegan2-ada-pytorch's
projector.py does)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stylegan2.cli.common import (
    CLIError,
    add_device_arg,
    add_lpips_arg,
    check_memory,
    count_int,
    ensure_dir,
    float_in,
    memory_limit,
    positive_int,
    refuse_overwrite,
    seed_int,
)
from stylegan2.io import load_image, save_png


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="project an image into W")
    p.add_argument("--network", required=True)
    p.add_argument("--target", required=True, help="image file (any size: centre-cropped, resized)")
    p.add_argument("--steps", type=count_int, default=1000, help="1-10^7 (default 1000)")
    p.add_argument("--seed", type=seed_int, default=0, help="0 to 2^32-1 (default 0)")
    p.add_argument("--w-plus", action="store_true", help="one w per layer instead of one for all")
    add_lpips_arg(p, "projection is far less faithful")
    p.add_argument("--outdir", required=True)
    p.add_argument(
        "--video",
        default=None,
        help="also write the optimisation as a video, target beside the current image (like "
        "NVIDIA's proj.mp4): .mp4, .gif or a folder of PNGs, relative to --outdir",
    )
    p.add_argument("--video-every", type=positive_int, default=1, help="one frame per N steps (1+)")
    p.add_argument("--fps", type=float_in(0.01, 1000), default=30, help="0.01-1000 (default 30)")
    add_device_arg(p)
    p.set_defaults(func=run, fetch_lpips=True)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from stylegan2.checkpoints import load_network
    from stylegan2.device import resolve_device
    from stylegan2.latents import save_w
    from stylegan2.lpips import LPIPSError, load_distance
    from stylegan2.projection import (
        ProjectConfig,
        distance_as_rendered,
        prepare_target,
        project,
    )
    from stylegan2.safe_writes import same_file

    outputs = ["projected_w.npz", "target.png", "proj.png", "compare.png"]
    if args.video:
        outputs.append(args.video)
    if args.video and (
        same_file(Path(args.outdir) / args.video, args.outdir)
        or Path(args.video).name in outputs[:-1]
    ):
        raise CLIError(
            f"--video {args.video} names the output folder or another output: "
            "give it a name of its own, such as projection.mp4"
        )

    def flag(name: str) -> str:
        return "--video" if args.video and name == args.video else "--outdir"

    for name in outputs:
        if same_file(args.target, Path(args.outdir) / name):
            raise CLIError(
                f"{flag(name)} would write {Path(args.outdir) / name} over the target image: "
                "choose another name"
            )
    refuse_overwrite(
        [(flag(name), Path(args.outdir) / name) for name in outputs],
        [("--network", args.network)],
    )
    if args.video:
        from stylegan2.video import VideoError, output_kind

        try:
            video_kind = output_kind(args.video)
        except VideoError as exc:
            raise CLIError(str(exc)) from None
    device = resolve_device(args.device)
    G = load_network(args.network, device=device)
    image = load_image(args.target)
    target, note = prepare_target(image, G.img_resolution, G.img_channels)
    if note:
        print(f"target: {note}")
    try:
        dist = load_distance(args.lpips_weights, device)
    except LPIPSError as exc:
        raise CLIError(str(exc)) from None
    outdir = ensure_dir(args.outdir)
    # Every step's ws is kept (the video and projected_w.npz are made from them).
    check_memory(f"the ws of {args.steps:,} steps", (args.steps + 1) * G.num_ws * G.w_dim * 4)
    if args.video:
        from stylegan2.video import check_destination, gif_problem

        try:  # before the projection, not after it
            check_destination(outdir / args.video, video_kind)
        except VideoError as exc:
            raise CLIError(str(exc)) from None
        if video_kind == ".gif":
            res = G.img_resolution
            frames = args.steps // args.video_every + 2
            problem = gif_problem(frames, 2 * res, res, memory_limit(), args.fps)
            if problem:
                raise CLIError(problem)
    cfg = ProjectConfig(num_steps=args.steps, w_plus=args.w_plus)
    last = [float("nan")]
    with tqdm(total=args.steps, unit="step") as bar:

        def cb(step) -> None:
            last[0] = step.distance
            bar.set_postfix_str(f"dist {step.distance:.4f}")
            bar.update(1)

        try:
            history = project(G, target, dist, cfg, seed=args.seed, callback=cb)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    ws = history[-1]
    save_w(outdir / "projected_w.npz", ws)
    # proj.png is what loading projected_w.npz gives (the network's own noise), so its distance
    # is the one to trust; the optimiser's includes noise maps that are not saved.
    got, proj = distance_as_rendered(G, target, ws, dist)
    save_png(target, outdir / "target.png")
    save_png(proj, outdir / "proj.png")
    save_png(np.concatenate([target, proj], axis=1), outdir / "compare.png")
    print(
        f"distance of proj.png {got:.4f} ({dist.name}); {last[0]:.4f} during the projection, "
        "with noise maps optimised alongside w, which projected_w.npz does not carry"
    )
    print(f"wrote projected_w.npz, proj.png, target.png, compare.png to {outdir}")
    if args.video:
        _write_video(G, target, history, outdir / args.video, args.video_every, args.fps)
    return 0


def _write_video(G, target: np.ndarray, history, path, every: int, fps: float) -> None:
    """One frame per `every` steps (and the last): the target beside that step's image."""
    import torch
    from tqdm import tqdm

    from stylegan2.render import to_uint8
    from stylegan2.video import VideoError, write_frames

    steps = list(range(0, len(history), every))
    if steps[-1] != len(history) - 1:
        steps.append(len(history) - 1)

    def frames():
        for k in tqdm(steps, unit="frame", desc="video"):
            with torch.no_grad():
                ws = torch.from_numpy(history[k])[None].to(G.device)
                img = to_uint8(G.synthesis(ws, noise_mode="const"))[0]
            yield np.concatenate([target, img], axis=1)

    try:
        n = write_frames(path, frames(), fps)
    except VideoError as exc:
        raise CLIError(str(exc)) from None
    print(f"wrote {n} frames to {path}")
