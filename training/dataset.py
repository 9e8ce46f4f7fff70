"""Image datasets: a folder of images (searched recursively) or a zip in NVIDIA's dataset_tool
layout, with optional `dataset.json` labels and x-flip augmentation.

Images are validated once when the dataset is opened: unreadable files and ones whose size or
channel count differs from the rest are listed and skipped with a summary, never a crash mid-run.
"""

from __future__ import annotations

import collections
import io
import json
import logging
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from stylegan2.archive_errors import ARCHIVE_ERRORS, error_name
from stylegan2.io import WIDE_GREY_MODES, grey_to_8bit

log = logging.getLogger(__name__)

MAX_CLASSES = 2**16  # a one-hot label per image: far beyond any class-conditional dataset
MAX_LABEL_VALUES = 2**28  # images x classes in the one-hot table: 1 GiB of float32
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


class DatasetError(ValueError):
    """A dataset that cannot be used; the message is for the user."""


@dataclass
class DatasetReport:
    """What opening a dataset found."""

    used: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)

    def summary(self) -> str:
        text = f"{self.used} images"
        if self.skipped:
            text += f", {len(self.skipped)} skipped: {skipped_summary(self.skipped)}"
        return text


def hidden_copies(source: _Source) -> list[tuple[str, str]]:
    """(name, why) for the zip members hidden behind a later one of the same name."""
    return [
        (n, f"{k - 1} earlier cop{'y' if k == 2 else 'ies'} in the zip under the same name, unread")
        for n, k in source.duplicates.items()
    ]


def printable_name(name: str) -> str:
    """A file name as text any terminal takes: the bytes of a name that is not UTF-8 (which
    Python keeps as lone surrogates, unprintable under a strict UTF-8 locale) as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def skipped_summary(skipped: list[tuple[str, str]], shown: int = 5) -> str:
    """'name: why; ...' for the first `shown` skipped files, and how many more."""
    text = "; ".join(f"{printable_name(n)}: {why}" for n, why in skipped[:shown])
    return text + (f" (+{len(skipped) - shown} more)" if len(skipped) > shown else "")


class _Source:
    """Uniform access to the files of a folder or a zip."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.duplicates: dict[str, int] = {}  # zip member name -> copies (only the last read)
        self._zip: zipfile.ZipFile | None = None
        self._zip_pid = 0  # the process that opened _zip
        if path.is_dir():
            self.names = sorted(
                str(p.relative_to(path)).replace("\\", "/") for p in path.rglob("*") if p.is_file()
            )
        elif path.is_file() and zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as z:
                    listed = z.namelist()
                # A zip may hold two members of one name; only the last can be read by name,
                # so each name is one image, and the hidden copies are reported.
                self.names = sorted(set(listed))
                counts = collections.Counter(listed)
                self.duplicates = {n: k for n, k in sorted(counts.items()) if k > 1}
            except ARCHIVE_ERRORS as exc:
                raise DatasetError(f"{path}: damaged zip ({error_name(exc)}: {exc})") from None
        else:
            raise DatasetError(f"{path}: not a folder of images or a zip file")

    def read(self, name: str) -> bytes:
        if self.path.is_dir():
            return (self.path / name).read_bytes()
        # Each process needs its own handle: forked DataLoader workers inherit the parent's open
        # file and its shared read offset, and their reads then interleave (bad CRC, wrong bytes).
        if self._zip is None or self._zip_pid != os.getpid():
            self._zip = zipfile.ZipFile(self.path)
            self._zip_pid = os.getpid()
        return self._zip.read(name)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_zip": None}


def open_image(data: bytes, load: bool = False) -> Image.Image:
    """Image.open on bytes (and, with `load`, the decode). Pillow refuses images above twice
    its pixel limit (DecompressionBombError); below that a large photo opens without Pillow's
    warning, which would print two lines per image."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = Image.open(io.BytesIO(data))
        if load:
            img.load()
    return img


def decode_image(data: bytes) -> np.ndarray:
    """Bytes -> uint8 HWC with 1 or 3 channels (palette, alpha and 16-bit images converted)."""
    with open_image(data, load=True) as img:
        has_alpha = img.mode in ("RGBA", "LA", "PA") or (
            img.mode == "P" and "transparency" in img.info
        )
        if has_alpha:
            # Composite onto white rather than letting undefined colours under alpha through.
            rgba = img.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(white, rgba).convert("RGB")
        elif img.mode in ("L", *WIDE_GREY_MODES):
            img = grey_to_8bit(img)
        elif img.mode != "RGB":
            img = img.convert("RGB")
        arr = np.asarray(img)
    return arr[:, :, None] if arr.ndim == 2 else arr


def read_image(source: _Source, name: str) -> tuple[np.ndarray | None, str]:
    """One image of a source as `decode_image` gives it, or (None, why it is skipped): a file
    that is not an image, a damaged zip member (bad CRC, corrupt deflate, encrypted) or a small
    file that claims a huge image (refused before it is decoded) is one bad image, not a failed
    dataset."""
    try:
        return decode_image(source.read(name)), ""
    except Image.DecompressionBombError:
        return None, "too large to decode (decompression bomb)"
    except (UnidentifiedImageError, ValueError, *ARCHIVE_ERRORS) as exc:
        return None, f"unreadable ({error_name(exc)})"


class ImageDataset(torch.utils.data.Dataset):
    """Images as uint8 CHW tensors with their label vectors (c_dim zeros when unlabelled)."""

    def __init__(
        self,
        path: str | Path,
        resolution: int | None = None,
        use_labels: bool = False,
        xflip: bool = False,
        max_size: int | None = None,
        random_seed: int = 0,
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise DatasetError(f"{self.path}: no such file or folder")
        self._source = _Source(self.path)
        names = [n for n in self._source.names if Path(n).suffix.lower() in IMAGE_EXTENSIONS]
        if not names:
            raise DatasetError(f"{self.path}: contains no images")
        self.report = DatasetReport(skipped=hidden_copies(self._source))
        self.names, shape = self._validate(names, resolution)
        self.resolution = shape[1]
        self.num_channels = shape[0]
        self.labels = self._load_labels() if use_labels else None
        if max_size is not None and len(self.names) > max_size:
            keep = np.sort(
                np.random.RandomState(random_seed).permutation(len(self.names))[:max_size]
            )
            self.names = [self.names[i] for i in keep]
            if self.labels is not None:
                self.labels = self.labels[keep]
        self.xflip = xflip
        self.report.used = len(self.names)
        log.info("%s: %s", self.path, self.report.summary())

    def _validate(self, names: list[str], resolution: int | None) -> tuple[list[str], tuple]:
        good: list[str] = []
        shapes: dict[tuple, int] = {}
        decoded: dict[str, tuple] = {}
        for name in names:
            arr, why = read_image(self._source, name)
            if arr is None:
                self.report.skipped.append((name, why))
                continue
            h, w, c = arr.shape
            decoded[name] = (c, h, w)
            shapes[(c, h, w)] = shapes.get((c, h, w), 0) + 1
        if not decoded:
            raise DatasetError(f"{self.path}: none of the {len(names)} images could be read")
        if resolution is not None:
            target = next((s for s in shapes if s[1] == s[2] == resolution), None)
            if target is None:
                raise DatasetError(
                    f"{self.path}: no {resolution}x{resolution} images (found "
                    f"{', '.join(f'{h}x{w}' for _, h, w in shapes)}); resize them with "
                    f"`stylegan2 dataset --resolution {resolution}`"
                )
        else:
            # The most common shape that training can use; the others are skipped.
            usable = [s for s in shapes if s[1] == s[2] >= 4 and not s[1] & (s[1] - 1)]
            if not usable:
                found = ", ".join(f"{n} at {h}x{w}" for (_, h, w), n in shapes.items())
                raise DatasetError(
                    f"{self.path}: images are {found}; training needs square power-of-two "
                    "images (`stylegan2 dataset --resolution R` makes them)"
                )
            target = max(usable, key=lambda s: shapes[s])
        c, h, w = target
        for name, shape in decoded.items():
            if shape == target:
                good.append(name)
            else:
                self.report.skipped.append(
                    (name, f"{shape[1]}x{shape[2]}x{shape[0]}, expected {h}x{w}x{c}")
                )
        return good, target

    def _load_labels(self) -> np.ndarray:
        if "dataset.json" not in self._source.names:
            raise DatasetError(f"{self.path}: --labels needs a dataset.json with labels")
        try:
            meta = json.loads(self._source.read("dataset.json"))
        except ValueError as exc:
            raise DatasetError(f"{self.path}: dataset.json is not valid JSON ({exc})") from None
        except ARCHIVE_ERRORS as exc:
            raise DatasetError(
                f"{self.path}: dataset.json is unreadable ({error_name(exc)}: {exc})"
            ) from None
        table = meta.get("labels") if isinstance(meta, dict) else None
        if table is None:
            raise DatasetError(f"{self.path}: dataset.json has no labels")
        try:
            labels = dict(table)
        except (TypeError, ValueError):
            raise DatasetError(
                f"{self.path}: dataset.json labels must be a list of [file name, label] pairs"
            ) from None
        missing = [n for n in self.names if n not in labels]
        if missing:
            raise DatasetError(f"{self.path}: no label for {missing[0]} (+{len(missing) - 1} more)")
        raw = [labels[n] for n in self.names]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
            if min(raw) < 0 or max(raw) >= MAX_CLASSES:
                raise DatasetError(
                    f"{self.path}: class labels must lie in 0-{MAX_CLASSES - 1}, "
                    f"found {min(raw)}..{max(raw)}"
                )
            if len(raw) * (max(raw) + 1) > MAX_LABEL_VALUES:
                raise DatasetError(
                    f"{self.path}: {len(raw)} images x {max(raw) + 1} classes is too large a "
                    "one-hot label table"
                )
            arr = np.array(raw, dtype=np.int64)
            onehot = np.zeros((len(arr), int(arr.max()) + 1), dtype=np.float32)
            onehot[np.arange(len(arr)), arr] = 1
            return onehot
        try:
            # a value beyond float32 becomes inf, refused below with its reason
            with np.errstate(over="ignore"):
                wide = np.array(raw, dtype=np.float64)
                vectors = wide.astype(np.float32).reshape(len(raw), -1)
        except (TypeError, ValueError, OverflowError):
            raise DatasetError(
                f"{self.path}: labels must be class numbers or number vectors of one length"
            ) from None
        if vectors.shape[1] == 0:
            raise DatasetError(f"{self.path}: the label vectors are empty")
        if not np.isfinite(vectors).all():
            raise DatasetError(
                f"{self.path}: label vectors hold NaN, infinite values or numbers beyond "
                "float32 (about 3.4e38)"
            )
        return vectors

    @property
    def c_dim(self) -> int:
        return 0 if self.labels is None else int(self.labels.shape[1])

    def __len__(self) -> int:
        return len(self.names) * (2 if self.xflip else 1)

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        flip = idx >= len(self.names)
        name = self.names[idx % len(self.names)]
        arr = decode_image(self._source.read(name)).transpose(2, 0, 1)  # CHW
        if flip:
            arr = arr[:, :, ::-1]
        label = (
            torch.from_numpy(self.labels[idx % len(self.names)])
            if self.labels is not None
            else torch.zeros([0])
        )
        return torch.from_numpy(np.array(arr, copy=True, order="C")), label
