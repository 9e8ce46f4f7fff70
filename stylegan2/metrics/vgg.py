"""The precision/recall feature network: VGG16's fc2 activations (4096-d, after ReLU) for uint8
images resized to 224 and normalised with the ImageNet mean and std (the features NVIDIA's
metrics/precision_recall.py in stylegan2-ada-pytorch uses).

Weights: torchvision's `vgg16-397923af.pth` (a plain state dict, loaded with `weights_only`), or
NVIDIA's TorchScript `vgg16.pt` read as data (`layers.conv1-13`, `layers.fc1-2`). The latter's
layout is what LPIPS here already reads; its own input preprocessing could not be checked without
the file, so numbers from it may differ slightly from NVIDIA's `pr50k3`.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from stylegan2.lpips import LPIPSError, read_vgg16_file, vgg16_convs
from stylegan2.metrics.inception import MetricWeightsError

_POOL_AFTER = {1, 3, 6, 9, 12}  # conv indices (0-based) followed by a 2x2 max pool
_MEAN = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)


class VGG16Features(nn.Module):
    """uint8 [N, 3, H, W] -> fc2 features [N, 4096]."""

    def __init__(self, convs: list[tuple[torch.Tensor, torch.Tensor]], fcs) -> None:
        super().__init__()
        self.convs = nn.ModuleList()
        for w, b in convs:
            conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1)
            conv.weight.data.copy_(w)
            conv.bias.data.copy_(b)
            self.convs.append(conv)
        self.fc1 = nn.Linear(25088, 4096)
        self.fc2 = nn.Linear(4096, 4096)
        for fc, (w, b) in zip((self.fc1, self.fc2), fcs, strict=True):
            fc.weight.data.copy_(w)
            fc.bias.data.copy_(b)
        self.register_buffer("mean", _MEAN * 255)
        self.register_buffer("std", _STD * 255)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            raise ValueError("the VGG16 feature network takes uint8 RGB images [N, 3, H, W]")
        x = images.float()
        if x.shape[2:] != (224, 224):
            x = F.interpolate(x, size=(224, 224), mode="area" if x.shape[2] > 224 else "bilinear")
        x = (x - self.mean) / self.std
        for i, conv in enumerate(self.convs):
            x = F.relu(conv(x))
            if i in _POOL_AFTER:
                x = F.max_pool2d(x, 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return F.relu(self.fc2(x))


def load_vgg16(path: str | Path, device: str | torch.device = "cpu") -> VGG16Features:
    path = Path(path)
    try:
        kind, tensors = read_vgg16_file(path)  # read once: NVIDIA's file is over 500 MB
        convs = vgg16_convs(path, kind, tensors)
    except LPIPSError as exc:
        raise MetricWeightsError(str(exc)) from None
    names = (
        ["layers.fc1", "layers.fc2"] if kind == "torchscript" else ["classifier.0", "classifier.3"]
    )
    try:
        fcs = [(tensors[f"{n}.weight"], tensors[f"{n}.bias"]) for n in names]
    except KeyError as exc:
        raise MetricWeightsError(
            f"{path}: no {exc.args[0]}: precision/recall needs the full VGG16 with its classifier"
        ) from None
    for (w, b), (o, i) in zip(fcs, ((4096, 25088), (4096, 4096)), strict=True):
        if tuple(w.shape) != (o, i) or tuple(b.shape) != (o,):
            raise MetricWeightsError(f"{path}: fc layer of shape {list(w.shape)}, not [{o}, {i}]")
    return VGG16Features(convs, fcs).eval().requires_grad_(False).to(device)
