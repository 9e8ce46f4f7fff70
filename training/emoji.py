"""The bundled models' datasets: the single-code-point emoji of the Noto Color Emoji font (Debian
`fonts-noto-color-emoji`, SIL Open Font License 1.1) rendered with Pillow. Set "all" takes every
pictographic one (1287 with the Debian 12 font); set "faces" only the faces of Unicode's "Smileys &
Emotion" group (smiling, affectionate, tongue, hand, neutral, sleepy, unwell, hat, glasses,
concerned, negative and cat faces: 110 with that font), a narrow set a small GAN learns quickly.

Each glyph is drawn at the font's native bitmap size, cropped to its opaque pixels, centred on a
square white canvas with a small margin and resized with Lanczos. The font's SHA-256 is recorded
in `dataset.json`, so the same font file rebuilds the same images.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from stylegan2.input_files import file_problem

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
#: The "faces" set: Unicode's emoji subgroups face-* and cat-face, single code points only.
FACE_RANGES = (
    (0x1F600, 0x1F644),  # grinning face .. face with rolling eyes, cat faces among them
    (0x1F910, 0x1F915),  # zipper-mouth face .. face with head-bandage
    (0x1F917, 0x1F917),  # hugging face (0x1F916 robot and 0x1F921 clown are "face-costume")
    (0x1F920, 0x1F920),  # cowboy hat face
    (0x1F922, 0x1F925),  # nauseated face .. lying face
    (0x1F927, 0x1F92F),  # sneezing face .. exploding head (0x1F926 is face palm, a person)
    (0x1F970, 0x1F976),  # smiling face with hearts .. cold face
    (0x1F978, 0x1F97A),  # disguised face .. pleading face (0x1F977 is ninja, a person)
    (0x1F9D0, 0x1F9D0),  # face with monocle
    (0x1FAE0, 0x1FAE5),  # melting face .. dotted line face
    (0x1FAE8, 0x1FAE8),  # shaking face (0x1FAE6-7, biting lip and bubbles, are not faces)
    (0x2639, 0x263A),  # frowning face, smiling face
)
EMOJI_SETS = {"all": EMOJI_RANGES, "faces": FACE_RANGES}
_NATIVE_SIZE = 109  # Noto Color Emoji is a bitmap font with this one size


def font_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def render_emoji(
    font_path: str | Path, resolution: int, margin: float = 0.04, emoji_set: str = "all"
):
    """Yield (name, uint8 [R, R, 3]) for every emoji of `emoji_set` the font draws."""
    if emoji_set not in EMOJI_SETS:
        raise ValueError(f"unknown emoji set {emoji_set!r}: choose from {', '.join(EMOJI_SETS)}")
    problem = file_problem(font_path)  # a pipe would block the font reader for ever
    if problem:
        raise ValueError(f"{font_path}: cannot open the emoji font: {problem}")
    try:
        font = ImageFont.truetype(str(font_path), _NATIVE_SIZE)
    except OSError as exc:
        raise ValueError(f"{font_path}: cannot open the emoji font ({exc})") from None

    def draw(text: str) -> Image.Image:
        im = Image.new("RGBA", (160, 160), (255, 255, 255, 0))
        ImageDraw.Draw(im).text((80, 80), text, font=font, embedded_color=True, anchor="mm")
        return im

    missing = np.asarray(draw("\U000e0000"))  # what the font draws for a code point it lacks
    for lo, hi in EMOJI_SETS[emoji_set]:
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
