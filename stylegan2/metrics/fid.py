"""Fréchet Inception Distance (Heusel et al. 2017) from feature statistics, as NVIDIA's
metrics/frechet_inception_distance.py (stylegan2-ada-pytorch): statistics in float64 with the
population covariance, FID = |mu_g - mu_r|^2 + tr(S_g + S_r - 2 sqrtm(S_g S_r)), real part."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class FeatureStats:
    mu: np.ndarray  # [D] float64
    sigma: np.ndarray  # [D, D] float64
    count: int

    def save(self, path: str | Path) -> None:
        np.savez(path, mu=self.mu, sigma=self.sigma, count=self.count)

    @staticmethod
    def load(path: str | Path) -> FeatureStats:
        with np.load(path) as f:
            return FeatureStats(f["mu"], f["sigma"], int(f["count"]))


class StatsAccumulator:
    """Running sums of x and x x^T, so that 50k features never sit in memory at once."""

    def __init__(self, dim: int) -> None:
        self.sum = np.zeros(dim, np.float64)
        self.outer = np.zeros((dim, dim), np.float64)
        self.count = 0

    def add(self, features: np.ndarray) -> None:
        x = np.asarray(features, dtype=np.float64)
        self.sum += x.sum(0)
        self.outer += x.T @ x
        self.count += len(x)

    def stats(self) -> FeatureStats:
        if self.count < 2:
            raise ValueError("statistics need at least 2 images")
        mu = self.sum / self.count
        sigma = self.outer / self.count - np.outer(mu, mu)
        return FeatureStats(mu, sigma, self.count)


def frechet_distance(a: FeatureStats, b: FeatureStats) -> float:
    """tr sqrtm(S_a S_b) is the sum of the square roots of the eigenvalues of S_a S_b, which
    equal those of the symmetric S_b^1/2 S_a S_b^1/2: two symmetric eigensolves instead of
    scipy's `sqrtm` (a Schur decomposition, ~10x slower at 2048-d). Equal to the reference's
    real part to ~1e-10 relative on well-conditioned statistics (tested), and better behaved on
    rank-deficient ones."""
    diff = a.mu - b.mu
    evals, evecs = np.linalg.eigh(b.sigma)
    root_b = (evecs * np.sqrt(np.clip(evals, 0, None))) @ evecs.T
    inner = np.linalg.eigvalsh(root_b @ a.sigma @ root_b)
    tr_covmean = np.sqrt(np.clip(inner, 0, None)).sum()
    return float(diff @ diff + np.trace(a.sigma) + np.trace(b.sigma) - 2 * tr_covmean)
