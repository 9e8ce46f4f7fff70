"""A feature space that needs no downloaded weights: the image itself, area-averaged to 32x32 and
flattened (values in [0, 1]). Precision/recall in it (`pxpr1k3`) says whether generated images lie
near training images pixel by pixel and whether the training images are covered, which is
meaningful for small synthetic datasets (flat-coloured faces, emoji) but blind to what a person
perceives: a shifted copy is far away, a blurry average can be close. It is not comparable with
the VGG16-feature `pr50k3` of the papers. Diversity is the mean absolute difference between pairs
of images in the same space, in 0-255 pixel units."""

from __future__ import annotations

import torch
from torch.nn import functional as F

PIXEL_SIZE = 32


class PixelFeatures(torch.nn.Module):
    """uint8 [N, 3, H, W] -> float [N, 3 * size * size] in [0, 1]."""

    def __init__(self, size: int = PIXEL_SIZE) -> None:
        super().__init__()
        self.size = size

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float() / 255
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.adaptive_avg_pool2d(x, self.size)  # exact area averages for power-of-two sizes
        return x.flatten(1)


def mean_pairwise_difference(features: torch.Tensor, max_items: int = 1000) -> float:
    """Mean |a - b| over all pairs of the first `max_items` rows, in 0-255 units."""
    x = features[:max_items].float()
    n = len(x)
    if n < 2:
        raise ValueError("diversity needs at least two images")
    total = sum(float(torch.cdist(row[None], x, p=1).sum()) for row in x)
    return total / (n * (n - 1)) / x.shape[1] * 255
