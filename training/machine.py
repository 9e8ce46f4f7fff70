"""One line naming the machine a run trained on or a card was measured on: CPU model, torch
threads, GPU, torch version and OS (for run records and model cards)."""

from __future__ import annotations

import platform
from pathlib import Path

import torch


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    cpus = torch.get_num_threads()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    threads = f"{cpus} thread{'s' if cpus != 1 else ''}"
    return f"{_cpu_name()}, {threads}, {gpu}; torch {torch.__version__}, {platform.system()}"
