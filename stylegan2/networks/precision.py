"""Changing how networks already built run: `set_speed` gives every synthesis network and
discriminator inside a module new `SpeedOptions`; `set_cpu_half` changes only the dtype of their
fp16 blocks on the CPU (the trainer's mixed precision). The rules themselves are in
`networks.fast`."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from stylegan2.networks.discriminator import Discriminator
from stylegan2.networks.fast import CPU_HALF_DTYPES as CPU_HALF_DTYPES
from stylegan2.networks.fast import SpeedOptions
from stylegan2.networks.fast import block_dtype as block_dtype
from stylegan2.networks.synthesis import SynthesisNetwork


def set_speed(module: nn.Module, speed: SpeedOptions) -> None:
    """Run every synthesis network and discriminator inside `module` with `speed`."""
    for m in module.modules():
        if isinstance(m, SynthesisNetwork | Discriminator):
            m.speed = speed


def set_cpu_half(module: nn.Module, dtype: torch.dtype | None) -> None:
    """Run the fp16 blocks of every synthesis network and discriminator inside `module` in `dtype`
    when on the CPU (None: float32, the default, which matches NVIDIA's CPU path)."""
    if dtype is not None and dtype not in CPU_HALF_DTYPES:
        raise ValueError(f"CPU reduced precision must be one of {CPU_HALF_DTYPES}, got {dtype}")
    for m in module.modules():
        if isinstance(m, SynthesisNetwork | Discriminator):
            m.speed = dataclasses.replace(m.speed, cpu_half=dtype)
