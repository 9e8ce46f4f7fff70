"""Projection of an image into W (Karras et al. 2020, section 5; NVIDIA's projector.py in
stylegan2-ada-pytorch): optimise one w (or, with `w_plus`, one per layer) and the noise maps so
that the generated image matches a target under LPIPS, with ramped latent noise, a learning-rate
ramp and the multi-scale noise autocorrelation regulariser. Works on a private copy of the
generator; the caller's network is left untouched.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from stylegan2.networks import Generator


@dataclass(frozen=True)
class ProjectConfig:
    num_steps: int = 1000
    w_avg_samples: int = 10000
    initial_learning_rate: float = 0.1
    initial_noise_factor: float = 0.05
    lr_rampdown_length: float = 0.25
    lr_rampup_length: float = 0.05
    noise_ramp_length: float = 0.75
    regularize_noise_weight: float = 1e5
    w_plus: bool = False


@dataclass
class ProjectionStep:
    step: int
    distance: float  # perceptual (or fallback) distance of this step's image
    loss: float
    ws: np.ndarray  # [num_ws, w_dim] without the ramped latent noise
    image: torch.Tensor | None = None  # [C, H, W] in [-1, 1], when requested


def learning_rate(t: float, cfg: ProjectConfig) -> float:
    """lr at progress t in [0, 1]: linear ramp-up, cosine ramp-down."""
    ramp = min(1.0, (1.0 - t) / cfg.lr_rampdown_length)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp = ramp * min(1.0, t / cfg.lr_rampup_length)
    return cfg.initial_learning_rate * ramp


def latent_noise_scale(t: float, w_std: float, cfg: ProjectConfig) -> float:
    return w_std * cfg.initial_noise_factor * max(0.0, 1.0 - t / cfg.noise_ramp_length) ** 2


def noise_regularizer(noises: list[torch.Tensor]) -> torch.Tensor:
    """Sum over maps and scales of squared autocorrelations at one-pixel shifts in x and y; each
    map is 2x2-average-pooled until it is 8 px or smaller (that scale included)."""
    reg = torch.zeros([], device=noises[0].device)
    for v in noises:
        v = v.reshape(1, 1, *v.shape[-2:])
        while True:
            reg = reg + (v * torch.roll(v, shifts=1, dims=3)).mean() ** 2
            reg = reg + (v * torch.roll(v, shifts=1, dims=2)).mean() ** 2
            if v.shape[2] <= 8:
                break
            v = F.avg_pool2d(v, kernel_size=2)
    return reg


def prepare_target(image: np.ndarray, resolution: int, channels: int) -> tuple[np.ndarray, str]:
    """Centre-crop to a square and resize (Lanczos) to the network; returns uint8 HWC and a note
    describing what was done."""
    from PIL import Image

    h, w = image.shape[:2]
    note = []
    s = min(h, w)
    if h != w:
        y, x = (h - s) // 2, (w - s) // 2
        image = image[y : y + s, x : x + s]
        note.append(f"centre-cropped {w}x{h} to {s}x{s}")
    pil = Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image)
    pil = pil.convert("L" if channels == 1 else "RGB")
    if s != resolution:
        pil = pil.resize((resolution, resolution), Image.LANCZOS)
        note.append(f"resized to {resolution}x{resolution}")
    arr = np.asarray(pil)
    return (arr[:, :, None] if arr.ndim == 2 else arr), "; ".join(note)


def _to_256(img: torch.Tensor) -> torch.Tensor:
    if img.shape[2] > 256:
        img = F.interpolate(img, size=(256, 256), mode="area")
    return img


def project(
    G: Generator,
    target: np.ndarray,
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    cfg: ProjectConfig | None = None,
    seed: int = 0,
    callback: Callable[[ProjectionStep], bool | None] | None = None,
    images_every: int = 0,
) -> list[np.ndarray]:
    """Project a uint8 HWC target (already at the network's resolution). Returns the ws of every
    step; `callback` sees each step and may return True to stop early (cancel)."""
    cfg = cfg or ProjectConfig()
    G = copy.deepcopy(G).eval().requires_grad_(False)
    dev = G.device
    torch.manual_seed(seed)
    c = None
    if G.c_dim:
        raise ValueError("projection of conditional networks is not supported yet")
    with torch.no_grad():
        z = torch.from_numpy(np.random.RandomState(123).randn(cfg.w_avg_samples, G.z_dim))
        w_samples = torch.cat(
            [G.mapping(zz.float().to(dev), c, update_w_avg=False)[:, :1] for zz in z.split(1000)]
        )  # [N, 1, C]
        w_avg = w_samples.mean(0, keepdim=True)  # [1, 1, C]
        w_std = float(((w_samples - w_avg).square().sum() / cfg.w_avg_samples).sqrt())
    noises = [b for name, b in G.synthesis.named_buffers() if name.endswith("noise_const")]
    for b in noises:
        b.copy_(torch.randn_like(b))
        b.requires_grad_(True)
    w_init = w_avg.repeat(1, G.num_ws, 1) if cfg.w_plus else w_avg
    w_opt = w_init.clone().detach().requires_grad_(True)
    opt = torch.optim.Adam([w_opt, *noises], betas=(0.9, 0.999), lr=cfg.initial_learning_rate)
    tgt = torch.from_numpy(np.ascontiguousarray(target.transpose(2, 0, 1))).float().to(dev)
    tgt = _to_256(tgt[None] / 127.5 - 1)
    history = []
    for step in range(cfg.num_steps):
        t = step / cfg.num_steps
        for group in opt.param_groups:
            group["lr"] = learning_rate(t, cfg)
        w_noise = torch.randn_like(w_opt) * latent_noise_scale(t, w_std, cfg)
        ws = w_opt + w_noise
        if not cfg.w_plus:
            ws = ws.repeat(1, G.num_ws, 1)
        img = G.synthesis(ws, noise_mode="const", force_fp32=True)
        dist = distance(tgt, _to_256(img)).sum()
        reg = noise_regularizer(noises)
        loss = dist + reg * cfg.regularize_noise_weight
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for b in noises:  # renormalise to zero mean, unit variance
                b -= b.mean()
                b *= b.square().mean().rsqrt()
        current = (w_opt.detach() if cfg.w_plus else w_opt.detach().repeat(1, G.num_ws, 1))[0]
        history.append(current.cpu().numpy())
        if callback is not None:
            show = images_every and (step % images_every == 0 or step == cfg.num_steps - 1)
            info = ProjectionStep(
                step,
                float(dist.detach()),
                float(loss.detach()),
                history[-1],
                img[0].detach().cpu() if show else None,
            )
            if callback(info):
                break
    return history


@torch.no_grad()
def distance_as_rendered(
    G: Generator,
    target: np.ndarray,
    ws: np.ndarray,
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> tuple[float, np.ndarray]:
    """(distance to the target, uint8 HWC image) of `ws` [num_ws, w_dim] rendered as anyone who
    loads the projected w renders it: with the network's own constant noise. The projector's own
    distance is measured with the noise maps it optimised alongside w, which are not carried
    over, so the two can differ visibly."""
    from stylegan2.render import to_uint8

    dev = G.device
    img = G.synthesis(torch.from_numpy(ws)[None].to(dev), noise_mode="const", force_fp32=True)
    tgt = torch.from_numpy(np.ascontiguousarray(target.transpose(2, 0, 1))).float().to(dev)
    d = distance(_to_256(tgt[None] / 127.5 - 1), _to_256(img)).sum()
    return float(d), to_uint8(img)[0]
