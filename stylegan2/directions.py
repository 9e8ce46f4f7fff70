"""Semantic directions in W: closed-form factorisation of the style affines (SeFa, Shen & Zhou
2021) and PCA of sampled w's (GANSpace, Härkönen et al. 2020), applied to a range of layers.

A direction file (`.npz`, no pickles) holds K directions [K, w_dim], their scores (eigenvalue or
standard deviation), the layer range they apply to, the method and names. PCA directions are
scaled by their standard deviation, so strength 1 is one sigma; SeFa directions are unit vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from stylegan2.archive_errors import ARCHIVE_ERRORS, numpy_load_message
from stylegan2.input_files import file_problem
from stylegan2.networks import Generator
from stylegan2.safe_writes import atomic_path


@dataclass
class Directions:
    vectors: np.ndarray  # [K, w_dim]
    scores: np.ndarray  # [K] eigenvalues (SeFa) or standard deviations (PCA), descending
    layers: tuple[int, int]  # first and last ws index (inclusive) they apply to
    method: str
    names: list[str] = field(default_factory=list)

    def offset(self, k: int, strength: float, num_ws: int) -> np.ndarray:
        """The [num_ws, w_dim] offset that moves ws[first..last] by strength along direction k."""
        off = np.zeros((num_ws, self.vectors.shape[1]), np.float32)
        lo, hi = self.layers
        off[lo : hi + 1] = strength * self.vectors[k]
        return off

    def save(self, path: str | Path) -> None:
        """Write exactly `path` (np.savez given a name would add '.npz' and could replace
        another file than the one chosen), whole or not at all."""
        path = Path(path)
        names = self.names or [f"{self.method} {k}" for k in range(len(self.vectors))]
        # in_place=False: a zip cannot be written to a device (its end record goes wrong)
        with atomic_path(path, in_place=False) as tmp, open(tmp, "wb") as f:
            np.savez(
                f,
                vectors=self.vectors.astype(np.float32),
                scores=self.scores.astype(np.float64),
                layers=np.array(self.layers, np.int64),
                method=np.array(self.method),
                names=np.array(names),
            )

    @classmethod
    def load(cls, path: str | Path) -> Directions:
        """A file written by `save`; ValueError, one line naming what is wrong, for anything
        else (a plain .npy, vectors that are not [K, w_dim] finite numbers, a layer range that
        is not two whole numbers in order)."""
        name = Path(path).name
        problem = file_problem(path)
        if problem:
            raise ValueError(f"{name}: {problem}")
        try:
            d = np.load(path, allow_pickle=False)
            if not isinstance(d, np.lib.npyio.NpzFile):
                raise ValueError("a single array (.npy), not the .npz that `directions` writes")
            with d:
                vectors, scores, layers = d["vectors"], d["scores"], d["layers"]
                method, names = d["method"], d["names"]
                return cls(
                    _checked_vectors(vectors),
                    _checked_scores(scores, len(vectors)),
                    _checked_layers(layers),
                    str(method),
                    _checked_names(names, len(vectors)),
                )
        except (*ARCHIVE_ERRORS, KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{name}: not a directions file ({numpy_load_message(exc)})") from None


#: directions one file may hold (SeFa gives at most w_dim of them)
MAX_DIRECTIONS = 4096


def _real(a: np.ndarray) -> bool:
    return a.dtype.kind in "iuf"  # not bool, complex, strings or bytes


def _checked_vectors(v: np.ndarray) -> np.ndarray:
    if not _real(v) or v.ndim != 2 or not 1 <= v.shape[0] <= MAX_DIRECTIONS or v.shape[1] < 1:
        raise ValueError(
            f"vectors must be [K, w_dim] numbers, 1-{MAX_DIRECTIONS} directions, "
            f"got {list(v.shape)} {v.dtype}"
        )
    with np.errstate(over="ignore"):  # float64 beyond float32 becomes inf: refused below
        v = v.astype(np.float32)
    if not np.isfinite(v).all():  # NaN would render black, inf too
        raise ValueError("the vectors hold NaN or infinite values")
    return v


def _checked_scores(s: np.ndarray, k: int) -> np.ndarray:
    if not _real(s) or s.shape != (k,):
        raise ValueError(f"scores must be {k} numbers (one per vector), got {list(s.shape)}")
    return s.astype(np.float64)


def _checked_layers(layers: np.ndarray) -> tuple[int, int]:
    if layers.dtype.kind not in "iu" or layers.shape != (2,):
        raise ValueError(f"layers must be two whole numbers, got {layers.tolist()!r}")
    lo, hi = (int(v) for v in layers)
    if not 0 <= lo <= hi:
        raise ValueError(f"layers [{lo}, {hi}]: the first and last ws index, from 0, in order")
    return lo, hi


def _checked_names(names: np.ndarray, k: int) -> list[str]:
    if names.dtype.kind != "U" or names.shape != (k,):
        raise ValueError(f"names must be {k} strings (one per vector), got {list(names.shape)}")
    return [str(n) for n in names]


def _check_layers(G: Generator, layers: tuple[int, int]) -> tuple[int, int]:
    lo, hi = layers
    if not 0 <= lo <= hi < G.num_ws:
        raise ValueError(f"layer range {lo}-{hi} outside 0-{G.num_ws - 1}")
    return lo, hi


@torch.no_grad()
def sefa(G: Generator, layers: tuple[int, int] | None = None, top: int = 10) -> Directions:
    """Eigenvectors of A^T A for the style affine weights A of every layer driven by ws[lo..hi]
    (columns normalised), sorted by eigenvalue. No data, no sampling."""
    lo, hi = _check_layers(G, layers or (0, G.num_ws - 1))
    mats = []
    for info in G.layers():
        if lo <= info.w_index <= hi:
            block, kind = info.name.split(".")
            mats.append(getattr(getattr(G.synthesis, block), kind).affine.weight.double().cpu())
    A = torch.cat(mats)  # [sum of channels, w_dim]
    A = A / A.norm(dim=0, keepdim=True)
    evals, evecs = torch.linalg.eigh(A.T @ A)
    order = torch.argsort(evals, descending=True)[:top]
    return Directions(
        evecs[:, order].T.float().numpy(),
        evals[order].numpy(),
        (lo, hi),
        "sefa",
        [f"SeFa {k} (eigenvalue {float(evals[i]):.3g})" for k, i in enumerate(order)],
    )


@torch.no_grad()
def pca(
    G: Generator,
    num_samples: int = 100_000,
    layers: tuple[int, int] | None = None,
    top: int = 10,
    seed: int = 0,
    batch: int = 4096,
    progress: Callable[[int], None] | None = None,
) -> Directions:
    """Principal components of w = mapping(z) over random z (no truncation), scaled by their
    standard deviations."""
    lo, hi = _check_layers(G, layers or (0, G.num_ws - 1))
    gen = torch.Generator().manual_seed(seed)
    ws = []
    done = 0
    while done < num_samples:
        n = min(batch, num_samples - done)
        z = torch.randn([n, G.z_dim], generator=gen).to(G.device)
        c = None
        if G.c_dim:
            c = torch.nn.functional.one_hot(torch.randint(G.c_dim, [n], generator=gen), G.c_dim)
            c = c.float().to(G.device)
        ws.append(G.mapping(z, c, update_w_avg=False)[:, 0].double().cpu())
        done += n
        if progress is not None:
            progress(n)
    w = torch.cat(ws)
    w = w - w.mean(0, keepdim=True)
    _, s, vt = torch.linalg.svd(w, full_matrices=False)
    std = s / max(len(w) - 1, 1) ** 0.5
    k = min(top, len(std))
    vectors = (vt[:k] * std[:k, None]).float().numpy()
    return Directions(
        vectors,
        std[:k].numpy(),
        (lo, hi),
        "pca",
        [f"PC {i} (std {float(std[i]):.3g})" for i in range(k)],
    )


def from_labels(
    w: np.ndarray | torch.Tensor,
    labels: dict[str, np.ndarray],
    layers: tuple[int, int],
    min_group: int = 20,
) -> Directions:
    """Named directions between labelled groups of w's: for each name, the mean w of the samples
    labelled True minus the mean of those labelled False (the simplest form of a linear
    attribute boundary, as in InterFaceGAN), so strength 1 moves a w from the one group's mean
    to the other's. Scores: the groups' separation along it (d', the difference of the means
    over the pooled standard deviation), largest first. `w` is [N, w_dim]; a name whose groups
    have fewer than `min_group` members either way is left out."""
    w = torch.as_tensor(w).double()
    if w.ndim != 2 or len(w) < 2:
        raise ValueError(f"w must be [N, w_dim] with N >= 2, got {list(w.shape)}")
    lo, hi = _checked_layers(np.asarray(layers, dtype=np.int64))
    found: list[tuple[float, str, np.ndarray]] = []
    for name, mask in labels.items():
        m = torch.as_tensor(np.asarray(mask, dtype=bool))
        if m.shape != (len(w),):
            raise ValueError(f"{name}: {list(m.shape)} labels for {len(w)} w's")
        pos, neg = w[m], w[~m]
        if min(len(pos), len(neg)) < min_group:
            continue
        diff = pos.mean(0) - neg.mean(0)
        unit = diff / diff.norm().clamp_min(1e-12)
        spread = torch.cat([(pos - pos.mean(0)) @ unit, (neg - neg.mean(0)) @ unit])
        d_prime = float(diff.norm() / spread.std().clamp_min(1e-12))
        found.append((d_prime, name, diff.float().numpy()))
    if not found:
        raise ValueError(f"no label has {min_group} or more samples on each side")
    found.sort(key=lambda t: -t[0])
    return Directions(
        np.stack([v for _, _, v in found]),
        np.array([s for s, _, _ in found]),
        (lo, hi),
        "labels",
        [n for _, n, _ in found],
    )
