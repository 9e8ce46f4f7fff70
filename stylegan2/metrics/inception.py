"""The FID feature network: Inception-v3 as in TF's `inception-2015-12-05` graph (the 2048-d pool3
features), in plain torch, loaded from weight files the user supplies:

- the plain state dict of pytorch-fid / torch-fidelity (`pt_inception-2015-12-05-6726825d.pth`,
  `weights-inception-2015-12-05-6726825d.pth`), loaded with `weights_only`;
- NVIDIA's TorchScript `inception-2015-12-05.pt`, read as data (its code never runs) and mapped
  onto these layers by order and shape. That mapping was written without access to the file and
  refuses any archive whose tensors do not line up exactly.

The graph differs from torchvision's Inception-v3 in the places the FID ports share: average
pools exclude padding, and the last block max-pools its pool branch.
Input: uint8 images of any size, resized to 299 with TF1's bilinear sampling and scaled by
(x - 128) / 128, as torch-fidelity and NVIDIA's detector do (pytorch-fid itself resizes with
torch's bilinear and scales by 2x/255 - 1, so its FIDs differ slightly from these).
The TorchScript mapping goes by order: where two layers of a block have the same shape
(InceptionA's 1x1 branches, InceptionC's 1x1 and pool branches) a different attribute order in
the archive would go unnoticed; it has not been checked against the real file.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


class MetricWeightsError(ValueError):
    """A detector weight file that is missing, foreign or damaged."""


class BasicConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg3(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch1x1(x)
        b = self.branch5x5_2(self.branch5x5_1(x))
        c = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        d = self.branch_pool(_avg3(x))
        return torch.cat([a, b, c, d], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch3x3(x)
        b = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([a, b, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch1x1(x)
        b = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        c = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4):
            c = layer(c)
        c = self.branch7x7dbl_5(c)
        d = self.branch_pool(_avg3(x))
        return torch.cat([a, b, c, d], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch3x3_2(self.branch3x3_1(x))
        b = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b = layer(b)
        return torch.cat([a, b, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool  # TF's last block max-pools its pool branch
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.branch1x1(x)
        b = self.branch3x3_1(x)
        b = torch.cat([self.branch3x3_2a(b), self.branch3x3_2b(b)], 1)
        c = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        c = torch.cat([self.branch3x3dbl_3a(c), self.branch3x3dbl_3b(c)], 1)
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg3(x)
        return torch.cat([a, b, c, self.branch_pool(pooled)], 1)


def resize_bilinear_tf1(x: torch.Tensor, size: int) -> torch.Tensor:
    """TF1's `resize_bilinear` (align_corners=False, no half-pixel centres): output pixel i
    samples input position i * in/out, so the last rows and columns are never blended in the way
    torch's `interpolate` would."""
    h, w = x.shape[2:]

    def axis(n_in: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pos = torch.arange(size, dtype=torch.float64) * (n_in / size)
        lo = pos.floor().long().clamp(max=n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, (pos - lo).to(x.dtype)

    y0, y1, fy = axis(h)
    x0, x1, fx = axis(w)
    top = x[:, :, y0] * (1 - fy)[:, None] + x[:, :, y1] * fy[:, None]
    return top[..., x0] * (1 - fx) + top[..., x1] * fx


class FIDInception(nn.Module):
    """uint8 [N, 3, H, W] -> pool3 features [N, 2048] (float32)."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, max_pool=False)
        self.Mixed_7c = InceptionE(2048, max_pool=True)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            raise ValueError("the FID network takes uint8 RGB images [N, 3, H, W]")
        x = images.to(torch.float32)
        if x.shape[2:] != (299, 299):
            x = resize_bilinear_tf1(x, 299)
        x = (x - 128) / 128
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean(dim=[2, 3])


def load_inception(path: str | Path, device: str | torch.device = "cpu") -> FIDInception:
    """The FID network with the weights in `path` (see the module docstring for the formats)."""
    from stylegan2.weight_files import read_weight_file

    path = Path(path)
    try:
        kind, tensors = read_weight_file(path, "an Inception state dict")
    except ValueError as exc:
        raise MetricWeightsError(str(exc)) from None
    net = FIDInception()
    expected = net.state_dict()
    if kind == "torchscript":
        sd = _map_torchscript(path, tensors, expected)
    else:
        sd = {k: v for k, v in tensors.items() if not k.startswith(("fc.", "AuxLogits."))}
        for k in expected:
            if k.endswith("num_batches_tracked"):
                sd.setdefault(k, expected[k])
            elif k.endswith("bn.weight") and k not in sd:
                sd[k] = torch.ones_like(expected[k])  # TF's batch norm has no scale
    missing = [k for k in expected if k not in sd]
    if missing:
        raise MetricWeightsError(f"{path}: missing {missing[0]} (and {len(missing) - 1} more)")
    for k, v in expected.items():
        if tuple(sd[k].shape) != tuple(v.shape):
            raise MetricWeightsError(
                f"{path}: {k} has shape {list(sd[k].shape)}, not {list(v.shape)}"
            )
    net.load_state_dict({k: sd[k].float() for k in expected})
    return net.eval().requires_grad_(False).to(device)


def _map_torchscript(
    path: Path, tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Assign the archive's conv and batch-norm tensors to our layers in order: each conv is a
    4-D weight followed by its batch-norm vectors, told apart by name (mean / var / beta)."""
    convs: list[dict[str, torch.Tensor]] = []
    for name, t in tensors.items():
        leaf = name.rsplit(".", 1)[-1].lower()
        if t.ndim == 4:
            convs.append({"weight": t})
        elif t.ndim == 1 and convs and t.numel() == convs[-1]["weight"].shape[0]:
            if "mean" in leaf:
                convs[-1]["running_mean"] = t
            elif "var" in leaf:
                convs[-1]["running_var"] = t
            elif "beta" in leaf or "bias" in leaf or "offset" in leaf:
                convs[-1]["bias"] = t
            elif "gamma" in leaf or "scale" in leaf or leaf == "weight":
                convs[-1]["scale"] = t
    ours = [k[: -len(".conv.weight")] for k in expected if k.endswith(".conv.weight")]
    if len(convs) != len(ours):
        raise MetricWeightsError(
            f"{path}: {len(convs)} conv layers, the FID Inception has {len(ours)}; not NVIDIA's "
            "inception-2015-12-05.pt"
        )
    sd: dict[str, torch.Tensor] = {}
    for prefix, conv in zip(ours, convs, strict=True):
        want = expected[f"{prefix}.conv.weight"].shape
        if conv["weight"].shape != want or not {"running_mean", "running_var", "bias"} <= set(conv):
            raise MetricWeightsError(f"{path}: its layers do not line up with the FID Inception")
        sd[f"{prefix}.conv.weight"] = conv["weight"]
        sd[f"{prefix}.bn.weight"] = conv.get("scale", torch.ones(want[0]))
        sd[f"{prefix}.bn.bias"] = conv["bias"]
        sd[f"{prefix}.bn.running_mean"] = conv["running_mean"]
        sd[f"{prefix}.bn.running_var"] = conv["running_var"]
        sd[f"{prefix}.bn.num_batches_tracked"] = torch.zeros((), dtype=torch.long)
    return sd
