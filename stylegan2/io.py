"""Image files in and out, shared by the commands and the explorer: PNGs written atomically (with
text chunks, where the explorer keeps the state that made an image) and photos read as RGB, each
failure an `ImageIOError` whose text is one line for the user."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from stylegan2.safe_writes import atomic_path

#: the photo suffixes the commands and the explorer take as images to read (projection targets,
#: detect's real images, dropped files)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


class ImageIOError(ValueError):
    """An image that cannot be read or written; the message names the file and why."""


def save_png(image: np.ndarray, path: str | Path, text: dict[str, str] | None = None) -> None:
    """Save uint8 HWC (C = 1 or 3) as PNG, atomically: a failed write leaves any earlier file at
    `path` as it was. `text` goes into compressed text chunks."""
    path = Path(path)
    arr = image[:, :, 0] if image.shape[2] == 1 else image
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value, zip=True)
    try:
        with atomic_path(path) as tmp:
            Image.fromarray(arr).save(tmp, format="PNG", pnginfo=info)
    except OSError as exc:
        raise ImageIOError(f"cannot write {path}: {exc.strerror or exc}") from None


def load_image(path: str | Path) -> np.ndarray:
    """An image file as uint8 [H, W, 3]. Pillow's decompression-bomb limit stays on: a small file
    that claims a huge image is refused before it is decoded."""
    try:
        with Image.open(path) as img:
            img.load()
            return np.asarray(img.convert("RGB"))
    except Image.DecompressionBombError as exc:
        raise ImageIOError(f"{path}: refused, the image is too large to decode ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageIOError(f"{path}: not an image we can read ({type(exc).__name__})") from None
