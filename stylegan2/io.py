"""Image files in and out, shared by the commands and the explorer: PNGs written atomically (with
text chunks, where the explorer keeps the state that made an image) and photos read as RGB, each
failure an `ImageIOError` whose text is one line for the user."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from stylegan2.input_files import file_problem
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


#: the PNG text chunk in which the explorer's Save image keeps the state that made the image
PNG_STATE_KEY = "stylegan2-explorer state"


def png_state(path: str | Path) -> str:
    """The explorer state a saved PNG carries (its JSON text); ValueError if it carries none."""
    # Pillow refuses text chunks over 1 MiB (a decompression-bomb guard); a state with loaded
    # ws and path keyframes can be larger. 64 MiB is still a bound.
    limit, PngImagePlugin.MAX_TEXT_CHUNK = PngImagePlugin.MAX_TEXT_CHUNK, 64 * 2**20
    try:
        with Image.open(path) as im:
            text = im.text.get(PNG_STATE_KEY) if hasattr(im, "text") else None
    except Image.DecompressionBombError as exc:
        raise ValueError(f"refused: {exc}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ValueError(f"not a readable PNG ({exc})") from None
    finally:
        PngImagePlugin.MAX_TEXT_CHUNK = limit
    if not text:
        raise ValueError("this PNG holds no explorer state (only images saved by the explorer do)")
    return text


#: Pillow modes of one channel wider than 8 bits: 16-bit PNG/TIFF, 32-bit integer and float TIFF
WIDE_GREY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def grey_to_8bit(img: Image.Image) -> Image.Image:
    """A wide greyscale image as 8-bit 'L', scaled rather than clipped (Pillow's own conversion
    clips every value above 255, so a 16-bit photo turns nearly white). 16-bit modes are scaled
    by 255/65535; 32-bit integers and floats by the range their values use: up to 255 as they
    are, up to 65535 as 16-bit, up to 1.0 (floats) as fractions, else to their maximum."""
    if img.mode == "L":
        return img
    a = np.asarray(img, dtype=np.float64)
    a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0).clip(min=0)
    top = float(a.max()) if a.size else 0.0
    if img.mode.startswith("I;16"):
        scale = 255 / 65535
    elif img.mode == "F" and top <= 1.0:
        scale = 255.0
    elif top <= 255:
        scale = 1.0
    elif top <= 65535:
        scale = 255 / 65535
    else:
        scale = 255 / top
    return Image.fromarray(np.rint(a * scale).clip(0, 255).astype(np.uint8), mode="L")


def load_image(path: str | Path) -> np.ndarray:
    """An image file as uint8 [H, W, 3]. Pillow's decompression-bomb limit stays on: a small file
    that claims a huge image is refused before it is decoded."""
    problem = file_problem(path)
    if problem:
        raise ImageIOError(f"{path}: {problem}")
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in WIDE_GREY_MODES:
                return np.asarray(grey_to_8bit(img).convert("RGB"))
            return np.asarray(img.convert("RGB"))
    except Image.DecompressionBombError as exc:
        raise ImageIOError(f"{path}: refused, the image is too large to decode ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageIOError(f"{path}: not an image we can read ({type(exc).__name__})") from None
