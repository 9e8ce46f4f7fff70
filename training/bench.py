"""`stylegan2-train --bench`: training throughput per phase (img/s), measured on random data with
the run's real networks and loss, so that it can be compared with other trainers at equal config."""

from __future__ import annotations

import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from stylegan2.networks import Discriminator, Generator
from stylegan2.networks.precision import set_cpu_half
from training.loss import LossConfig, StyleGAN2Loss
from training.options import ResolvedConfig


def bench_training(
    rc: ResolvedConfig,
    device: torch.device,
    reps: int = 5,
    reg_intervals: tuple[int, int] = (4, 16),
    count_flops: bool = True,
) -> dict[str, float]:
    """Median seconds per call of each phase, and the img/s of a full step with lazy
    regularization amortised over its intervals; with `count_flops`, also the arithmetic per
    image and the rate the step achieves."""
    G = Generator(rc.G).to(device).train()
    D = Discriminator(rc.D).to(device).train()
    if device.type == "cpu" and rc.G.synthesis.num_fp16_res > 0:
        set_cpu_half(G, torch.bfloat16)
        set_cpu_half(D, torch.bfloat16)
    loss = StyleGAN2Loss(G, D, LossConfig(r1_gamma=rc.gamma))
    n = rc.batch
    real = torch.randn(
        n, rc.G.img_channels, rc.G.img_resolution, rc.G.img_resolution, device=device
    )
    c = None
    if rc.G.c_dim:
        c = torch.nn.functional.one_hot(torch.arange(n) % rc.G.c_dim, rc.G.c_dim).float().to(device)
    times: dict[str, float] = {}
    gflop: dict[str, float] = {}

    def call(phase: str) -> None:
        z = torch.randn(n, rc.G.z_dim, device=device)
        mix = (0.5, max(G.num_ws // 2, 1), torch.randn(n, rc.G.z_dim, device=device))
        G.requires_grad_(phase[0] == "G")
        D.requires_grad_(phase[0] == "D")
        loss.accumulate_gradients(phase, real, c, z, c, mix, gain=1)
        G.zero_grad(set_to_none=True)
        D.zero_grad(set_to_none=True)

    for phase in ("Gmain", "Greg", "Dmain", "Dreg"):
        samples = []
        for i in range(reps + 1):
            t0 = time.perf_counter()
            call(phase)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if i > 0:  # the first call warms up
                samples.append(time.perf_counter() - t0)
        times[phase] = statistics.median(samples)
        if count_flops and phase != "Dreg":  # (the counter cannot follow R1's autograd.grad)
            counter = FlopCounterMode(display=False)
            with counter:
                call(phase)
            gflop[phase] = counter.get_total_flops() / 1e9
    g_int, d_int = reg_intervals
    step = times["Gmain"] + times["Dmain"] + times["Greg"] / g_int + times["Dreg"] / d_int
    res = {**{f"{k}_sec": v for k, v in times.items()}, "img_per_sec": n / step}
    if gflop:
        # Arithmetic of the step without R1 (a lower bound on the work): divided by the
        # machine's convolution throughput it bounds the reachable img/s from above.
        work = gflop["Gmain"] + gflop["Dmain"] + gflop["Greg"] / g_int
        res["gflop_per_img_excl_r1"] = work / n
        res["gflop_per_sec_excl_r1"] = work / (step - times["Dreg"] / d_int)
    return res
