"""Analyses of a generator's internals: resolution usage (the paper's Fig. 8), of a sample of
latents or of one rendered request."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from stylegan2.networks import Capture, Generator

if TYPE_CHECKING:
    from stylegan2.render import Renderer, RenderRequest

#: Latents the usage of a network is measured over, in the explorer and on the model cards.
USAGE_SAMPLES = 256


@torch.no_grad()
def sample_ws(
    G: Generator, n: int, seed: int = 0, psi: float = 1.0, cutoff: int | None = None
) -> torch.Tensor:
    """The ws [n, num_ws, w_dim] of n latents drawn from `seed`; a conditional network's classes
    are cycled (0, 1, ..., c_dim - 1, 0, ...), so each is equally represented."""
    z = torch.randn([n, G.z_dim], generator=torch.Generator().manual_seed(seed))
    c = None
    if G.c_dim:
        c = torch.nn.functional.one_hot(torch.arange(n) % G.c_dim, G.c_dim).float().to(G.device)
    return G.mapping(
        z.to(G.device), c, truncation_psi=psi, truncation_cutoff=cutoff, update_w_avg=False
    )


def sampled_resolution_usage(
    G: Generator, n: int = USAGE_SAMPLES, seed: int = 0, psi: float = 1.0, cutoff: int | None = None
) -> dict[int, float]:
    """`resolution_usage` over `sample_ws(G, n, seed, psi, cutoff)`; {} for a generator that is
    not a skip generator (it has no tRGB output per resolution to compare)."""
    if G.cfg.synthesis.architecture != "skip":
        return {}
    return resolution_usage(G, sample_ws(G, n, seed, psi, cutoff))


def request_resolution_usage(
    renderer: Renderer, req: RenderRequest, n: int = USAGE_SAMPLES
) -> tuple[dict[int, float], dict[int, float]] | None:
    """(the usage of the request's own ws, the usage over n latents at its truncation), or None
    for a generator that is not a skip generator."""
    G = renderer.G
    if G.cfg.synthesis.architecture != "skip":
        return None
    this = resolution_usage(G, renderer.request_ws(req))
    return this, sampled_resolution_usage(G, n, 0, req.psi, req.cutoff)


@torch.no_grad()
def resolution_usage(
    G: Generator, ws: torch.Tensor, noise_mode: str = "const", batch: int = 16
) -> dict[int, float]:
    """Share of each tRGB output in the image: std of the pixels it adds, normalised to sum 1.

    ws: [N, num_ws, w_dim]. Only skip generators add a tRGB output per resolution; for other
    architectures the last resolution has everything.
    """
    names = [layer.name for layer in G.layers() if layer.kind == "torgb"]
    sums: dict[str, list[torch.Tensor]] = {n: [] for n in names}
    for chunk in ws.split(batch):
        cap = Capture(names)
        G.synthesis(chunk, noise_mode=noise_mode, capture=cap)  # type: ignore[arg-type]
        for n in names:
            sums[n].append(cap.outputs[n].float().flatten())
    std = {int(n.split(".")[0][1:]): float(torch.cat(v).std()) for n, v in sums.items()}
    total = sum(std.values()) or 1.0
    return {r: s / total for r, s in sorted(std.items())}
