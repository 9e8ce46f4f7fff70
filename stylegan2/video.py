"""Writing frames to MP4 (H.264, yuv420p, via imageio-ffmpeg's bundled ffmpeg), GIF or a PNG
sequence. Output goes to a temporary name and is renamed only when complete, so a cancelled or
failed export leaves no broken file behind."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from stylegan2 import paths
from stylegan2.render import Renderer
from stylegan2.safe_writes import folder_problem, new_temp, remove_stale_temps

FORMATS = (".mp4", ".gif", "png-dir")


class VideoError(ValueError):
    pass


def output_kind(path: str | Path) -> str:
    p = Path(path)
    if p.suffix.lower() in (".mp4", ".gif"):
        return p.suffix.lower()
    if p.suffix == "":
        return "png-dir"
    raise VideoError(f"{p.name}: use .mp4, .gif or a folder name (PNG sequence)")


def check_size(width: int, height: int, kind: str) -> None:
    """H.264 in yuv420p needs even sizes; we say so instead of resizing behind the user's back."""
    if kind == ".mp4" and (width % 2 or height % 2):
        raise VideoError(
            f"MP4 (H.264, yuv420p) needs an even width and height, got {width}x{height}; "
            "choose an even --size or export GIF / PNG"
        )


#: above this imageio-ffmpeg's quality means crf 0: lossless High 4:4:4, unplayable in most players
MAX_MP4_QUALITY = 9
#: GIF frames are held in memory until the file is written
MAX_GIF_SIDE = 1024
#: bytes per pixel of a GIF frame while it is assembled: our RGB frame and Pillow's palette copy,
#: with room for the quantiser's working copy
GIF_BYTES_PER_PIXEL = 5


#: GIF delays are whole hundredths of a second, and players slow a delay under 0.02 s to 0.1 s
MAX_GIF_FPS = 50.0


def gif_problem(
    frames: float, width: int, height: int, limit: int, fps: float | None = None
) -> str | None:
    """Why a GIF of `frames` frames of width x height at `fps` cannot be written, or None:
    Pillow keeps every frame in memory until the file is written, so a side above MAX_GIF_SIDE
    or frames that would pass `limit` bytes are refused before the first frame renders, and so
    is a frame rate GIF players cannot show."""
    if fps is not None and fps > MAX_GIF_FPS:
        return (
            f"a GIF plays at most {MAX_GIF_FPS:g} fps (its delays are hundredths of a second, "
            f"and players slow shorter ones); got {fps:g}: export MP4 or PNG frames"
        )
    if max(width, height) > MAX_GIF_SIDE:
        return (
            f"GIF frames of {width}x{height} px: GIF sides stay within {MAX_GIF_SIDE} px (every "
            "frame is held in memory); choose a smaller size or export MP4 / PNG frames"
        )
    need = frames * width * height * GIF_BYTES_PER_PIXEL
    if need > limit:
        return (
            f"a GIF of {frames:,.0f} frames of {width}x{height} px would hold about "
            f"{need / 1024**3:.1f} GiB in memory (the limit is {limit / 1024**3:.1f} GiB); "
            "fewer frames, a smaller size, or MP4 / PNG frames"
        )
    return None


#: the file that marks a folder of PNG frames as ours, and so replaceable by the next export
FRAMES_MARKER = ".stylegan2-frames"


@dataclass(frozen=True)
class VideoSettings:
    """How a path is exported: what the explorer's Path tab sets and saves with a state, so that
    `stylegan2 video --state` writes the same video."""

    fps: float = 24.0
    scale: int = 1  # frame size as a multiple of the network's resolution
    smooth: bool = False  # Lanczos, else every pixel a sharp square
    quality: int = 8  # MP4 quality, 1-MAX_MP4_QUALITY

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: object) -> VideoSettings:
        """Settings saved with a state; ValueError naming the field that is out of range."""
        if not isinstance(d, dict):
            raise ValueError("the export settings are not a JSON object")
        out = cls()
        fps, scale = d.get("fps", out.fps), d.get("scale", out.scale)
        smooth, quality = d.get("smooth", out.smooth), d.get("quality", out.quality)
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0.01 <= fps <= 1000:
            raise ValueError(f"export fps must be 0.01-1000, got {fps!r}")
        for name, v, hi in (("scale", scale, 64), ("quality", quality, MAX_MP4_QUALITY)):
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= hi:
                raise ValueError(f"export {name} must be a whole number 1-{hi}, got {v!r}")
        if not isinstance(smooth, bool):
            raise ValueError(f"export smooth must be true or false, got {smooth!r}")
        return cls(float(fps), scale, smooth, quality)


def scale_image(image: np.ndarray, scale: int, smooth: bool) -> np.ndarray:
    """An HxWxC uint8 frame `scale` times larger: Lanczos, or every pixel a sharp square."""
    if scale == 1:
        return image
    if not smooth:
        return image.repeat(scale, axis=0).repeat(scale, axis=1)
    h, w = image.shape[:2]
    pic = Image.fromarray(image.squeeze(2) if image.shape[2] == 1 else image)
    out = np.asarray(pic.resize((w * scale, h * scale), Image.LANCZOS))
    return out[:, :, None] if out.ndim == 2 else out


def side_by_side(images: Sequence[np.ndarray]) -> np.ndarray:
    """uint8 HWC images next to each other, left to right. Each later image is resized to the
    first's size (two networks of different resolutions still fill equal halves), and grey
    images become RGB when any image is RGB."""
    first = images[0]
    h, w = first.shape[:2]
    rgb = any(im.shape[2] == 3 for im in images)
    out = [_rgb(first) if rgb else first]
    for im in images[1:]:
        if im.shape[:2] != (h, w):
            pic = Image.fromarray(im[:, :, 0] if im.shape[2] == 1 else im).resize((w, h))
            im = np.asarray(pic)
            im = im[:, :, None] if im.ndim == 2 else im
        out.append(_rgb(im) if rgb else im)
    return np.concatenate(out, axis=1)


def path_frames(
    streams: Sequence[tuple[Renderer, paths.Path]], times: Sequence[float]
) -> Iterator[np.ndarray]:
    """The frames of one or more paths at `times`, side by side (see `side_by_side`): each
    renderer follows its path through its own mapping, so two networks given the same path of
    seeds both move along it. Raises VideoError on a frame that fails to render."""
    for k, t in enumerate(times):
        images = []
        for renderer, path in streams:
            try:
                req = paths.request_at(renderer, path, t, k)
            except ValueError as exc:  # a keyframe this network cannot take (see path_problem)
                raise VideoError(f"frame {k}: {exc}") from None
            result = renderer.render(req)
            if result.error:
                raise VideoError(f"frame {k}: {result.error}")
            images.append(result.image)
        yield images[0] if len(images) == 1 else side_by_side(images)


def write_frames(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: float,
    quality: int = 8,
    cancelled: Callable[[], bool] = lambda: False,
) -> int:
    """Write uint8 HWC frames; returns the number written. Raises VideoError, or returns 0 and
    leaves nothing behind when `cancelled()` turns true. `quality` (MP4): 1-9; 10 would be
    lossless H.264 (High 4:4:4), which most players cannot open."""
    path = Path(path)
    kind = output_kind(path)
    if kind == ".mp4" and not 1 <= quality <= MAX_MP4_QUALITY:
        raise VideoError(f"MP4 quality must be 1-{MAX_MP4_QUALITY}, got {quality}")
    check_destination(path, kind)  # before the first frame is rendered
    remove_stale_temps(path)  # an earlier export of this file that was killed mid-write
    # A fresh temporary name of our own beside the output (deleted on failure, so it must
    # never be a name the user could own); the suffix stays last: ffmpeg picks the container
    # from it.
    try:
        tmp = new_temp(path, "" if kind == "png-dir" else kind, folder=kind == "png-dir")
    except OSError as exc:
        raise VideoError(f"cannot write {path}: {exc.strerror or exc}") from None
    count = 0
    try:
        if kind == "png-dir":
            (tmp / FRAMES_MARKER).write_text("frames written by stylegan2-explorer\n")
            for frame in frames:
                if cancelled():
                    raise _Cancelled
                Image.fromarray(_rgb(frame)).save(tmp / f"frame{count:06d}.png")
                count += 1
        elif kind == ".gif":
            images = []
            for frame in frames:
                if cancelled():
                    raise _Cancelled
                images.append(Image.fromarray(_rgb(frame)))
                count += 1
            if images:
                images[0].save(
                    tmp,
                    format="GIF",
                    save_all=True,
                    append_images=images[1:],
                    duration=round(1000 / fps),
                    loop=0,
                )
        else:
            count = _write_mp4(tmp, frames, fps, quality, cancelled)
        if count == 0:
            raise VideoError("no frames to write")
        _verify(tmp, kind, path)
        _replace(tmp, path)
        return count
    except _Cancelled:
        _remove(tmp)
        return 0
    except OSError as exc:
        _remove(tmp)
        raise VideoError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(tmp)
        raise


class _Cancelled(Exception):
    pass


def _write_mp4(tmp: Path, frames: Iterable[np.ndarray], fps: float, quality: int, cancelled) -> int:
    """Pipe raw RGB frames to the bundled ffmpeg (H.264, yuv420p; imageio-ffmpeg's quality
    scale: crf = 51 * (1 - quality / 10)) and fail unless ffmpeg exits with status 0: it reports
    a full disk only when it writes the trailer, after the last frame."""
    import imageio_ffmpeg

    proc = None
    count = 0
    with tempfile.TemporaryFile() as log:
        try:
            for frame in frames:
                if cancelled():
                    raise _Cancelled
                frame = np.ascontiguousarray(_rgb(frame))
                if proc is None:
                    height, width = frame.shape[:2]
                    check_size(width, height, ".mp4")
                    rate = str(Fraction(fps).limit_denominator())
                    crf = int((1 - quality / 10) * 51)
                    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error"]
                    cmd += ["-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{width}x{height}"]
                    cmd += ["-pix_fmt", "rgb24", "-r", rate, "-i", "-", "-an"]
                    cmd += ["-vcodec", "libx264", "-pix_fmt", "yuv420p", "-crf", str(crf)]
                    cmd += ["-f", "mp4", str(tmp)]
                    proc = subprocess.Popen(
                        cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log
                    )
                if frame.shape[:2] != (height, width):
                    raise VideoError(f"frame {count} has another size than the first")
                try:
                    proc.stdin.write(frame.tobytes())
                except BrokenPipeError:
                    break  # ffmpeg stopped; its status and message say why
                count += 1
            if proc is not None:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
                status = proc.wait()
                if status != 0:
                    log.seek(0)
                    lines = [
                        ln.strip() for ln in log.read().decode("utf-8", "replace").splitlines()
                    ]
                    stopped = f"stopped by signal {-status}" if status < 0 else ""
                    reason = next((ln for ln in reversed(lines) if ln), stopped)
                    reason = reason or f"exit status {status}"
                    raise VideoError(f"ffmpeg failed: {reason[:200]}")
        finally:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    return count


def mp4_problem(path: Path) -> str | None:
    """Why an MP4 file is not complete, or None: its top-level boxes must tile the file and
    include the index (`moov`) and the data (`mdat`). A write stopped by a full disk or a kill
    ends without `moov` and plays nowhere."""
    size = path.stat().st_size
    seen = set()
    with path.open("rb") as f:
        pos = 0
        while pos < size:
            f.seek(pos)
            head = f.read(8)
            if len(head) < 8:
                return "cut short inside a box header"
            box, kind = int.from_bytes(head[:4], "big"), head[4:]
            if box == 1:
                large = f.read(8)
                if len(large) < 8:
                    return "cut short inside a box header"
                box = int.from_bytes(large, "big")
            elif box == 0:
                box = size - pos
            if box < 8 or pos + box > size:
                return f"the {kind.decode('latin-1')!r} box runs past the end of the file"
            seen.add(kind)
            pos += box
    missing = [k.decode() for k in (b"ftyp", b"mdat", b"moov") if k not in seen]
    return f"no {', '.join(missing)} box" if missing else None


def _verify(tmp: Path, kind: str, path: Path) -> None:
    """Check the finished temporary before it replaces anything."""
    if kind == ".mp4":
        problem = mp4_problem(tmp)
    elif kind == ".gif":
        with tmp.open("rb") as f:
            f.seek(-1, 2)
            problem = None if f.read(1) == b";" else "no GIF trailer"
    else:
        problem = None
    if problem:
        raise VideoError(
            f"cannot write {path}: the new file is incomplete ({problem}); the old one is untouched"
        )


def _rgb(frame: np.ndarray) -> np.ndarray:
    return np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame


def _remove(p: Path) -> None:
    if p.is_dir():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def check_destination(path: str | Path, kind: str) -> None:
    """Refuse, before any work, an output that would destroy something: a folder where a file
    should go, or a folder of anything but an earlier export's frames."""
    path = Path(path)
    problem = folder_problem(path)
    if problem:
        raise VideoError(problem)
    if path.is_dir() and not (kind == "png-dir" and _replaceable(path)):
        what = (
            "a folder of other files (or frames without this program's marker file)"
            if kind == "png-dir"
            else "a folder"
        )
        raise VideoError(f"{path} is {what}: not overwritten; choose another name")
    if path.exists() and not path.is_dir() and kind == "png-dir":
        raise VideoError(f"{path} is a file: not overwritten; choose another name")


def _only_frames(folder: Path) -> bool:
    """A folder that an earlier PNG export wrote (its marker and frame000000.png …), safe to
    replace. Frames named that way by anything else (ffmpeg's usual pattern) lack the marker."""
    entries = list(folder.iterdir())
    return any(p.name == FRAMES_MARKER for p in entries) and all(
        p.is_file() and (p.name == FRAMES_MARKER or re.fullmatch(r"frame\d{6}\.png", p.name))
        for p in entries
    )


def _replaceable(folder: Path) -> bool:
    """An empty folder, or an earlier export's frames."""
    return not any(folder.iterdir()) or _only_frames(folder)


def _replace(tmp: Path, path: Path) -> None:
    if path.is_dir() and _replaceable(path):  # empty, or an earlier export of the frames
        shutil.rmtree(path)
    tmp.replace(path)
