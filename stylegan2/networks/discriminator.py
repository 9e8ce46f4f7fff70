"""Discriminator with the resnet / orig / skip architectures (Karras et al. 2020, "Analyzing and
Improving the Image Quality of StyleGAN", section 4.1, fig. 7), minibatch stddev and, for
conditional networks, the projection of the class embedding (as NVIDIA's DiscriminatorEpilogue in
training/networks.py of stylegan2-ada-pytorch)."""

from __future__ import annotations

import math

import torch
from torch import nn

from stylegan2 import ops
from stylegan2.config import DiscriminatorConfig
from stylegan2.networks import fast
from stylegan2.networks.fast import SpeedOptions
from stylegan2.networks.layers import Conv2dLayer, FullyConnectedLayer, MinibatchStdLayer
from stylegan2.networks.mapping import MappingNetwork


class DiscriminatorBlock(nn.Module):
    """One resolution: fromRGB where the architecture has one, conv0, conv1 down-sampling 2x."""

    def __init__(
        self,
        in_channels: int,  # channels from the block above; 0 for the first (full-resolution) one
        tmp_channels: int,  # channels inside the block
        out_channels: int,
        cfg: DiscriminatorConfig,
        resolution: int,  # this block's input resolution
        use_fp16: bool,  # one of the blocks the config runs in reduced precision
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
        """x: [N, C_in, R, R] or None in the first block; img: [N, img_channels, R, R] where the
        architecture reads it -> (x [N, C_out, R/2, R/2], img at R/2 for the skip architecture)."""
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
    """The 4x4 end: minibatch stddev, a conv, two fully connected layers, the logit."""

    def __init__(
        self,
        in_channels: int,
        cmap_dim: int,  # dimension of the class embedding the output projects on; 0: none
        cfg: DiscriminatorConfig,
    ) -> None:
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
        """x: [N, C, 4, 4]; cmap: [N, cmap_dim] or None -> logits [N, 1]"""
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
    def __init__(self, cfg: DiscriminatorConfig, speed: SpeedOptions = fast.DEFAULT) -> None:
        """speed: its layout and reduced precision are used (a forward call may pass its own)."""
        super().__init__()
        self.cfg = cfg
        self.speed = speed
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

    def forward(
        self,
        img: torch.Tensor,
        c: torch.Tensor | None = None,
        force_fp32: bool = False,
        speed: SpeedOptions | None = None,
    ) -> torch.Tensor:
        """img: [N, C, R, R] in [-1, 1], c: [N, c_dim] -> logits [N, 1]. force_fp32: every block
        in float32; speed: how to run this call (None: `self.speed`)."""
        speed = self.speed if speed is None else speed
        x = None
        device = img.device
        if fast.feature_layout(speed, device) == torch.channels_last:
            img = img.contiguous(memory_format=torch.channels_last)  # every conv keeps its layout
        for res in self.block_resolutions:
            block: DiscriminatorBlock = getattr(self, f"b{res}")
            dtype = fast.block_dtype(block.use_fp16, device, force_fp32, speed.cpu_half)
            x, img = block(x, img, dtype)
        cmap = None
        if self.c_dim > 0:
            if c is None:
                raise ValueError(f"this discriminator is conditional: c must be [N, {self.c_dim}]")
            cmap = self.mapping(None, c)
        assert x is not None
        return self.b4(x, img, cmap)
