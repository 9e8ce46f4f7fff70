"""Per-pixel noise of the synthesis layers: the modes, where 'random' noise comes from, and the
noise image one layer adds (Karras et al. 2019, "A Style-Based Generator Architecture for GANs",
section 3.2)."""

from __future__ import annotations

import math
from typing import Literal

import torch

#: 'const': the layer's stored noise image (the same every call, as NVIDIA's noise_mode='const');
#: 'random': fresh Gaussian noise; 'none': no noise
NoiseMode = Literal["const", "random", "none"]
NOISE_MODES = ("const", "random", "none")


class CircularNoise:
    """'random' noise that moves smoothly: cos(phase) * A + sin(phase) * B, where A and B are the
    noise images drawn from `seed` and `seed + 1`. Every phase is again unit Gaussian noise, and a
    full turn comes back exactly, so a video whose phase runs once around loops without a seam.
    Pass it where a noise generator goes."""

    def __init__(self, seed: int, phase: float) -> None:
        self.phase = phase
        self.generators = (
            torch.Generator().manual_seed(seed),
            torch.Generator().manual_seed(seed + 1),
        )

    def draw(self, shape: tuple[int, ...]) -> torch.Tensor:
        a, b = (torch.randn(shape, generator=g) for g in self.generators)
        return a.mul_(math.cos(self.phase)).add_(b, alpha=math.sin(self.phase))


#: where 'random' noise comes from: a seeded torch generator, a CircularNoise, or None (global RNG)
NoiseSource = torch.Generator | CircularNoise | None


def make_noise(
    mode: NoiseMode,
    shape: tuple[int, int, int, int],
    const: torch.Tensor,
    strength: torch.Tensor,
    gain: float,
    generator: NoiseSource,
) -> torch.Tensor | None:
    """The noise image of one layer, [N, 1 or C, H, W], or None.

    const: the stored noise image [H, W]; strength: the learned scale, one ([]) or per channel
    ([C]); gain: the caller's extra multiplier (0 turns the layer's noise off).

    Seeded random noise is drawn on the CPU, so that a seeded generator gives the same noise on
    every device. Unseeded noise (training, metrics) is drawn where it is used: a CPU draw and
    copy per layer stalls a GPU at every layer (a blocking copy waits for all queued work). On
    the CPU both give the same numbers.
    """
    if mode == "none" or gain == 0:
        return None
    if mode == "random":
        if isinstance(generator, CircularNoise):
            noise = generator.draw(shape).to(const.device)
        elif generator is None:
            noise = torch.randn(shape, device=const.device)
        else:
            noise = torch.randn(shape, generator=generator).to(const.device)
    elif mode == "const":
        noise = const
    else:
        raise ValueError(f"unknown noise mode {mode!r}; expected one of {NOISE_MODES}")
    s = strength if strength.ndim == 0 else strength.reshape(1, -1, 1, 1)
    return noise * (s * gain)
