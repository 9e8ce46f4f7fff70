"""Procedural cartoon faces: the bundled models' dataset, drawn by this module with Pillow.

Every image is made from independent factors at three scales, so that a generator trained on them
has something to put in its coarse, middle and fine styles, and so that what each w controls can be
measured against known causes:

- coarse: head shape and size, pose (shift and tilt), hair outline, ears, shoulders;
- middle: eyes (shape, size, spacing, gaze), eyebrows, mouth (expression), nose, glasses;
- fine: skin, hair, iris, shirt and background colours, background texture, freckles, blush.

Image i is drawn from `numpy.random.RandomState((seed * 1_000_003 + i) % 2**32)` alone, so the
same seed and count rebuild the same images on any machine with the same Pillow, and each image's
factors are returned with it (they go into `dataset.json`). The images are this project's own
work (MIT), free to train and ship on. Faces are drawn at 4x the target size and reduced with
Lanczos for smooth edges.
"""

from __future__ import annotations

import colorsys
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

#: Factor names by scale: what a style-mixing or direction experiment can be checked against.
FACTORS = {
    "coarse": ("head_w", "head_h", "jaw", "shift_x", "shift_y", "tilt", "hair", "ears"),
    "middle": ("eyes", "eye_size", "eye_gap", "gaze", "brows", "mouth", "smile", "nose", "glasses"),
    "fine": ("skin", "hair_rgb", "iris", "shirt", "background", "pattern", "freckles", "blush"),
}
HAIR_STYLES = ("bald", "short", "bob", "long", "spiky", "bun", "side")
EYE_STYLES = ("dots", "open", "happy", "wink", "sleepy")
BROW_STYLES = ("none", "flat", "raised", "angry", "sad")
MOUTH_STYLES = ("smile", "open", "o", "flat", "teeth")
NOSE_STYLES = ("none", "dot", "line", "button")
GLASSES = ("none", "round", "square")
PATTERNS = ("flat", "gradient", "stripes", "dots")
SKIN_TONES = (
    (255, 224, 196), (241, 194, 160), (224, 172, 128), (198, 134, 94),
    (160, 104, 70), (110, 70, 48), (255, 213, 74), (150, 210, 140),
)  # fmt: skip
IRIS_COLOURS = ((60, 40, 30), (50, 110, 190), (60, 140, 80))  # brown, blue, green
HAIR_COLOURS = (
    (30, 24, 22), (86, 52, 32), (160, 104, 52), (226, 190, 110),
    (190, 70, 40), (170, 170, 176), (60, 90, 200), (220, 90, 160),
)  # fmt: skip
_SUPER = 4  # drawing scale over the target resolution


def _jitter(rng: np.random.RandomState, rgb: tuple[int, int, int], amount: int) -> tuple:
    return tuple(int(np.clip(c + rng.randint(-amount, amount + 1), 0, 255)) for c in rgb)


def _pastel(rng: np.random.RandomState) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(rng.rand(), 0.55 + 0.3 * rng.rand(), 0.3 + 0.6 * rng.rand())
    return int(r * 255), int(g * 255), int(b * 255)


def sample_factors(
    rng: np.random.RandomState, palette: dict[str, int] | None = None
) -> dict[str, Any]:
    """One face's factors, each drawn independently of the others. `palette`, when given, gets
    the palette entries the skin, hair and iris colours were jittered from ('skin', 'hair_rgb',
    'iris'): jitter can carry a colour nearer to a neighbouring entry."""
    picks: list[int] = []

    def pick(n: int) -> int:
        picks.append(rng.randint(n))
        return picks[-1]

    f = {
        "head_w": float(rng.uniform(0.50, 0.66)),  # fraction of the image width
        "head_h": float(rng.uniform(0.58, 0.74)),
        "jaw": float(rng.uniform(0.0, 1.0)),  # 0 round .. 1 square
        "shift_x": float(rng.uniform(-0.06, 0.06)),
        "shift_y": float(rng.uniform(-0.04, 0.05)),
        "tilt": float(rng.uniform(-14, 14)),  # degrees
        "hair": HAIR_STYLES[rng.randint(len(HAIR_STYLES))],
        "ears": bool(rng.rand() < 0.6),
        "eyes": EYE_STYLES[rng.randint(len(EYE_STYLES))],
        "eye_size": float(rng.uniform(0.7, 1.3)),
        "eye_gap": float(rng.uniform(0.30, 0.46)),  # fraction of the head width
        "gaze": float(rng.uniform(-1, 1)),
        "brows": BROW_STYLES[rng.randint(len(BROW_STYLES))],
        "mouth": MOUTH_STYLES[rng.randint(len(MOUTH_STYLES))],
        "smile": float(rng.uniform(-1, 1)),  # mouth curve: -1 frown .. 1 smile
        "nose": NOSE_STYLES[rng.randint(len(NOSE_STYLES))],
        "glasses": ("none", "none", "none", "round", "square")[rng.randint(5)],
        "skin": list(_jitter(rng, SKIN_TONES[pick(len(SKIN_TONES))], 12)),
        "hair_rgb": list(_jitter(rng, HAIR_COLOURS[pick(len(HAIR_COLOURS))], 16)),
        "iris": list(_jitter(rng, IRIS_COLOURS[pick(len(IRIS_COLOURS))], 20)),
        "shirt": list(_pastel(rng)),
        "background": list(_pastel(rng)),
        "pattern": PATTERNS[rng.randint(len(PATTERNS))],
        "freckles": bool(rng.rand() < 0.25),
        "blush": bool(rng.rand() < 0.35),
    }
    if palette is not None:
        palette.update(zip(("skin", "hair_rgb", "iris"), picks, strict=True))
    return f


def replay_palette(seed: int, index: int) -> tuple[dict[str, Any], dict[str, int]]:
    """Face `index` of dataset seed `seed`: its factors and the palette entries its colours were
    jittered from, drawn again exactly as the dataset drew them."""
    palette: dict[str, int] = {}
    f = sample_factors(_face_rng(seed, index), palette)
    return f, palette


def _face_rng(seed: int, index: int) -> np.random.RandomState:
    """The one generator face `index` of dataset seed `seed` is drawn from."""
    return np.random.RandomState((seed * 1_000_003 + index) % 2**32)


def _darker(rgb, f: float = 0.6) -> tuple[int, int, int]:
    return tuple(int(c * f) for c in rgb)  # type: ignore[return-value]


def _background(f: dict, size: int, rng: np.random.RandomState) -> Image.Image:
    bg = tuple(f["background"])
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    other = _darker(bg, 0.82)
    if f["pattern"] == "gradient":
        for y in range(size):
            t = y / size
            d.line(
                [(0, y), (size, y)],
                fill=tuple(int(a + (b - a) * t) for a, b in zip(bg, other, strict=True)),
            )
    elif f["pattern"] == "stripes":
        step = size // rng.randint(6, 12)
        for x in range(-size, size, step):
            d.polygon(
                [(x, 0), (x + step // 2, 0), (x + step // 2 + size, size), (x + size, size)],
                fill=other,
            )
    elif f["pattern"] == "dots":
        step = size // rng.randint(6, 10)
        r = step // 5
        for y in range(step // 2, size, step):
            for x in range(step // 2, size, step):
                d.ellipse([x - r, y - r, x + r, y + r], fill=other)
    return img


def _head_box(f: dict, s: int) -> tuple[float, float, float, float]:
    cx, cy = s / 2, s * 0.47
    hw, hh = f["head_w"] * s / 2, f["head_h"] * s / 2
    return cx - hw, cy - hh, cx + hw, cy + hh


def _draw_head(d: ImageDraw.ImageDraw, f: dict, s: int) -> None:
    x0, y0, x1, y1 = _head_box(f, s)
    skin = tuple(f["skin"])
    # A square jaw is a rounded rectangle under the upper half of an ellipse.
    d.ellipse([x0, y0, x1, y1], fill=skin)
    if f["jaw"] > 0.5:
        r = int((x1 - x0) * (0.5 - 0.35 * (f["jaw"] - 0.5) * 2))
        d.rounded_rectangle([x0, (y0 + y1) / 2, x1, y1], radius=max(r, 1), fill=skin)
    if f["ears"]:
        ew, eh = (x1 - x0) * 0.12, (y1 - y0) * 0.16
        ym = (y0 + y1) / 2
        for xe in (x0, x1):
            d.ellipse([xe - ew, ym - eh, xe + ew, ym + eh], fill=skin)
            d.ellipse(
                [xe - ew / 2, ym - eh / 2, xe + ew / 2, ym + eh / 2], fill=_darker(skin, 0.85)
            )


def _draw_hair_back(d: ImageDraw.ImageDraw, f: dict, s: int) -> None:
    x0, y0, x1, y1 = _head_box(f, s)
    hair, w, h = tuple(f["hair_rgb"]), x1 - x0, y1 - y0
    if f["hair"] == "long":
        d.rounded_rectangle(
            [x0 - w * 0.1, y0 - h * 0.06, x1 + w * 0.1, y1 + h * 0.35], w * 0.3, hair
        )
    elif f["hair"] == "bob":
        d.rounded_rectangle(
            [x0 - w * 0.08, y0 - h * 0.06, x1 + w * 0.08, y1 - h * 0.2], w * 0.35, hair
        )
    elif f["hair"] == "bun":
        r = w * 0.2
        d.ellipse([(x0 + x1) / 2 - r, y0 - r * 1.6, (x0 + x1) / 2 + r, y0 + r * 0.4], fill=hair)


def _draw_hair_front(d: ImageDraw.ImageDraw, f: dict, s: int) -> None:
    x0, y0, x1, y1 = _head_box(f, s)
    hair, w, h = tuple(f["hair_rgb"]), x1 - x0, y1 - y0
    style = f["hair"]
    if style == "bald":
        return
    if style == "spiky":
        n = 7
        pts = [(x0, y0 + h * 0.3)]
        for i in range(n + 1):
            x = x0 + w * i / n
            pts.append((x, y0 - h * 0.12 if i % 2 else y0 + h * 0.08))
        pts += [(x1, y0 + h * 0.3)]
        d.polygon(pts, fill=hair)
        return
    # A cap over the top of the head, its lower edge a fringe at about a quarter of the height.
    d.chord([x0 - w * 0.02, y0 - h * 0.04, x1 + w * 0.02, y0 + h * 0.62], 180, 360, fill=hair)
    if style == "side":
        d.polygon([(x0, y0 + h * 0.3), (x0 + w * 0.6, y0 + h * 0.05), (x0, y0 + h * 0.05)], hair)
    if style in ("bob", "long"):
        d.rectangle([x0 - w * 0.02, y0 + h * 0.25, x0 + w * 0.1, y0 + h * 0.7], fill=hair)
        d.rectangle([x1 - w * 0.1, y0 + h * 0.25, x1 + w * 0.02, y0 + h * 0.7], fill=hair)


def _draw_eyes(d: ImageDraw.ImageDraw, f: dict, s: int) -> None:
    x0, y0, x1, y1 = _head_box(f, s)
    w, h = x1 - x0, y1 - y0
    cx, ey = (x0 + x1) / 2, y0 + h * 0.47
    r = w * 0.08 * f["eye_size"]
    ink = (30, 24, 30)
    for side in (-1, 1):
        ex = cx + side * w * f["eye_gap"] / 2
        style = f["eyes"]
        if style == "wink" and side == 1:
            style = "happy"
        if style == "dots":
            d.ellipse([ex - r * 0.55, ey - r * 0.7, ex + r * 0.55, ey + r * 0.7], fill=ink)
        elif style == "happy":
            d.arc(
                [ex - r, ey - r * 0.6, ex + r, ey + r * 0.9],
                200,
                340,
                fill=ink,
                width=int(r * 0.35),
            )
        else:
            d.ellipse([ex - r, ey - r * 0.8, ex + r, ey + r * 0.8], fill=(250, 250, 250))
            px = ex + f["gaze"] * r * 0.4
            pr = r * 0.55
            d.ellipse([px - pr, ey - pr, px + pr, ey + pr], fill=tuple(f["iris"]))
            d.ellipse([px - pr / 2, ey - pr / 2, px + pr / 2, ey + pr / 2], fill=ink)
            if style == "sleepy":
                d.chord([ex - r * 1.05, ey - r * 0.9, ex + r * 1.05, ey + r * 0.9], 180, 360,
                        fill=_darker(tuple(f["skin"]), 0.9))  # fmt: skip
            d.ellipse([ex - r, ey - r * 0.8, ex + r, ey + r * 0.8], outline=ink, width=int(r * 0.2))
        # Eyebrows: tilted segments above each eye.
        by, bw = ey - r * 1.6, r * 1.1
        slope = {"flat": 0.0, "raised": -0.25, "angry": 0.45, "sad": -0.45}.get(f["brows"])
        if slope is not None:
            inner, outer = ex - side * bw, ex + side * bw
            lift = -r * 0.5 if f["brows"] == "raised" else 0.0
            d.line([(inner, by + lift + slope * r), (outer, by + lift - slope * r)],
                   fill=_darker(tuple(f["hair_rgb"]), 0.7), width=int(r * 0.4))  # fmt: skip
        if f["glasses"] != "none":
            g = r * 1.5
            box = [ex - g, ey - g * 0.85, ex + g, ey + g * 0.85]
            if f["glasses"] == "round":
                d.ellipse(box, outline=ink, width=int(r * 0.25))
            else:
                d.rectangle(box, outline=ink, width=int(r * 0.25))
    if f["glasses"] != "none":
        g = r * 1.5
        left, right = cx - w * f["eye_gap"] / 2 + g, cx + w * f["eye_gap"] / 2 - g
        d.line([(left, ey), (right, ey)], fill=ink, width=int(r * 0.25))


def _draw_mouth_nose(d: ImageDraw.ImageDraw, f: dict, s: int, rng: np.random.RandomState) -> None:
    x0, y0, x1, y1 = _head_box(f, s)
    w, h = x1 - x0, y1 - y0
    cx, my = (x0 + x1) / 2, y0 + h * 0.76
    mw = w * 0.2
    ink = (60, 20, 30)
    curve = f["smile"] * h * 0.06
    style = f["mouth"]
    if style == "o":
        r = w * 0.06
        d.ellipse([cx - r, my - r * 1.2, cx + r, my + r * 1.2], fill=ink)
    elif style in ("open", "teeth"):
        top, bottom = my - abs(curve) * 0.3, my + h * 0.06 + max(curve, 0)
        d.chord([cx - mw, top - (bottom - top), cx + mw, bottom], 0, 180, fill=ink)
        if style == "teeth":
            d.rectangle([cx - mw * 0.7, top, cx + mw * 0.7, top + (bottom - top) * 0.3], (250,) * 3)
        else:
            d.ellipse(
                [cx - mw * 0.4, bottom - h * 0.04, cx + mw * 0.4, bottom], fill=(220, 90, 100)
            )
    elif style == "flat" or abs(curve) < 1:
        d.line([(cx - mw * 0.8, my), (cx + mw * 0.8, my)], fill=ink, width=int(w * 0.03))
    else:
        pts = [(cx + mw * t, my - curve * (1 - t * t) + curve) for t in np.linspace(-1, 1, 12)]
        d.line(pts, fill=ink, width=int(w * 0.03), joint="curve")
    ny = y0 + h * 0.62
    nose_ink = _darker(tuple(f["skin"]), 0.7)
    if f["nose"] == "dot":
        r = w * 0.025
        d.ellipse([cx - r, ny - r, cx + r, ny + r], fill=nose_ink)
    elif f["nose"] == "line":
        d.line([(cx, ny - h * 0.08), (cx - w * 0.03, ny), (cx + w * 0.01, ny)], nose_ink,
               width=int(w * 0.02))  # fmt: skip
    elif f["nose"] == "button":
        r = w * 0.05
        d.ellipse([cx - r, ny - r * 0.7, cx + r, ny + r * 0.7], fill=_darker(tuple(f["skin"]), 0.9))
    if f["blush"]:
        r = w * 0.07
        for side in (-1, 1):
            bx = cx + side * w * 0.3
            d.ellipse([bx - r, ny - r * 0.5, bx + r, ny + r * 0.5], fill=(240, 130, 140))
    if f["freckles"]:
        for _ in range(10):
            fx = cx + rng.uniform(-0.3, 0.3) * w
            fy = ny + rng.uniform(-0.06, 0.04) * h
            r = w * 0.012
            d.ellipse([fx - r, fy - r, fx + r, fy + r], fill=nose_ink)


def draw_face(f: dict[str, Any], resolution: int, rng: np.random.RandomState) -> np.ndarray:
    """The face with factors `f` as uint8 [R, R, 3]; `rng` places the fine texture details."""
    s = resolution * _SUPER
    img = _background(f, s, rng)
    # Shoulders, hair behind the head, head and face go on a transparent layer, tilted as one.
    layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    x0, _, x1, y1 = _head_box(f, s)
    d.ellipse([s * 0.12, y1 - s * 0.05, s * 0.88, s * 1.35], fill=tuple(f["shirt"]))
    d.rectangle([(x0 + x1) / 2 - s * 0.07, y1 - s * 0.1, (x0 + x1) / 2 + s * 0.07, y1 + s * 0.04],
                fill=tuple(f["skin"]))  # fmt: skip
    _draw_hair_back(d, f, s)
    _draw_head(d, f, s)
    _draw_hair_front(d, f, s)
    _draw_eyes(d, f, s)
    _draw_mouth_nose(d, f, s, rng)
    layer = layer.rotate(
        f["tilt"], resample=Image.BICUBIC, center=(s / 2, s * 0.6),
        translate=(f["shift_x"] * s, f["shift_y"] * s),
    )  # fmt: skip
    img.paste(layer, (0, 0), layer)
    return np.asarray(img.resize((resolution, resolution), Image.LANCZOS))


def _face(job: tuple[int, int, int]) -> tuple[str, np.ndarray, dict[str, Any]]:
    seed, i, resolution = job
    rng = _face_rng(seed, i)
    f = sample_factors(rng)  # replay_palette draws the same
    return f"face{i:06d}", draw_face(f, resolution, rng), f


def default_workers() -> int:
    """Processes for drawing faces: the cores this process may run on, at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not every platform has an affinity mask
        n = os.cpu_count() or 1
    return max(1, n)


def generate_faces(
    count: int, resolution: int, seed: int = 0, workers: int = 1
) -> Iterator[tuple[str, np.ndarray, dict[str, Any]]]:
    """Yield (name, uint8 [R, R, 3], factors) for faces 0 .. count-1 of `seed`, in order.

    With `workers` > 1 the faces are drawn in that many processes; each face depends only on its
    own index, so the images and their order are the same as with one."""
    if count < 1:
        raise ValueError(f"the face count must be positive, got {count}")
    if not 8 <= resolution <= 1024 or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two from 8 to 1024, got {resolution}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    jobs = ((seed, i, resolution) for i in range(count))
    workers = min(workers, count)
    if workers == 1:
        yield from map(_face, jobs)
        return
    # Chunks of a few dozen faces keep the inter-process traffic small. The executor queues every
    # chunk at once and hands the results back in order; the caller (build_faces_dataset) keeps
    # every image anyway, under its memory check. A worker that dies (the OOM killer) raises
    # BrokenProcessPool here instead of leaving the build waiting for ever.
    chunk = max(1, min(64, count // (workers * 4)))
    # Forked workers start at once; a spawned one would import the whole command line again (torch
    # included) before drawing a face. macOS forks unsafely, so it keeps its default.
    method = "fork" if sys.platform.startswith("linux") else None
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context(method), initializer=_ignore_sigint
    )
    try:
        yield from pool.map(_face, jobs, chunksize=chunk)
    finally:  # also on Ctrl-C and when the caller stops early: no chunk starts after this
        pool.shutdown(wait=True, cancel_futures=True)


def _ignore_sigint() -> None:
    # Ctrl-C (or `timeout -s INT`, which signals the whole process group) is the parent's to
    # handle: it stops the pool; workers would each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def factor_summary() -> str:
    """One line per scale naming its factors (for cards and `--help`)."""
    return "; ".join(f"{scale}: {', '.join(names)}" for scale, names in FACTORS.items())


__all__ = [
    "FACTORS",
    "default_workers",
    "draw_face",
    "factor_summary",
    "generate_faces",
    "replay_palette",
    "sample_factors",
]
