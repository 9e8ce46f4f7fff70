"""Adaptive discriminator augmentation (ADA; Karras et al. 2020, "Training Generative Adversarial
Networks with Limited Data"; NVIDIA's training/augment.py in stylegan2-ada-pytorch): the 'bgc'
pipeline of geometric and colour transforms, each applied with probability p, and the heuristic
that steers p so that the discriminator's sign on reals stays near the target.

Every transform is differentiable, so R1 and the generator loss see through the pipeline. The
geometric transforms compose into one affine matrix per sample, applied once: reflect-padded,
supersampled 2x with the generator's own FIR filter, bilinearly resampled, filtered back down.
Colour transforms compose into one 4x4 matrix per sample in homogeneous RGB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from stylegan2 import ops
from training.grid_sample import grid_sample

# Luma axis used by lumaflip, hue and saturation (unit vector along equal RGB).
_LUMA = torch.tensor([1.0, 1.0, 1.0, 0.0]) / math.sqrt(3)


@dataclass(frozen=True)
class AugmentConfig:
    xflip: float = 1
    rotate90: float = 1
    xint: float = 1
    xint_max: float = 0.125
    scale: float = 1
    rotate: float = 1
    aniso: float = 1
    xfrac: float = 1
    scale_std: float = 0.2
    rotate_max: float = 1  # fraction of a full turn
    aniso_std: float = 0.2
    xfrac_std: float = 0.125
    brightness: float = 1
    contrast: float = 1
    lumaflip: float = 1
    hue: float = 1
    saturation: float = 1
    brightness_std: float = 0.2
    contrast_std: float = 0.5
    hue_max: float = 1
    saturation_std: float = 1


def _prob_mask(n: int, p: float, device: torch.device) -> torch.Tensor:
    return (torch.rand([n], device=device) < p).float()


def _translate(tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    m = torch.eye(3, device=tx.device).repeat(len(tx), 1, 1)
    m[:, 0, 2], m[:, 1, 2] = tx, ty
    return m


def _scale(sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    m = torch.eye(3, device=sx.device).repeat(len(sx), 1, 1)
    m[:, 0, 0], m[:, 1, 1] = sx, sy
    return m


def _rotate(theta: torch.Tensor) -> torch.Tensor:
    m = torch.eye(3, device=theta.device).repeat(len(theta), 1, 1)
    c, s = theta.cos(), theta.sin()
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = c, -s, s, c
    return m


class AugmentPipe(torch.nn.Module):
    """img [N, C, H, W] in [-1, 1] -> augmented img. `p` is a host float (snapshots keep it in
    the counters): reading a device buffer would stall the GPU at every call."""

    def __init__(self, cfg: AugmentConfig | None = None, p: float = 0.0) -> None:
        super().__init__()
        self.cfg = cfg or AugmentConfig()
        self.p = float(p)
        self.register_buffer("resample_filter", ops.setup_filter([1, 3, 3, 1]), persistent=False)
        # On the module's device, so that no call copies it there (a copy stalls a GPU).
        self.register_buffer("luma", _LUMA.clone(), persistent=False)

    def _geometric(self, n: int, h: int, w: int, p: float, dev: torch.device) -> torch.Tensor:
        """Per-sample 3x3 matrices mapping output pixel coordinates (centred, in pixels) to
        input coordinates."""
        c = self.cfg
        m = torch.eye(3, device=dev).repeat(n, 1, 1)
        if c.xflip > 0:
            flip = _prob_mask(n, p * c.xflip, dev) * (torch.randint(2, [n], device=dev).float())
            m = m @ _scale(1 - 2 * flip, torch.ones(n, device=dev))
        if c.rotate90 > 0:
            k = torch.randint(4, [n], device=dev).float() * _prob_mask(n, p * c.rotate90, dev)
            m = m @ _rotate(k * (math.pi / 2))
        if c.xint > 0:
            t = (torch.rand([n, 2], device=dev) * 2 - 1) * c.xint_max
            t = t * _prob_mask(n, p * c.xint, dev)[:, None]
            m = m @ _translate((t[:, 0] * w).round(), (t[:, 1] * h).round())
        if c.scale > 0:
            s = torch.exp2(torch.randn([n], device=dev) * c.scale_std)
            s = torch.where(_prob_mask(n, p * c.scale, dev) > 0, s, torch.ones_like(s))
            m = m @ _scale(s, s)
        # Rotation is split around the anisotropic scaling, each with 1 - sqrt(1 - p).
        p_rot = 1 - math.sqrt(max(1 - min(p * c.rotate, 1.0), 0.0))
        if c.rotate > 0:
            theta = (torch.rand([n], device=dev) * 2 - 1) * math.pi * c.rotate_max
            m = m @ _rotate(theta * _prob_mask(n, p_rot, dev))
        if c.aniso > 0:
            s = torch.exp2(torch.randn([n], device=dev) * c.aniso_std)
            s = torch.where(_prob_mask(n, p * c.aniso, dev) > 0, s, torch.ones_like(s))
            m = m @ _scale(s, 1 / s)
        if c.rotate > 0:
            theta = (torch.rand([n], device=dev) * 2 - 1) * math.pi * c.rotate_max
            m = m @ _rotate(theta * _prob_mask(n, p_rot, dev))
        if c.xfrac > 0:
            t = torch.randn([n, 2], device=dev) * c.xfrac_std
            t = t * _prob_mask(n, p * c.xfrac, dev)[:, None]
            m = m @ _translate(t[:, 0] * w, t[:, 1] * h)
        return m

    def _color(self, n: int, p: float, dev: torch.device) -> torch.Tensor:
        c = self.cfg
        m = torch.eye(4, device=dev).repeat(n, 1, 1)
        v = self.luma if self.luma.device == dev else _LUMA.to(dev)
        if c.brightness > 0:
            b = (
                torch.randn([n], device=dev)
                * c.brightness_std
                * _prob_mask(n, p * c.brightness, dev)
            )
            t = torch.eye(4, device=dev).repeat(n, 1, 1)
            t[:, :3, 3] = b[:, None]
            m = t @ m
        if c.contrast > 0:
            s = torch.exp2(torch.randn([n], device=dev) * c.contrast_std)
            s = torch.where(_prob_mask(n, p * c.contrast, dev) > 0, s, torch.ones_like(s))
            t = torch.eye(4, device=dev).repeat(n, 1, 1)
            t[:, 0, 0] = t[:, 1, 1] = t[:, 2, 2] = s
            m = t @ m
        if c.lumaflip > 0:
            i = torch.randint(2, [n], device=dev).float() * _prob_mask(n, p * c.lumaflip, dev)
            t = torch.eye(4, device=dev) - 2 * torch.outer(v, v) * i[:, None, None]
            m = t @ m
        if c.hue > 0:
            theta = (torch.rand([n], device=dev) * 2 - 1) * math.pi * c.hue_max
            theta = theta * _prob_mask(n, p * c.hue, dev)
            m = _rotate_about(v, theta) @ m
        if c.saturation > 0:
            s = torch.exp2(torch.randn([n], device=dev) * c.saturation_std)
            s = torch.where(_prob_mask(n, p * c.saturation, dev) > 0, s, torch.ones_like(s))
            vv = torch.outer(v, v)
            t = vv + (torch.eye(4, device=dev) - vv) * s[:, None, None]
            t[:, 3, 3] = 1
            m = t @ m
        return m

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        p = self.p
        if p <= 0:
            return img
        n, ch, h, w = img.shape
        dev = img.device
        img = self._apply_geometric(img, self._geometric(n, h, w, p, dev))
        if ch == 3:
            cm = self._color(n, p, dev)
            flat = img.reshape(n, 3, h * w)
            img = (cm[:, :3, :3] @ flat + cm[:, :3, 3:]).reshape(n, 3, h, w)
        elif ch == 1:  # brightness and contrast only make sense for grey images
            cm = self._color(n, p, dev)
            img = img * cm[:, 0, 0].reshape(n, 1, 1, 1) + cm[:, 0, 3].reshape(n, 1, 1, 1)
        return img

    def _apply_geometric(self, img: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        n, _, h, w = img.shape
        # The shortcut reads m back: free on the CPU, a stall per call on a GPU.
        if m.device.type == "cpu" and torch.equal(m, torch.eye(3).expand_as(m)):
            return img
        pad = max(h, w) // 2  # reflect padding keeps borders plausible under rotation/scale
        x = F.pad(img, [pad, pad, pad, pad], mode="reflect")
        x = ops.upsample2d(x, self.resample_filter)  # 2x supersampling against aliasing
        hp, wp = x.shape[2], x.shape[3]
        # Output grid at 2x resolution in centred pixel units of the original image.
        ys = (torch.arange(2 * h, device=img.device, dtype=img.dtype) + 0.5) / 2 - h / 2
        xs = (torch.arange(2 * w, device=img.device, dtype=img.dtype) + 0.5) / 2 - w / 2
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        coords = torch.stack([gx, gy, torch.ones_like(gx)], dim=-1).reshape(1, -1, 3)
        src = coords @ m.transpose(1, 2)  # [N, HW, 3] input coordinates
        # Normalise to grid_sample's [-1, 1] over the padded, supersampled image.
        sx = src[..., 0] * 2 / (wp / 2)
        sy = src[..., 1] * 2 / (hp / 2)
        grid = torch.stack([sx, sy], dim=-1).reshape(n, 2 * h, 2 * w, 2)
        x = grid_sample(x, grid, padding_mode="reflection")  # R1 needs its double backward
        return ops.downsample2d(x, self.resample_filter)


def _rotate_about(v: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """4x4 rotations by theta about the (homogeneous) axis v (Rodrigues)."""
    n = len(theta)
    a = v[:3]
    k = torch.zeros(3, 3, device=v.device)
    k[0, 1], k[0, 2], k[1, 0], k[1, 2], k[2, 0], k[2, 1] = -a[2], a[1], a[2], -a[0], -a[1], a[0]
    eye = torch.eye(3, device=v.device)
    r = eye + theta.sin()[:, None, None] * k + (1 - theta.cos())[:, None, None] * (k @ k)
    m = torch.eye(4, device=v.device).repeat(n, 1, 1)
    m[:, :3, :3] = r
    return m


class AdaptiveP:
    """The ADA heuristic: every `interval` steps, p += sign(E[sign(D(real))] - target) *
    batch * interval / (kimg * 1000), clamped at 0."""

    def __init__(
        self, pipe: AugmentPipe, target: float = 0.6, interval: int = 4, kimg: float = 500
    ):
        self.pipe, self.target, self.interval, self.kimg = pipe, target, interval, kimg
        self.signs: list[float | torch.Tensor] = []

    def observe(self, sign_mean: float | torch.Tensor) -> None:
        """One step's mean sign(D(real)); a device tensor is fine (read every `interval` steps)."""
        self.signs.append(sign_mean)

    def maybe_adjust(self, step: int, batch: int, reduce_mean=lambda t: t) -> None:
        if (step + 1) % self.interval != 0 or not self.signs:
            return
        dev = next((s.device for s in self.signs if isinstance(s, torch.Tensor)), None)
        signs = [torch.as_tensor(s, dtype=torch.float32, device=dev) for s in self.signs]
        rt = float(reduce_mean(torch.stack(signs).mean()))
        self.signs.clear()
        delta = math.copysign(1.0, rt - self.target) * batch * self.interval / (self.kimg * 1000)
        # Bounded above as well: past 1 every augmentation always applies, so D can no longer
        # see colour or orientation at all, and p keeps climbing with nothing left to gain.
        self.pipe.p = min(max(self.pipe.p + delta, 0.0), 1.0)
