"""Coarse, middle and fine: the papers' bands of resolutions (StyleGAN, Figures 3 and 5), one
definition for the Mixing tab's presets and the Noise tab's, so that "coarse" means the same
layers in both."""

from __future__ import annotations

#: button label -> (lowest, highest) resolution in the band
BANDS = {"Coarse (4–8)": (4, 8), "Middle (16–32)": (16, 32), "Fine (64+)": (64, 1 << 20)}


def in_band(name: str, resolution: int) -> bool:
    lo, hi = BANDS[name]
    return lo <= resolution <= hi
