"""The bundled models' dataset: every single-code-point emoji of the Noto Color Emoji font
(Debian `fonts-noto-color-emoji`, SIL Open Font License 1.1) rendered with Pillow.

Each glyph is drawn at the font's native bitmap size, cropped to its opaque pixels, centred on a
square white canvas with a small margin and resized with Lanczos. The font's SHA-256 is recorded
in `dataset.json`, so the same font file rebuilds the same images.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DEFAULT_FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
#: Unicode blocks with pictographic emoji (flags and modifier sequences are left out).
EMOJI_RANGES = (
    (0x1F300, 0x1F5FF),  # misc symbols and pictographs
    (0x1F600, 0x1F64F),  # emoticons
    (0x1F680, 0x1F6FF),  # transport and map
    (0x1F900, 0x1F9FF),  # supplemental symbols and pictographs
    (0x1FA70, 0x1FAFF),  # symbols and pictographs extended-A
    (0x2600, 0x27BF),  # misc symbols, dingbats
)
_NATIVE_SIZE = 109  # Noto Color Emoji is a bitmap font with this one size


def font_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def render_emoji(font_path: str | Path, resolution: int, margin: float = 0.04):
    """Yield (name, uint8 [R, R, 3]) for every emoji the font draws."""
    try:
        font = ImageFont.truetype(str(font_path), _NATIVE_SIZE)
    except OSError as exc:
        raise ValueError(f"{font_path}: cannot open the emoji font ({exc})") from None

    def draw(text: str) -> Image.Image:
        im = Image.new("RGBA", (160, 160), (255, 255, 255, 0))
        ImageDraw.Draw(im).text((80, 80), text, font=font, embedded_color=True, anchor="mm")
        return im

    missing = np.asarray(draw("\U000e0000"))  # what the font draws for a code point it lacks
    for lo, hi in EMOJI_RANGES:
        for cp in range(lo, hi + 1):
            glyph = draw(chr(cp))
            arr = np.asarray(glyph)
            if arr[..., 3].max() == 0 or np.array_equal(arr, missing):
                continue
            box = glyph.getchannel("A").getbbox()
            glyph = glyph.crop(box)
            side = round(max(glyph.size) * (1 + 2 * margin))
            canvas = Image.new("RGBA", (side, side), (255, 255, 255, 255))
            canvas.alpha_composite(
                glyph, ((side - glyph.size[0]) // 2, (side - glyph.size[1]) // 2)
            )
            img = canvas.convert("RGB").resize((resolution, resolution), Image.LANCZOS)
            yield f"u{cp:05x}", np.asarray(img)
