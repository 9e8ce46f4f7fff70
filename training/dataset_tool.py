"""`stylegan2 dataset`: turn a folder (or zip) of images into a training zip in NVIDIA's
dataset_tool layout: `00000/img00000000.png` (uncompressed PNG) plus `dataset.json` labels.

Images are centre-cropped (or must already be square), resized with Lanczos, converted to RGB (or
kept grey when every image is grey). Unreadable images are listed and skipped, never fatal. The zip
is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from stylegan2.safe_writes import atomic_path, same_file
from training.dataset import IMAGE_EXTENSIONS, DatasetError, _Source, read_image

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
            shown = "; ".join(f"{n}: {why}" for n, why in self.skipped[:5])
            more = f" (+{len(self.skipped) - 5} more)" if len(self.skipped) > 5 else ""
            text += f"; skipped {len(self.skipped)}: {shown}{more}"
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
    if max_images is not None:
        names = names[:max_images]
    if not names:
        raise DatasetError(f"{source}: contains no images")
    report = ToolReport()
    class_of: dict[str, int] = {}
    if labels:
        report.classes = sorted({str(Path(n).parent) for n in names})
        if len(report.classes) < 2:
            raise DatasetError(
                "--labels takes classes from sub-folder names; found only one folder"
            )
        class_of = {c: i for i, c in enumerate(report.classes)}
    decoded: list[tuple[str, np.ndarray]] = []
    for name in names:
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
        decoded.append((name, out))
    if not decoded:
        raise DatasetError(f"{source}: none of the {len(names)} images could be used")
    labels_list = [class_of[str(Path(n).parent)] for n, _ in decoded] if labels else None
    write_zip(dest, decoded, labels_list, {"classes": report.classes} if labels else None)
    report.written = len(decoded)
    return report


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
    table = []
    try:
        with atomic_path(dest) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            for idx, (_, arr) in enumerate(images):
                if not grey and arr.shape[2] == 1:
                    arr = np.repeat(arr, 3, axis=2)
                arc = f"{idx:08d}"[:5] + f"/img{idx:08d}.png"
                buf = io.BytesIO()
                Image.fromarray(arr[:, :, 0] if grey else arr).save(
                    buf, format="PNG", compress_level=0
                )
                z.writestr(_member(arc), buf.getvalue())
                if labels is not None:
                    table.append([arc, labels[idx]])
            meta = {"labels": table if labels is not None else None, **(extra or {})}
            z.writestr(_member("dataset.json"), json.dumps(meta))
    except OSError as exc:
        raise DatasetError(f"cannot write {dest}: {exc.strerror or exc}") from None


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
    extra = {
        "source": "Noto Color Emoji (SIL Open Font License 1.1)",
        "font_sha256": font_sha256(font),
        "emoji_set": emoji_set,
        "names": [n for n, _ in images],
    }
    write_zip(Path(dest), images, None, extra)
    return len(images)


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
