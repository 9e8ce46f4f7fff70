"""Analyses of a generator's internals: resolution usage (the paper's Fig. 8)."""

from __future__ import annotations

import torch

from stylegan2.networks import Capture, Generator


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
