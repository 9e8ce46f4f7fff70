"""torch.distributed helpers: `torchrun --nproc_per_node N` (nccl on GPUs, gloo on the CPU)."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group torchrun set up; a plain run is a world of one."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))  # before NCCL starts
    if not dist.is_initialized():
        # Rank 0 alone writes snapshots and computes --metrics (fid50k on a CPU takes hours);
        # the other ranks wait at their next collective, so the default 30 min would kill them.
        dist.init_process_group(
            backend="nccl" if device.type == "cuda" else "gloo",
            timeout=datetime.timedelta(hours=24),
        )
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def shutdown_distributed(in_step: bool = True) -> None:
    """Leave the process group, in step with the other ranks unless this rank failed (a barrier
    would then wait forever). Exiting with gloo's threads still running can abort the interpreter
    ("terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
        if in_step:
            dist.barrier()
        dist.destroy_process_group()


def all_reduce_mean(t: torch.Tensor) -> torch.Tensor:
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return t
    t = t.clone()
    dist.all_reduce(t)
    return t / dist.get_world_size()


def average_gradients(params: list[torch.nn.Parameter]) -> None:
    """Average .grad over ranks in one flat all-reduce (missing grads count as zero)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n


def broadcast_module(module: torch.nn.Module) -> None:
    """Start every rank from rank 0's weights and buffers."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    for t in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(t.data, src=0)
