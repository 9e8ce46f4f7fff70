"""Discriminator with the resnet / orig / skip architectures, minibatch stddev and conditional
projection (SPEC §1.6, §4.5)."""

from __future__ import annotations

import math

import torch
from torch import nn

from stylegan2 import ops
from stylegan2.config import DiscriminatorConfig
from stylegan2.networks.layers import Conv2dLayer, FullyConnectedLayer, MinibatchStdLayer
from stylegan2.networks.mapping import MappingNetwork
from stylegan2.networks.precision import block_dtype


class DiscriminatorBlock(nn.Module):
    def __init__(
        self,
        in_channels: int,
        tmp_channels: int,
        out_channels: int,
        cfg: DiscriminatorConfig,
        resolution: int,
        use_fp16: bool,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.resolution = resolution
        self.architecture = cfg.architecture
        self.use_fp16 = use_fp16
        self.register_buffer(
            "resample_filter", ops.setup_filter(cfg.resample_filter), persistent=False
        )
        common = dict(resample_filter=cfg.resample_filter, conv_clamp=cfg.conv_clamp)
        if in_channels == 0 or cfg.architecture == "skip":
            self.fromrgb = Conv2dLayer(
                cfg.img_channels, tmp_channels, kernel_size=1, activation=cfg.activation, **common
            )
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation=cfg.activation, **common)
        self.conv1 = Conv2dLayer(
            tmp_channels, out_channels, 3, activation=cfg.activation, down=2, **common
        )
        if cfg.architecture == "resnet":
            self.skip = Conv2dLayer(
                tmp_channels,
                out_channels,
                1,
                bias=False,
                down=2,
                resample_filter=cfg.resample_filter,
            )

    def forward(
        self, x: torch.Tensor | None, img: torch.Tensor | None, dtype: torch.dtype
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if x is not None:
            x = x.to(dtype)
        if self.in_channels == 0 or self.architecture == "skip":
            assert img is not None
            y = self.fromrgb(img.to(dtype))
            x = x + y if x is not None else y
            img = (
                ops.downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
            )
        assert x is not None
        if self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x)
            x = self.conv1(x, gain=math.sqrt(0.5))
            x = y + x
        else:
            x = self.conv1(self.conv0(x))
        return x, img


class DiscriminatorEpilogue(nn.Module):
    def __init__(self, in_channels: int, cmap_dim: int, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        self.architecture = cfg.architecture
        self.cmap_dim = cmap_dim
        if cfg.architecture == "skip":
            self.fromrgb = Conv2dLayer(cfg.img_channels, in_channels, 1, activation=cfg.activation)
        self.mbstd = (
            MinibatchStdLayer(cfg.mbstd_group_size, cfg.mbstd_num_channels)
            if cfg.mbstd_num_channels > 0
            else None
        )
        self.conv = Conv2dLayer(
            in_channels + cfg.mbstd_num_channels,
            in_channels,
            3,
            activation=cfg.activation,
            conv_clamp=cfg.conv_clamp,
        )
        self.fc = FullyConnectedLayer(in_channels * 16, in_channels, activation=cfg.activation)
        self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(
        self, x: torch.Tensor, img: torch.Tensor | None, cmap: torch.Tensor | None
    ) -> torch.Tensor:
        x = x.to(torch.float32)
        if self.architecture == "skip":
            assert img is not None
            x = x + self.fromrgb(img.to(torch.float32))
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)
        x = self.fc(x.flatten(1))
        x = self.out(x)
        if cmap is not None:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x


class Discriminator(nn.Module):
    def __init__(self, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.c_dim = cfg.c_dim
        self.img_resolution = cfg.img_resolution
        self.img_channels = cfg.img_channels
        self.block_resolutions = cfg.resolutions[::-1][:-1]  # R, R/2, ..., 8
        fp16_resolution = cfg.fp16_resolution()
        cmap_dim = cfg.channels(4) if cfg.cmap_dim is None else cfg.cmap_dim
        if cfg.c_dim == 0:
            cmap_dim = 0
        for res in self.block_resolutions:
            block = DiscriminatorBlock(
                cfg.channels(res) if res < cfg.img_resolution else 0,
                cfg.channels(res),
                cfg.channels(res // 2),
                cfg,
                resolution=res,
                use_fp16=cfg.num_fp16_res > 0 and res >= fp16_resolution,
            )
            setattr(self, f"b{res}", block)
        if cfg.c_dim > 0:
            self.mapping = MappingNetwork(0, cfg.c_dim, cmap_dim, None, cfg.mapping)
        self.b4 = DiscriminatorEpilogue(cfg.channels(4), cmap_dim, cfg)
        self.cpu_half: torch.dtype | None = None  # see networks.precision

    def forward(
        self, img: torch.Tensor, c: torch.Tensor | None = None, force_fp32: bool = False
    ) -> torch.Tensor:
        """img: [N, C, R, R] in [-1, 1] -> logits [N, 1]."""
        x = None
        device = img.device
        if device.type == "cpu":
            # oneDNN's convolutions (forward and backward) are much faster channels-last.
            img = img.contiguous(memory_format=torch.channels_last)
        for res in self.block_resolutions:
            block: DiscriminatorBlock = getattr(self, f"b{res}")
            dtype = block_dtype(block.use_fp16, device, force_fp32, self.cpu_half)
            x, img = block(x, img, dtype)
        cmap = None
        if self.c_dim > 0:
            if c is None:
                raise ValueError(f"this discriminator is conditional: c must be [N, {self.c_dim}]")
            cmap = self.mapping(None, c)
        assert x is not None
        return self.b4(x, img, cmap)
