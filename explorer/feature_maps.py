"""What the Features panel draws, as plain arrays (no Qt): a layer's capture as mean |x|, one
channel, a channel grid or three channels as RGB, optionally its FFT, normalised per channel,
globally or in dB, with a scale two networks can share."""

from __future__ import annotations

import numpy as np

VIEWS = ("mean |x|", "one channel", "channel grid", "RGB of 3 channels")
NORMS = ("per channel (max |x|)", "global (max |x|)", "dB (20 log10 |x|)")


def feature_maps(x: np.ndarray, view: str, channel: int, fft: bool) -> np.ndarray:
    """The maps a view shows, before normalisation: [K, H, W] (K = 1, 3 or up to 64)."""
    c = x.shape[0]
    channel = min(max(channel, 0), c - 1)
    if view == "mean |x|":
        maps = np.abs(x).mean(0, keepdims=True)
    elif view == "one channel":
        maps = x[channel : channel + 1]
    elif view == "RGB of 3 channels":
        maps = x[[min(channel + k, c - 1) for k in range(3)]]
    else:
        maps = x[: min(c, 64)]
    if fft:
        maps = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2(maps), axes=(-2, -1))))
    return maps


def strongest_channel(x: np.ndarray) -> int:
    """The channel of x [C, H, W] with the largest |x| anywhere."""
    return int(np.abs(x).reshape(len(x), -1).max(1).argmax())


def map_scale(maps: np.ndarray, norm: str) -> np.ndarray | float | None:
    """The divisor a normalisation applies: per map (max |x|), global, or None for dB."""
    if norm.startswith("dB"):
        return None
    if norm.startswith("global"):
        return float(np.abs(maps).max())
    return np.abs(maps).reshape(len(maps), -1).max(1)


def display_maps(
    maps: np.ndarray, view: str, norm: str, scale: np.ndarray | float | None = None
) -> np.ndarray:
    """Normalised maps -> uint8 [H', W', 3]. `scale` overrides the maps' own divisor (compare
    mode shows two networks on one scale)."""
    if norm.startswith("dB"):
        db = 20 * np.log10(np.abs(maps) + 1e-6)
        maps = np.clip((db + 60) / 60, 0, 1)  # -60 dB .. 0 dB of the layer's units
        signed = False
    else:
        if scale is None:
            scale = map_scale(maps, norm)
        divisor = np.asarray(scale, dtype=np.float64).reshape(-1, 1, 1) + 1e-12
        maps = maps / divisor
        signed = bool((maps < 0).any())
    if signed:
        maps = (maps + 1) / 2
    img = (np.clip(maps, 0, 1) * 255).astype(np.uint8)
    if view == "RGB of 3 channels":
        return img.transpose(1, 2, 0)
    if view == "channel grid":
        n = len(img)
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        h, w = img.shape[1:]
        grid = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), 40, np.uint8)
        for i in range(n):
            r, q = divmod(i, cols)
            grid[r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = img[i]
        img = grid[None]
    return np.repeat(img[0][:, :, None], 3, axis=2)


def render_feature(x: np.ndarray, view: str, channel: int, norm: str, fft: bool) -> np.ndarray:
    """x [C, H, W] float -> uint8 [H', W', 3] for display."""
    return display_maps(feature_maps(x, view, channel, fft), view, norm)


def shared_scale(a: np.ndarray, b: np.ndarray, norm: str) -> np.ndarray | float | None:
    """One divisor for two networks' maps, so that equal activations look equally bright."""
    sa, sb = map_scale(a, norm), map_scale(b, norm)
    if sa is None or sb is None:
        return None
    if np.shape(sa) != np.shape(sb):  # different channel counts: fall back to one global max
        return float(max(np.max(sa), np.max(sb)))
    return np.maximum(sa, sb)
