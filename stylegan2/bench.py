"""Speed measurements of the generator: median milliseconds per image over repeated runs, for the
reference path beside the fast path, and an optional reduced-precision preview with its pixel error.

Used by `stylegan2 bench`. Timings are medians after warm-up; the machine may be noisy, so the
numbers worth quoting are ratios measured in the same run.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import torch

from stylegan2.networks import DEFAULT, REFERENCE, Generator

#: path name -> what it means
PATHS = {
    "reference": "plain NCHW tensors, the layout of the official implementation's CPU path",
    "fast": "channels-last on the CPU (oneDNN's fast layout); fp16 blocks on CUDA as configured",
    "bf16": "bfloat16 autocast on the CPU (a preview precision; pixel error reported)",
    "fp16": "all blocks in float16 on CUDA (a preview precision; pixel error reported)",
    "preview2": "fast path stopped at half resolution (the skip generator's partial image)",
    "preview4": "fast path stopped at quarter resolution",
}


@dataclass
class BenchRow:
    path: str
    batch: int
    ms_per_image: float  # median
    ms_min: float
    reps: int
    speedup_vs_reference: float | None = None
    max_abs_error: float | None = None  # against the fp32 reference image, in [-1, 1] units
    psnr_db: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@contextlib.contextmanager
def _path(G: Generator, path: str) -> Iterator[dict]:
    """Yields the forward kwargs of one path, inside any autocast it needs."""
    if path == "reference":
        # The official inference path: NCHW, fp32, per-sample (fused) modulated weights.
        yield {"force_fp32": True, "speed": REFERENCE}
    elif path == "fast":
        yield {"speed": DEFAULT}
    elif path == "bf16":
        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield {"force_fp32": True, "speed": DEFAULT}
    elif path in ("preview2", "preview4"):
        factor = 2 if path == "preview2" else 4
        yield {"max_resolution": max(G.img_resolution // factor, 4), "speed": DEFAULT}
    elif path == "fp16":
        with torch.autocast(G.device.type, dtype=torch.float16):
            yield {"speed": DEFAULT}
    else:
        raise ValueError(f"unknown path {path!r}")


def _time(fn: Callable[[], torch.Tensor], device: torch.device, min_time: float, min_reps: int):
    fn()  # warm-up: oneDNN primitive creation, allocator growth
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
        if len(times) >= 200:
            break
    return times


@torch.no_grad()
def bench_generator(
    G: Generator,
    batch: int = 1,
    paths: tuple[str, ...] = ("reference", "fast"),
    min_time: float = 3.0,
    min_reps: int = 3,
    seed: int = 0,
) -> list[BenchRow]:
    """Time mapping + synthesis (const noise) for each path; errors are measured against fp32."""
    device = G.device
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn([batch, G.z_dim], generator=gen).to(device)
    c = None
    if G.c_dim:
        c = torch.nn.functional.one_hot(torch.arange(batch) % G.c_dim, G.c_dim).float().to(device)
    with _path(G, "reference") as kw:
        ref_img = G(z, c, noise_mode="const", **kw).float()
    rows: list[BenchRow] = []
    for path in paths:
        with _path(G, path) as kw:

            def run(kw: dict = kw) -> torch.Tensor:
                return G(z, c, noise_mode="const", **kw)

            img = run().float()
            times = _time(run, device, min_time, min_reps)
        row = BenchRow(
            path=path,
            batch=batch,
            ms_per_image=statistics.median(times) * 1e3 / batch,
            ms_min=min(times) * 1e3 / batch,
            reps=len(times),
        )
        if path in ("bf16", "fp16"):
            err = (img - ref_img).abs()
            row.max_abs_error = float(err.max())
            mse = float(((img - ref_img) / 2).square().mean())  # images span 2 units
            row.psnr_db = float("inf") if mse == 0 else -10 * torch.log10(torch.tensor(mse)).item()
        rows.append(row)
    ref = next((r for r in rows if r.path == "reference"), None)
    if ref is not None:
        for r in rows:
            r.speedup_vs_reference = ref.ms_per_image / r.ms_per_image
    return rows
