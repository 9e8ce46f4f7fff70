"""Choosing the torch device from a user's `auto | cpu | cuda[:N]`, and whether the CPU computes
bf16 natively."""

from __future__ import annotations

import os

import torch


class DeviceError(ValueError):
    pass


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """'auto' picks CUDA when available, else the CPU; asking for CUDA without one is an error."""
    if isinstance(name, torch.device):
        return name
    name = (name or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError("CUDA was requested but no CUDA device is available")
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    raise DeviceError(f"unknown device {name!r}; use auto, cpu or cuda")


def memory_limit() -> int:
    """Bytes one piece of work may plan to hold at once: half the machine's memory (4 GiB if
    unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 4 * 1024**3


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX): elsewhere bf16 is emulated
    and slower than fp32. Linux lists the units in /proc/cpuinfo; other systems ask oneDNN,
    which also says yes for AVX-512 CPUs that emulate it."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
