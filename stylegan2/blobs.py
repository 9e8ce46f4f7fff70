"""Blob ("droplet") analysis of intermediate feature maps (Karras et al. 2020, section 2 and
fig. 1; the scores are ours, the paper shows the artifact visually).

For a feature map x [C, H, W]: m = mean_c |x|.
- peak_to_median: max(m) / median(m); a localised spike that dominates the statistics scores high.
- top_energy_share: the share of the energy (mean_c x^2) held by the top 0.1 % of pixels
  (at least one pixel); 0.001 for perfectly flat energy, 1 when one pixel holds everything.
- peak: (y, x) of max(m), to mark the strongest blob.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from stylegan2.networks import Capture, Generator

if TYPE_CHECKING:
    from stylegan2.render import Renderer, RenderRequest


@dataclass(frozen=True)
class BlobScore:
    peak_to_median: float
    top_energy_share: float
    peak: tuple[int, int]


def blob_score(x: torch.Tensor | np.ndarray, top_fraction: float = 0.001) -> BlobScore:
    x = torch.as_tensor(x).float()
    m = x.abs().mean(0)
    energy = x.square().mean(0).flatten()
    k = max(1, math.ceil(top_fraction * energy.numel()))
    total = float(energy.sum())
    share = float(energy.topk(k).values.sum()) / total if total > 0 else 0.0
    med = float(m.median())
    peak_val = float(m.max())
    ratio = peak_val / med if med > 0 else (math.inf if peak_val > 0 else 1.0)
    idx = int(m.argmax())
    return BlobScore(ratio, share, (idx // m.shape[1], idx % m.shape[1]))


@torch.no_grad()
def request_blob_scores(
    renderer: Renderer, req: RenderRequest
) -> list[tuple[str, int, float, float]]:
    """(layer, resolution, peak / median, top energy share) of every synthesis conv layer of the
    image a request renders. A request the renderer refuses raises ValueError with its reason."""
    layers = [x for x in renderer.G.layers() if x.kind != "torgb"]
    result = renderer.render(dataclasses.replace(req, capture=tuple(x.name for x in layers)))
    if result.error:
        raise ValueError(result.error)
    table = []
    for x in layers:
        score = blob_score(result.captures[x.name])
        table.append((x.name, x.resolution, score.peak_to_median, score.top_energy_share))
    return table


def blob_scores_over_seeds(
    G: Generator, seeds: list[int], psi: float = 1.0, noise_mode: str = "const"
) -> dict[str, dict[str, float]]:
    """Mean blob scores per synthesis conv layer over seeds: name -> {resolution, scores}."""
    from stylegan2.networks import z_from_seed

    names = [layer for layer in G.layers() if layer.kind != "torgb"]
    sums: dict[str, list[BlobScore]] = {layer.name: [] for layer in names}
    for seed in seeds:
        cap = Capture([layer.name for layer in names])
        z = z_from_seed(seed, G.z_dim).to(G.device)
        c = None
        if G.c_dim:
            c = torch.zeros(1, G.c_dim, device=G.device)
            c[0, seed % G.c_dim] = 1
        G(z, c, truncation_psi=psi, noise_mode=noise_mode, capture=cap)  # type: ignore[arg-type]
        for layer in names:
            sums[layer.name].append(blob_score(cap.outputs[layer.name][0]))
    return {
        layer.name: {
            "resolution": layer.resolution,
            "peak_to_median": float(np.mean([s.peak_to_median for s in sums[layer.name]])),
            "top_energy_share": float(np.mean([s.top_energy_share for s in sums[layer.name]])),
        }
        for layer in names
    }
