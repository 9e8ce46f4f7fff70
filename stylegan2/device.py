"""Choosing the torch device from a user's `auto | cpu | cuda[:N]`, and whether the CPU computes
bf16 natively."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where it is used: the name check below needs none
    import torch


class DeviceError(ValueError):
    pass


def device_name_problem(name: str) -> str | None:
    """Why `name` is not a device this program takes (auto, cpu, cuda, cuda:N), or None; no
    torch needed, so a command line is checked before the seconds torch takes to load."""
    if re.fullmatch(r"auto|cpu|cuda(:\d+)?", name.strip().lower()):
        return None
    return f"unknown device {name!r}; use auto, cpu or cuda"


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """'auto' picks CUDA when available, else the CPU; asking for CUDA without one is an error."""
    import torch

    if isinstance(name, torch.device):
        return name
    name = (name or "auto").strip().lower()
    problem = device_name_problem(name)
    if problem:
        raise DeviceError(problem)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError("CUDA was requested but no CUDA device is available")
    return torch.device(name)


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
        import torch

        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
