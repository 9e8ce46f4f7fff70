"""Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN manifolds:
a probe lies in a manifold when it is within some manifold point's distance to that point's k-th
nearest neighbour (the point itself excluded)."""

from __future__ import annotations

import torch


def manifold_radii(features: torch.Tensor, k: int = 3, batch: int = 10000) -> torch.Tensor:
    """Distance of every point to its k-th nearest other point ([N])."""
    out = []
    for rows in features.split(batch):
        d = torch.cat(
            [torch.cdist(rows.float(), cols.float()) for cols in features.split(batch)], 1
        )
        out.append(d.kthvalue(k + 1, dim=1).values)  # +1: the point itself is at distance 0
    return torch.cat(out)


def inside_fraction(
    probes: torch.Tensor, manifold: torch.Tensor, radii: torch.Tensor, batch: int = 10000
) -> float:
    """Share of probes within radius of at least one manifold point."""
    inside = []
    for rows in probes.split(batch):
        hit = torch.zeros(len(rows), dtype=torch.bool)
        for cols, r in zip(manifold.split(batch), radii.split(batch), strict=True):
            hit |= (torch.cdist(rows.float(), cols.float()) <= r[None]).any(1)
        inside.append(hit)
    return torch.cat(inside).float().mean().item()


def precision_recall(
    real: torch.Tensor, fake: torch.Tensor, k: int = 3, batch: int = 10000
) -> tuple[float, float]:
    """(precision, recall): fakes inside the real manifold, reals inside the fake manifold."""
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"precision/recall needs more than k={k} images on each side")
    precision = inside_fraction(fake, real, manifold_radii(real, k, batch), batch)
    recall = inside_fraction(real, fake, manifold_radii(fake, k, batch), batch)
    return precision, recall
