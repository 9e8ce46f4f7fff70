"""Choosing the torch device from a user's `auto | cpu | cuda[:N]`."""

from __future__ import annotations

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
