"""`stylegan2 dataset`: turn a folder (or zip) of images into a training zip in NVIDIA's
dataset_tool layout: `00000/img00000000.png` (uncompressed PNG) plus `dataset.json` labels.

Images are centre-cropped (or must already be square), resized with Lanczos, converted to RGB (or
kept grey when every image is grey). Unreadable images are listed and skipped, never fatal. The zip
is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from stylegan2.io import WIDE_GREY_MODES
from stylegan2.safe_writes import atomic_path, same_file
from training.dataset import (
    IMAGE_EXTENSIONS,
    DatasetError,
    _Source,
    hidden_copies,
    open_image,
    read_image,
    skipped_summary,
)

log = logging.getLogger(__name__)


@dataclass
class ToolReport:
    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"wrote {self.written} images"
        if self.classes:
            text += f" in {len(self.classes)} classes"
        if self.skipped:
            text += f"; skipped {len(self.skipped)}: {skipped_summary(self.skipped)}"
        return text


def prepare_image(arr: np.ndarray, resolution: int, crop: str) -> np.ndarray | None:
    """uint8 HWC -> uint8 [R, R, C], or None when the image cannot be used without cropping."""
    h, w = arr.shape[:2]
    if crop == "center":
        s = min(h, w)
        y, x = (h - s) // 2, (w - s) // 2
        arr = arr[y : y + s, x : x + s]
    elif h != w:
        return None
    img = Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)
    if img.size != (resolution, resolution):
        img = img.resize((resolution, resolution), Image.LANCZOS)
    out = np.asarray(img)
    return out[:, :, None] if out.ndim == 2 else out


def _inside(path: Path, folder: Path) -> str | None:
    """path's name relative to folder (as the source lists its files), or None if outside."""
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return None


def build_dataset(
    source: str | Path,
    dest: str | Path,
    resolution: int,
    crop: str = "center",
    labels: bool = False,
    max_images: int | None = None,
) -> ToolReport:
    if resolution < 4 or resolution & (resolution - 1):
        raise DatasetError(f"--resolution must be a power of two >= 4, got {resolution}")
    if crop not in ("center", "none"):
        raise DatasetError(f"--crop must be center or none, got {crop!r}")
    if same_file(source, dest):
        raise DatasetError(f"--dest {dest} is the source: the images would be replaced")
    src = _Source(Path(source))
    dest = Path(dest)
    names = [n for n in src.names if Path(n).suffix.lower() in IMAGE_EXTENSIONS]
    if src.path.is_dir() and _inside(dest, src.path) in set(src.names):
        raise DatasetError(
            f"--dest {dest} is one of the --source files being read: it would be written over; "
            "choose another name"
        )
    if not names:
        raise DatasetError(f"{source}: contains no images")
    report = ToolReport()
    report.skipped += hidden_copies(src)
    class_of: dict[str, int] = {}
    if labels:
        report.classes = sorted({str(Path(n).parent) for n in names})
        if len(report.classes) < 2:
            raise DatasetError(
                "--labels takes classes from sub-folder names; found only one folder"
            )
        class_of = {c: i for i, c in enumerate(report.classes)}

    def usable() -> Iterator[tuple[np.ndarray, int | None]]:
        # One image in memory at a time: a folder of photos may be far larger than memory.
        written = 0
        for name in names:
            if max_images is not None and written >= max_images:
                return
            arr, why = read_image(src, name)
            if arr is None:
                report.skipped.append((name, why))
                continue
            out = prepare_image(arr, resolution, crop)
            if out is None:
                report.skipped.append(
                    (name, f"not square ({arr.shape[1]}x{arr.shape[0]}), use --crop center")
                )
                continue
            written += 1
            yield out, class_of[str(Path(name).parent)] if labels else None

    grey = _all_grey(src, names, max_images)
    extra = {"classes": report.classes} if labels else None
    report.written = write_zip_stream(dest, usable(), grey, labels, extra)
    if not report.written:
        raise DatasetError(
            f"{source}: none of the {len(names)} images could be used: "
            f"{skipped_summary(report.skipped[len(hidden_copies(src)) :], 3)}"
        )
    return report


def _all_grey(src: _Source, names: list[str], max_images: int | None) -> bool:
    """Whether the images to be written all decode to one channel, from their headers alone: the
    first `max_images` readable ones (or all). Stops at the first colour image."""
    readable = 0
    for name in names:
        grey = _is_grey(src, name)
        if grey is False:
            return False
        readable += grey is not None
        if max_images is not None and readable >= max_images:
            break
    return True


def _is_grey(src: _Source, name: str) -> bool | None:
    """Whether an image decodes to one channel, from its header alone; None for a file that
    cannot be read (it is skipped when it is decoded)."""
    try:
        with open_image(src.read(name)) as img:
            alpha = img.mode in ("LA", "PA") or "transparency" in img.info
            return img.mode in ("L", *WIDE_GREY_MODES) and not alpha
    except Exception:  # any decoder error: read_image says why when it decodes the file
        return None


def _member(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date, so that the same images give the same zip file, byte for
    byte (a build can then be checked against another with one checksum)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16  # what writestr gives a file named by a string
    return info


def write_zip(
    dest: Path,
    images: list[tuple[str, np.ndarray]],
    labels: list[int] | None = None,
    extra: dict | None = None,
) -> None:
    """Write images (uint8 HWC) in the dataset_tool layout, atomically."""
    grey = all(a.shape[2] == 1 for _, a in images)
    items = ((arr, None if labels is None else labels[i]) for i, (_, arr) in enumerate(images))
    write_zip_stream(dest, items, grey, labels is not None, extra)


def write_zip_stream(
    dest: Path,
    items: Iterable[tuple[np.ndarray, int | None]],
    grey: bool,
    labelled: bool,
    extra: dict | None = None,
) -> int:
    """Write (image uint8 HWC, label) pairs as they come, in the dataset_tool layout, atomically
    (nothing is left at `dest` when it fails, or when no image comes); the number written.
    `grey`: one channel per image; otherwise grey images are repeated to RGB."""
    table = []
    count = 0
    try:
        # in_place=False: a zip cannot be written to a device (its end record goes wrong)
        with atomic_path(dest, in_place=False) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
                for arr, label in items:
                    if not grey and arr.shape[2] == 1:
                        arr = np.repeat(arr, 3, axis=2)
                    elif grey and arr.shape[2] != 1:
                        arr = np.asarray(Image.fromarray(arr).convert("L"))[:, :, None]
                    arc = f"{count:08d}"[:5] + f"/img{count:08d}.png"
                    buf = io.BytesIO()
                    Image.fromarray(arr[:, :, 0] if grey else arr).save(
                        buf, format="PNG", compress_level=0
                    )
                    z.writestr(_member(arc), buf.getvalue())
                    if labelled:
                        table.append([arc, label])
                    count += 1
                meta = {"labels": table if labelled else None, **(extra or {})}
                z.writestr(_member("dataset.json"), json.dumps(meta))
            if not count:
                raise _NothingWritten
    except _NothingWritten:
        return 0
    except OSError as exc:
        raise DatasetError(f"cannot write {dest}: {exc.strerror or exc}") from None
    return count


class _NothingWritten(Exception):
    """Raised inside the atomic write so that an empty zip is not left at the destination."""


def build_emoji_dataset(
    font: str | Path,
    dest: str | Path,
    resolution: int,
    max_images: int | None = None,
    emoji_set: str = "all",
) -> int:
    """The bundled models' dataset (see training.emoji); returns the number of images."""
    from training.emoji import font_sha256, render_emoji

    images = []
    for item in render_emoji(font, resolution, emoji_set=emoji_set):
        images.append(item)
        if max_images is not None and len(images) >= max_images:
            break
    if not images:
        raise DatasetError(f"{font}: the font drew no emoji")
    distinct = len({hashlib.sha256(a.tobytes()).digest() for _, a in images})
    if distinct < max(2, len(images) // 10):
        # A text font draws one placeholder (or nothing visible) for every emoji code point.
        raise DatasetError(
            f"{font}: the font drew {distinct} distinct image(s) for {len(images)} emoji; "
            "use a colour emoji font such as Noto Color Emoji"
        )
    family = _font_family(font)
    licence = "SIL Open Font License 1.1" if family == "Noto Color Emoji" else "see the font"
    extra = {
        "source": f"{family} ({licence})",
        "font_sha256": font_sha256(font),
        "emoji_set": emoji_set,
        "names": [n for n, _ in images],
    }
    write_zip(Path(dest), images, None, extra)
    return len(images)


def _font_family(font: str | Path) -> str:
    from PIL import ImageFont

    from training.emoji import _NATIVE_SIZE

    try:
        return ImageFont.truetype(str(font), _NATIVE_SIZE).getname()[0] or Path(font).name
    except OSError:
        return Path(font).name


def build_faces_dataset(
    dest: str | Path, resolution: int, count: int, seed: int = 0, workers: int = 1
) -> int:
    """The bundled models' dataset: `count` procedural faces (see training.faces), with each
    image's factors in `dataset.json`; returns the number of images. `workers` processes draw
    them; the zip is the same for any number."""
    from training.faces import FACTORS, generate_faces

    images, factors = [], []
    for name, arr, f in generate_faces(count, resolution, seed, workers):
        images.append((name, arr))
        factors.append(f)
    extra = {
        "source": f"procedural faces (training/faces.py, seed {seed}), this project's own, MIT",
        "faces_seed": seed,
        "factor_scales": FACTORS,
        "names": [n for n, _ in images],
        "factors": factors,
    }
    write_zip(Path(dest), images, None, extra)
    return len(images)
