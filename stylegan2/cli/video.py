"""`stylegan2 video`: render an interpolation path to MP4 / GIF / PNG frames, frame-exactly."""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from stylegan2.checkpoints.formats import suffixes_text
from stylegan2.cli.common import (
    MAX_FRAMES,
    MAX_SIDE,
    SEEDS_HELP,
    CLIError,
    add_device_arg,
    check_image_bytes,
    float_in,
    int_in,
    memory_limit,
    parse_range,
    parse_size,
    psi_float,
    read_state,
    refuse_overwrite,
)
from stylegan2.paths import PATH_NOISE


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("video", help="interpolation video through seeds or a saved path")
    p.add_argument("--network", required=True, help=f"checkpoint ({suffixes_text()})")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--seeds", type=parse_range, help=f"keyframe seeds, e.g. 0,1,2; {SEEDS_HELP}")
    src.add_argument(
        "--state",
        help="an explorer state holding a path (its Save state JSON, or a PNG its Save image "
        "wrote)",
    )
    p.add_argument(
        "--space",
        choices=["w", "z"],
        default="w",
        help="w (default): lerp each layer's w; z: slerp between the seeds' z",
    )
    p.add_argument(
        "--easing",
        choices=["linear", "ease", "catmull"],
        default="linear",
        help="timing between keyframes (default linear); catmull: smooth through the keyframes",
    )
    p.add_argument(
        "--frames-per-segment",
        type=int_in(1, MAX_FRAMES),
        default=60,
        help=f"frames from one keyframe to the next, 1-{MAX_FRAMES} (default 60)",
    )
    p.add_argument(
        "--fps",
        type=float_in(0.01, 1000),
        default=None,
        help="frames per second, 0.01-1000 (default 30, or the --state file's)",
    )
    p.add_argument("--loop", action="store_true", help="close the path back to the first keyframe")
    p.add_argument(
        "--trunc", type=psi_float, default=1.0, help="truncation psi, -100 to 100 (default 1)"
    )
    p.add_argument(
        "--noise",
        choices=list(PATH_NOISE),
        default=None,
        help="fixed (default): the request's noise; animated: new random noise every frame "
        "(flickers); smooth: random noise that moves continuously and comes back at the end "
        "(seamless loops). With --state: overrides the saved path's choice",
    )
    p.add_argument(
        "--size",
        type=parse_size,
        help=f"scale frames to WxH (Lanczos), each side 1-{MAX_SIDE}; MP4 needs even sizes",
    )
    p.add_argument(
        "--quality",
        type=int_in(1, 9),
        default=None,
        help="MP4 quality 1-9 (default 8, or the --state file's)",
    )
    second = p.add_mutually_exclusive_group()
    second.add_argument("--compare-network", help="second network side by side (same path)")
    second.add_argument(
        "--compare-trunc", type=psi_float, help="second truncation side by side (-100 to 100)"
    )
    p.add_argument("--out", required=True, help=".mp4, .gif, or a folder name for PNG frames")
    add_device_arg(p)
    p.set_defaults(func=run)


def build_path(args: argparse.Namespace, state: dict | None = None):
    """The path to render: the --state file's (`state`, when the caller has read it already)
    or one through --seeds."""
    from stylegan2.paths import Keyframe, path_from_dict
    from stylegan2.paths import Path as LatentPath
    from stylegan2.render import Latent, RenderRequest

    seg = args.frames_per_segment / (args.fps or 30)
    if args.state:
        data = state if state is not None else read_state(args.state)
        if not isinstance(data.get("path"), dict):
            raise CLIError(
                f"{args.state}: holds no path (the explorer saves one when its Path tab has two "
                "keyframes or more)"
            )
        try:
            path = path_from_dict(data["path"])
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
            raise CLIError(f"{args.state}: holds no path ({exc})") from None
        return path if args.noise is None else replace(path, noise=args.noise)
    if len(args.seeds) < 2:
        raise CLIError("--seeds needs at least two keyframes")
    keys = tuple(Keyframe(Latent.from_seed(s), seg) for s in args.seeds)
    try:
        return LatentPath(
            keys,
            args.space,
            args.easing,
            args.loop,
            args.noise or "fixed",
            RenderRequest(psi=args.trunc),
        )
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from PIL import Image
    from tqdm import tqdm

    from stylegan2.checkpoints import load_network
    from stylegan2.device import resolve_device
    from stylegan2.paths import frame_times, path_problem
    from stylegan2.render import Renderer
    from stylegan2.video import (
        VideoError,
        VideoSettings,
        check_destination,
        check_size,
        gif_problem,
        output_kind,
        path_frames,
        scale_image,
        write_frames,
    )

    try:
        kind = output_kind(args.out)
        check_destination(args.out, kind)  # before any frame is rendered
    except VideoError as exc:
        raise CLIError(str(exc)) from None
    inputs = [("--network", args.network), ("--compare-network", args.compare_network)]
    refuse_overwrite([("--out", args.out)], [*inputs, ("--state", args.state)])
    device = resolve_device(args.device)
    renderer = Renderer(load_network(args.network, device=device))
    state = read_state(args.state) if args.state else None  # (a PNG's state decoded once)
    path = build_path(args, state)
    # A state saved by the explorer carries its Path tab's export settings: the same video
    # unless a flag says otherwise.
    saved = VideoSettings(fps=30.0)
    if state is not None:
        export = state["path"].get("export")
        if export is not None:
            try:
                saved = VideoSettings.from_dict(export)
            except ValueError as exc:
                raise CLIError(f"{args.state}: {exc}") from None
    args.fps = args.fps if args.fps is not None else saved.fps
    args.quality = args.quality if args.quality is not None else saved.quality
    second = None
    if args.compare_network:
        second = (Renderer(load_network(args.compare_network, device=device)), path)
    elif args.compare_trunc is not None:
        second = (renderer, replace(path, base=replace(path.base, psi=args.compare_trunc)))
    # Said now, not at the frame that reaches a keyframe saved with another network.
    networks = [("", renderer.G)]
    if args.compare_network:
        networks.append(("with --compare-network: ", second[0].G))
    for which, G in networks:
        problem = path_problem(path, G.num_ws, G.w_dim)
        if problem:
            raise CLIError(f"{args.state}: {which}{problem}")
    size = args.size
    frames_needed = path.duration * args.fps + 1  # a float: a state's durations may be huge
    if not frames_needed <= MAX_FRAMES:
        raise CLIError(
            f"the video would have {frames_needed:,.0f} frames; at most {MAX_FRAMES:,} "
            "(fewer --frames-per-segment, keyframes or --fps)"
        )
    res = renderer.G.img_resolution
    width = (2 if second is not None else 1) * res
    scale = saved.scale if size is None else 1
    if size is not None:
        width, res = size
    else:
        width, res = width * scale, res * scale
    check_image_bytes("a frame", res, width)
    try:  # said now, not at the first frame
        check_size(width, res, kind)
    except VideoError as exc:
        raise CLIError(str(exc)) from None
    if kind == ".gif":
        problem = gif_problem(frames_needed, width, res, memory_limit(), args.fps)
        if problem:
            raise CLIError(problem)
    times = frame_times(path, args.fps)

    streams = [(renderer, path)] + ([second] if second is not None else [])

    def frames():
        # One frame loop for the GUI's export and this command: a second network of another
        # resolution is resized to fill its half (stylegan2.video.side_by_side).
        for img in tqdm(path_frames(streams, times), total=len(times), unit="frame"):
            img = scale_image(img, scale, saved.smooth)
            if size is not None:
                pil = Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img)
                img = np.asarray(pil.resize(size, Image.LANCZOS))
                img = img[:, :, None] if img.ndim == 2 else img
            yield img

    try:
        n = write_frames(args.out, frames(), args.fps, quality=args.quality)
    except VideoError as exc:
        raise CLIError(str(exc)) from None
    print(f"wrote {n} frames ({n / args.fps:.1f} s at {args.fps:g} fps) to {args.out} [{kind}]")
    return 0
