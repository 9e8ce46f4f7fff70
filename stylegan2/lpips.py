"""Perceptual distance for path lengths and projection: LPIPS-VGG16 v0.1 (Zhang et al. 2018) in
plain PyTorch, or a clearly labelled pixel-space fallback when no VGG16 trunk is at hand.

The linear-layer weights ship with the package (`data/lpips_vgg_v0.1_lin.safetensors`, converted
from the lpips project's v0.1 `vgg.pth`, BSD licence in `data/LICENSE.lpips`). The VGG16 trunk is
~530 MB and is not shipped: the user supplies torchvision's `vgg16-397923af.pth` state dict or
NVIDIA's `vgg16.pt`, which is read as data without running its TorchScript.

Every distance object has a `name`; readouts print it, so the fallback is never called LPIPS.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load as load_safetensors
from torch import nn

log = logging.getLogger(__name__)

# torchvision vgg16 `features` indices of the 13 convolutions; ReLU follows each, max-pool after
# convs 2, 4, 7, 10 (and 13, unused). LPIPS taps relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
VGG_CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
VGG_CHANNELS = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
_TAP_AFTER_CONV = (1, 3, 6, 9, 12)  # 0-based conv numbers whose ReLU output is a tap
_POOL_AFTER_CONV = (1, 3, 6, 9)
# ImageNet normalisation re-expressed for inputs in [-1, 1].
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


class LPIPSError(ValueError):
    pass


class LPIPS(nn.Module):
    """d(a, b) for images in [-1, 1], [N, 3, H, W] -> [N] (spatial mean, summed over 5 layers)."""

    name = "LPIPS-VGG16 v0.1"

    def __init__(self, convs: list[tuple[torch.Tensor, torch.Tensor]], lins: list[torch.Tensor]):
        super().__init__()
        if len(convs) != 13 or len(lins) != 5:
            raise LPIPSError("LPIPS needs 13 VGG16 convolutions and 5 linear layers")
        for i, ((w, b), c) in enumerate(zip(convs, VGG_CHANNELS, strict=True)):
            if w.shape[0] != c or b.shape != (c,):
                raise LPIPSError(f"VGG16 conv {i}: unexpected shape {list(w.shape)}")
            self.register_buffer(f"w{i}", w.float().contiguous())
            self.register_buffer(f"b{i}", b.float().contiguous())
        for k, lin in enumerate(lins):
            self.register_buffer(f"lin{k}", lin.float().reshape(1, -1, 1, 1))
        self.register_buffer("shift", torch.tensor(_SHIFT).reshape(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).reshape(1, 3, 1, 1))
        self.requires_grad_(False)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.shift) / self.scale
        taps = []
        for i in range(13):
            x = F.relu(F.conv2d(x, getattr(self, f"w{i}"), getattr(self, f"b{i}"), padding=1))
            if i in _TAP_AFTER_CONV:
                taps.append(x)
            if i in _POOL_AFTER_CONV:
                x = F.max_pool2d(x, 2)
        return taps

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape[1] == 1:
            a, b = a.repeat(1, 3, 1, 1), b.repeat(1, 3, 1, 1)
        n = a.shape[0]
        total = a.new_zeros(n, dtype=torch.float32)
        for k, f in enumerate(self.features(torch.cat([a, b]).float())):
            fa = f[:n] / (f[:n].square().sum(1, keepdim=True).sqrt() + 1e-10)
            fb = f[n:] / (f[n:].square().sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + ((fa - fb).square() * getattr(self, f"lin{k}")).sum(1).mean(dim=[1, 2])
        return total


class PixelDistance(nn.Module):
    """Fallback: mean squared difference of pixels in [-1, 1]. Not a perceptual metric."""

    name = "pixel MSE (fallback: no VGG16 weights, not LPIPS)"

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a.float() - b.float()).square().mean(dim=[1, 2, 3])


def bundled_lins() -> list[torch.Tensor]:
    data = resources.files("stylegan2").joinpath("data/lpips_vgg_v0.1_lin.safetensors").read_bytes()
    tensors = load_safetensors(data)
    return [tensors[f"lin{k}"] for k in range(5)]


def read_vgg16_trunk(path: str | Path) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The 13 conv (weight, bias) pairs from torchvision's state dict or NVIDIA's vgg16.pt."""
    return vgg16_convs(path, *read_vgg16_file(path))


def read_vgg16_file(path: str | Path) -> tuple[str, dict[str, torch.Tensor]]:
    from stylegan2.weight_files import read_weight_file

    try:
        return read_weight_file(path, "a VGG16 state dict")
    except ValueError as exc:
        raise LPIPSError(str(exc)) from None


def vgg16_convs(
    path: str | Path, kind: str, tensors: dict[str, torch.Tensor]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The conv layers out of `read_vgg16_file`'s tensors (NVIDIA's or torchvision's names)."""
    if kind == "torchscript":
        names = [f"layers.conv{i}" for i in range(1, 14)]
        missing = "a TorchScript file without NVIDIA's layers.conv1-13"
    else:
        names = [f"features.{i}" for i in VGG_CONV_INDICES]
        missing = "expected torchvision's vgg16"
    try:
        return [(tensors[f"{n}.weight"], tensors[f"{n}.bias"]) for n in names]
    except KeyError as exc:
        raise LPIPSError(f"{path}: missing {exc.args[0]}; {missing}") from None


def load_distance(vgg16_path: str | Path | None, device: str | torch.device = "cpu") -> nn.Module:
    """LPIPS when a VGG16 trunk file is given, else the labelled pixel fallback."""
    if vgg16_path is None:
        log.warning("no VGG16 weights given: using %s", PixelDistance.name)
        return PixelDistance().to(device)
    return LPIPS(read_vgg16_trunk(vgg16_path), bundled_lins()).to(device)
