"""Which dtype a block runs in: the configured fp16 blocks (`num_fp16_res`) use float16 on CUDA, as
NVIDIA's networks do, and, only when asked for, bfloat16 on the CPU (mixed-precision training and
previews on CPUs with bf16 units). Everything else runs in float32."""

from __future__ import annotations

import torch
from torch import nn

#: the reduced-precision dtypes a CPU block may be asked to run in
CPU_HALF_DTYPES = (torch.bfloat16,)


def block_dtype(
    use_half: bool, device: torch.device, force_fp32: bool, cpu_half: torch.dtype | None
) -> torch.dtype:
    if not use_half or force_fp32:
        return torch.float32
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and cpu_half is not None:
        return cpu_half
    return torch.float32


def set_cpu_half(module: nn.Module, dtype: torch.dtype | None) -> None:
    """Run the fp16 blocks of every synthesis network and discriminator inside `module` in `dtype`
    when on the CPU (None: float32, the default, which matches NVIDIA's CPU path)."""
    if dtype is not None and dtype not in CPU_HALF_DTYPES:
        raise ValueError(f"CPU reduced precision must be one of {CPU_HALF_DTYPES}, got {dtype}")
    for m in module.modules():
        if hasattr(m, "cpu_half"):
            m.cpu_half = dtype
