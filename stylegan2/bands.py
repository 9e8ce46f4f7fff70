"""Coarse, middle and fine: the StyleGAN papers' bands of resolutions (StyleGAN, Figures 3 and 5),
one definition for the explorer's Mixing and Noise presets and for measurements of what each band
of ws controls, so that "coarse" means the same layers everywhere."""

from __future__ import annotations

from collections.abc import Sequence

from stylegan2.networks.synthesis import LayerInfo

#: band -> (lowest, highest) resolution in it
BANDS: dict[str, tuple[int, int]] = {"coarse": (4, 8), "middle": (16, 32), "fine": (64, 1 << 20)}


def in_band(band: str, resolution: int) -> bool:
    lo, hi = BANDS[band]
    return lo <= resolution <= hi


def band_label(band: str) -> str:
    """'Coarse (4–8)', 'Fine (64+)'."""
    lo, hi = BANDS[band]
    name = band.capitalize()
    return f"{name} ({lo}+)" if hi == BANDS["fine"][1] else f"{name} ({lo}–{hi})"


def ws_resolution(layers: Sequence[LayerInfo], ws_index: int) -> int:
    """The lowest resolution a ws drives, which the bands go by: so coarse (4–8) is ws 0–3 of a
    64 px network, the paper's coarse styles (ws 3 drives the 8 px tRGB and the first 16 px conv
    too)."""
    driven = [layer.resolution for layer in layers if layer.w_index == ws_index]
    if not driven:
        raise ValueError(f"no layer is driven by ws {ws_index}")
    return min(driven)


def ws_in_band(layers: Sequence[LayerInfo], band: str) -> list[int]:
    """The ws indices whose resolution (ws_resolution) lies in `band`."""
    indices = sorted({layer.w_index for layer in layers})
    return [i for i in indices if in_band(band, ws_resolution(layers, i))]


__all__ = ["BANDS", "band_label", "in_band", "ws_in_band", "ws_resolution"]
