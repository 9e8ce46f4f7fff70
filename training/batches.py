"""What each step trains on: the data order, which depends only on (seed, image position), and
the per-step seeds, so that a resumed run sees what the uninterrupted run would have; the data
loader whose workers die with the trainer; copies to the device that do not stall a GPU."""

from __future__ import annotations

import functools
import os

import numpy as np
import torch

from training.distributed import DistInfo
from training.run_folder import die_with_parent


def step_seed(seed: int, step: int, salt: int) -> int:
    return (seed * 1_000_003 + step * 7919 + salt) % (2**63 - 1)


class StepSampler(torch.utils.data.Sampler):
    """Batches of dataset indices for one rank, from step `start` on; epoch e is the permutation
    RandomState(seed + e), so the order does not depend on where a run was interrupted."""

    def __init__(self, n: int, batch: int, rank: int, world: int, seed: int, start: int) -> None:
        self.n, self.batch, self.rank, self.world = n, batch, rank, world
        self.seed, self.start = seed, start

    def __iter__(self):
        per_rank = self.batch // self.world
        step = self.start
        cache: dict[int, np.ndarray] = {}
        while True:
            lo = step * self.batch + self.rank * per_rank
            out = []
            for pos in range(lo, lo + per_rank):
                epoch = pos // self.n
                if epoch not in cache:
                    cache = {
                        epoch: np.random.RandomState((self.seed + epoch) % 2**32).permutation(
                            self.n
                        )
                    }
                out.append(int(cache[epoch][pos % self.n]))
            yield out
            step += 1


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """t on `device` without stalling a GPU: a CPU tensor goes through pinned memory with a
    non-blocking copy (the caching host allocator keeps the pinned block until the copy is
    done). The DataLoader's batches are pinned already."""
    if device.type != "cuda" or t.device.type != "cpu":
        return t.to(device)
    if not t.is_pinned():
        t = t.pin_memory()
    return t.to(device, non_blocking=True)


def _worker_init(parent: int, worker_id: int) -> None:
    die_with_parent(parent)


def data_loader(
    dataset: torch.utils.data.Dataset,
    batch: int,
    dist: DistInfo,
    seed: int,
    start: int,
    workers: int,
    pin: bool,
):
    """An endless iterator over this rank's batches from step `start` on."""
    sampler = StepSampler(len(dataset), batch, dist.rank, dist.world, seed, start)
    return iter(
        torch.utils.data.DataLoader(
            dataset,
            batch_sampler=sampler,
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=pin,
            worker_init_fn=functools.partial(_worker_init, os.getpid()),
        )
    )
