"""The library's coarse, middle and fine bands (stylegan2.bands) as the button labels the Mixing
tab's presets and the Noise tab's share."""

from __future__ import annotations

from stylegan2 import bands

#: button label -> (lowest, highest) resolution in the band
BANDS = {bands.band_label(name): span for name, span in bands.BANDS.items()}
_NAMES = {bands.band_label(name): name for name in bands.BANDS}


def band_name(label: str) -> str:
    """'Coarse (4–8)' -> 'coarse', the library's name."""
    return _NAMES[label]


def in_band(label: str, resolution: int) -> bool:
    return bands.in_band(_NAMES[label], resolution)
