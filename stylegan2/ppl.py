"""Perceptual path length (Karras et al. 2019, "A Style-Based Generator Architecture for GANs",
section 4.1): the protocol of NVIDIA's metrics/perceptual_path_length.py (stylegan2-ada-pytorch)
as a batch metric, and the local path length between two ws that the explorer's live readout
uses.

Per sample: endpoints in Z (slerp) or W (lerp, no truncation) at t and t + eps, identical noise
for both images, optional face crop, box downsampling to about 256 px, distance / eps^2. The
metric is the mean after dropping values outside the 1st-99th percentiles.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from stylegan2.networks import Generator

EPS = 1e-4


def normalize(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of (normalised) a toward b; t broadcasts over the last dim. Equal
    ends (a path through one seed twice) give that point, where the direction b - (a.b) a is
    zero and would divide 0 by 0 into NaN."""
    a, b = normalize(a), normalize(b)
    d = (a * b).sum(-1, keepdim=True).clamp(-1, 1)
    p = t * torch.acos(d)
    c = b - d * a
    n = c.norm(dim=-1, keepdim=True)
    c = torch.where(n > 0, c / torch.where(n > 0, n, torch.ones_like(n)), torch.zeros_like(c))
    return normalize(a * p.cos() + c * p.sin())


def prepare(img: torch.Tensor, crop: bool, rule: str = "tf") -> torch.Tensor:
    """Face crop and box downsampling as the official metric does before the distance.

    rule 'tf' computes the factor from the cropped size (StyleGAN2 paper numbers); 'ada' uses
    img_resolution // 256 even after cropping (stylegan2-ada-pytorch / stylegan3)."""
    full = img.shape[2]
    if crop:
        c = full // 8
        img = img[:, :, c * 3 : c * 7, c * 2 : c * 6]
    size = img.shape[2] if rule == "tf" else full
    factor = size // 256
    if factor > 1:
        img = F.avg_pool2d(img, factor)
    return img


def path_lengths(
    G: Generator,
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    ws_a: torch.Tensor,
    ws_b: torch.Tensor,
    eps: float = EPS,
    crop: bool = False,
    rule: str = "tf",
    noise_seed: int = 0,
    noise_mode: str = "random",
) -> torch.Tensor:
    """distance(G(ws_a), G(ws_b)) / eps^2 with the same noise for both images; [N]."""
    kw = dict(noise_mode=noise_mode, force_fp32=True)
    img_a = G.synthesis(ws_a, noise_generator=torch.Generator().manual_seed(noise_seed), **kw)
    img_b = G.synthesis(ws_b, noise_generator=torch.Generator().manual_seed(noise_seed), **kw)
    return distance(prepare(img_a, crop, rule), prepare(img_b, crop, rule)) / eps**2


@torch.no_grad()
def sample_ppl(
    G: Generator,
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    num_samples: int,
    space: str = "w",
    sampling: str = "end",
    crop: bool = False,
    batch: int = 8,
    seed: int = 0,
    rule: str = "tf",
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """The per-sample path lengths of the official protocol."""
    if space not in ("w", "z") or sampling not in ("end", "full"):
        raise ValueError("space must be w or z and sampling end or full")
    gen = torch.Generator().manual_seed(seed)
    dev = G.device
    out = []
    done = 0
    while done < num_samples:
        n = min(batch, num_samples - done)
        z = torch.randn([2 * n, G.z_dim], generator=gen).to(dev)
        t = (
            torch.rand([n, 1], generator=gen).to(dev)
            if sampling == "full"
            else torch.zeros(n, 1, device=dev)
        )
        c = None
        if G.c_dim:
            idx = torch.randint(G.c_dim, [n], generator=gen)
            c = F.one_hot(idx, G.c_dim).float().to(dev)
        z0, z1 = z[:n], z[n:]
        if space == "w":
            w0 = G.mapping(z0, c, update_w_avg=False)
            w1 = G.mapping(z1, c, update_w_avg=False)
            t3 = t.unsqueeze(1)
            wa, wb = w0.lerp(w1, t3), w0.lerp(w1, t3 + EPS)
        else:
            wa = G.mapping(slerp(z0, z1, t), c, update_w_avg=False)
            wb = G.mapping(slerp(z0, z1, t + EPS), c, update_w_avg=False)
        noise_seed = int(torch.randint(2**31 - 1, [], generator=gen))
        out.append(
            path_lengths(G, distance, wa, wb, crop=crop, rule=rule, noise_seed=noise_seed).cpu()
        )
        done += n
        if progress is not None:
            progress(n)
    return torch.cat(out).double().numpy()


def filtered_mean(d: np.ndarray) -> float:
    """Mean of the values between the 1st (lower) and 99th (higher) percentiles."""
    lo = np.percentile(d, 1, method="lower")
    hi = np.percentile(d, 99, method="higher")
    return float(np.extract(np.logical_and(d >= lo, d <= hi), d).mean())
