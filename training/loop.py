"""The training loop: phases with lazy regularization and Adam corrections, EMA with ramp-up,
w-average tracking, ticks, logs, sample grids, atomic snapshots, exact resume, DDP.

Determinism: the data order is a function of (seed, image position) and every step reseeds the
RNGs from (seed, step, rank), so a resumed run continues exactly as the uninterrupted run would
have, whatever killed it. Latents are drawn for the whole global batch from a shared generator and
sliced per rank, so N processes compute what one process with the same total batch computes.
"""

from __future__ import annotations

import logging
import signal
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from stylegan2.device import cpu_has_bf16, resolve_device
from stylegan2.networks import Discriminator, Generator
from stylegan2.networks.precision import set_cpu_half
from training.batches import data_loader, step_seed, to_device
from training.dataset import ImageDataset
from training.distributed import (
    all_reduce_mean,
    average_gradients,
    broadcast_module,
    init_distributed,
    shutdown_distributed,
)
from training.loss import LossConfig, StyleGAN2Loss
from training.machine import machine
from training.options import ResolvedConfig, TrainOptions, resolve, use_mixed_precision
from training.progress import Decision, TickScheduler, truncate_stats, write_tick
from training.resume import load_into, with_history
from training.run_folder import (
    check_outdir,
    claim_run_dir,
    close_logging,
    log_changed_options,
    other_run_folders,
    release_lock,
    remove_if_only_setup,
    remove_killed_writers_temps,
    remove_temps_of_idle_runs,
    setup_logging,
    write_training_options,
)
from training.run_records import RunRecords, grid_path
from training.twin_init import zero_high_res_torgb

log = logging.getLogger("training")


@dataclass
class Phase:
    name: str  # Gmain, Greg, Dmain, Dreg
    module: torch.nn.Module
    opt: torch.optim.Optimizer
    interval: int


def train(
    opts: TrainOptions,
    max_steps: int | None = None,
    progress: bool = True,
    on_interrupt: Callable[[str], None] | None = None,
) -> Path:
    """Run (or resume) training; returns the run directory. `max_steps` stops early (tests);
    `on_interrupt` is called with the signal's name when SIGINT/SIGTERM ended the run (after
    its snapshot), so a command can exit as an interrupted one."""
    from training.metrics import check_metrics

    if opts.metrics:
        check_metrics(opts.metrics, opts.inception, opts.vgg16, load=True)  # fail now
    device = resolve_device(opts.device)
    dist = init_distributed(device)
    if device.type == "cuda" and dist.world > 1:
        device = torch.device("cuda", dist.local_rank)  # one GPU per process
    dataset = ImageDataset(opts.data, use_labels=opts.use_labels, xflip=opts.mirror)
    if opts.metrics:
        check_metrics(opts.metrics, opts.inception, opts.vgg16, num_reals=len(dataset.names))
    mixed = use_mixed_precision(opts, device.type)
    rc = resolve(
        opts, dataset.resolution, dataset.num_channels, dataset.c_dim, dist.world, mixed=mixed
    )
    lock = handler = new_folder = None
    failed = False
    try:
        if dist.is_main:
            check_outdir(opts.outdir)
            run_dir, resume, lock = claim_run_dir(opts)
            if not (resume and resume[0] is not None):
                new_folder = run_dir
        if dist.world > 1:  # every rank needs the same run dir and snapshot
            shared = [(str(run_dir), resume) if dist.is_main else None]
            torch.distributed.broadcast_object_list(shared, src=0)
            run_dir, resume = Path(shared[0][0]), shared[0][1]
        handler = setup_logging(run_dir, dist)
        return _train_in(
            opts,
            dist,
            device,
            dataset,
            rc,
            mixed,
            run_dir,
            resume,
            max_steps,
            progress,
            on_interrupt,
        )
    except BaseException:
        failed = True
        if dist.world > 1:
            shutdown_distributed(in_step=False)
        raise
    finally:
        close_logging(handler)
        if lock is not None:
            release_lock(lock)
        if failed and new_folder is not None:
            remove_if_only_setup(new_folder)


def _train_in(
    opts, dist, device, dataset, rc, mixed, run_dir, resume, max_steps, progress, on_interrupt
):
    if dist.is_main:
        for p in remove_killed_writers_temps(run_dir):
            log.info("removed %s, left by a trainer that was killed while writing", p.name)
        others = other_run_folders(opts.outdir, run_dir, resume[1] if resume else None)
        for p in remove_temps_of_idle_runs(others):
            log.info("removed %s, left by a trainer that was killed while writing", p)
    if mixed and device.type == "cpu" and not cpu_has_bf16():
        log.warning(
            "this CPU has no bf16 units: --precision mixed emulates bf16, many times slower than "
            "fp32 (about 13x on a 2-core AVX2 machine); --precision fp32 (or auto) avoids that"
        )
    if dist.is_main:
        log.info("dataset %s: %s", opts.data, dataset.report.summary())
        if resume and resume[0] is None:
            log.info("continuing from %s in a new run folder", resume[1])
    # The snapshot is loaded (and refused if it does not fit these options) before the run's
    # recorded options are replaced.
    trainer = _Trainer(opts, rc, dataset, run_dir, dist, device, resume)
    if dist.is_main:
        if resume and resume[0] is not None:
            log_changed_options(run_dir / "training_options.json", opts)
        write_training_options(run_dir, opts, rc, dist.world)
    out = trainer.run(max_steps, progress)
    if trainer.stop and on_interrupt is not None:
        on_interrupt(trainer.stop_signal)
    if dist.world > 1:
        shutdown_distributed()
    return out


class _Trainer:
    def __init__(self, opts, rc: ResolvedConfig, dataset, run_dir, dist, device, resume) -> None:
        self.opts, self.rc, self.dataset, self.run_dir = opts, rc, dataset, run_dir
        self.dist, self.device = dist, device
        torch.manual_seed(opts.seed)
        self.G = Generator(rc.G).to(device).train()
        self.D = Discriminator(rc.D).to(device).train()
        if rc.G.synthesis.normalization == "adain" and rc.G.synthesis.architecture == "skip":
            zero_high_res_torgb(self.G)
        self.G_ema = Generator(rc.G).to(device).eval().requires_grad_(False)
        self.G_ema.load_state_dict(self.G.state_dict())
        if device.type == "cpu" and rc.G.synthesis.num_fp16_res > 0:
            # G_ema stays fp32: it makes the snapshots' grids and figures.
            set_cpu_half(self.G, torch.bfloat16)
            set_cpu_half(self.D, torch.bfloat16)
        self.optimizers, self.phases = self._make_phases()
        self.loss = StyleGAN2Loss(
            self.G,
            self.D,
            LossConfig(
                r1_gamma=rc.gamma,
                pl_weight=opts.pl_weight,
                style_mixing_prob=opts.style_mixing_prob,
            ),
            all_reduce_mean=all_reduce_mean,
        )
        self.ada = None
        if opts.aug == "ada":
            from training.augment import AdaptiveP, AugmentPipe

            self.loss.augment = AugmentPipe().to(device)
            self.ada = AdaptiveP(self.loss.augment, target=opts.ada_target, kimg=opts.ada_kimg)
        self.counters = {"cur_nimg": 0, "step": 0, "tick": 0, "elapsed": 0.0, "augment_p": 0.0}
        self.machine, self.data_note = machine(), str(opts.data)
        self.records = RunRecords(opts, run_dir, device)
        if resume is not None:
            self._resume(resume[1])
        else:
            broadcast_module(self.G)
            broadcast_module(self.D)
            self.G_ema.load_state_dict(self.G.state_dict())
        self.stop = False
        self.stop_signal = ""
        self.out_of_time = False

    def _make_phases(self) -> tuple[dict[str, torch.optim.Optimizer], list[Phase]]:
        """One Adam per network, by name, and the phases that step them."""
        optimizers, phases = {}, []
        for name, module, interval in (
            ("G", self.G, self.opts.G_reg_interval),
            ("D", self.D, self.opts.D_reg_interval),
        ):
            c = interval / (interval + 1)  # lazy regularization: scale lr and betas
            # Not fused=True: fused Adam does not resume exactly (measured on torch 2.13's CPU
            # kernel: the same state gives another step after load_state_dict). On CUDA the
            # default is already the multi-tensor (foreach) path.
            opt = torch.optim.Adam(
                module.parameters(), lr=self.rc.lr * c, betas=(0.0, 0.99**c), eps=1e-8
            )
            optimizers[name] = opt
            phases.append(Phase(name + "main", module, opt, 1))
            phases.append(Phase(name + "reg", module, opt, interval))
        return optimizers, phases

    def _resume(self, path: Path) -> None:
        nets = (self.G, self.D, self.G_ema)
        snap, fresh = load_into(path, self.device, nets, self.optimizers)
        if fresh and self.dist.is_main:
            log.info("%s: no Adam moments for %s, which start afresh", path.name, "/".join(fresh))
        self.counters.update(snap["counters"])
        at = self.counters.get("cur_nimg", 0) / 1000
        self.machine = with_history(snap["card"].get("machine"), self.machine, at)
        self.data_note = with_history(snap["card"].get("dataset"), self.data_note, at)
        self.loss.pl_mean.copy_(snap["pl_mean"])
        if self.ada is not None:
            self.ada.pipe.p = float(self.counters.get("augment_p", 0.0))
        if self.dist.is_main:
            log.info("resumed from %s at %.1f kimg", path, at)
            dropped = truncate_stats(self.run_dir / "stats.jsonl", at)
            if dropped:
                log.info("stats.jsonl: removed %d rows after the snapshot", dropped)

    def _loader(self):
        return data_loader(
            self.dataset,
            self.rc.batch,
            self.dist,
            self.opts.seed,
            self.counters["step"],
            self.opts.num_workers,
            pin=self.device.type == "cuda",
        )

    def _draws(self, step: int) -> tuple[list[torch.Tensor], list, torch.Tensor | None]:
        """Latents and style-mixing draws for every phase, from the step's shared generator."""
        gen = torch.Generator().manual_seed(step_seed(self.opts.seed, step, 0))
        b, per = self.rc.batch, self.rc.batch // self.dist.world
        sl = slice(self.dist.rank * per, (self.dist.rank + 1) * per)
        zs, draws = [], []
        num_ws = self.G.num_ws
        for _ in self.phases:
            z = torch.randn([b, self.G.z_dim], generator=gen)[sl]
            u = float(torch.rand([], generator=gen))
            cutoff = int(torch.randint(1, num_ws, [], generator=gen)) if num_ws > 1 else num_ws
            z2 = torch.randn([b, self.G.z_dim], generator=gen)[sl]
            zs += [z, z2]
            draws.append((u, cutoff))
        # One copy for all of them, from pinned memory and without waiting: a plain .to(cuda)
        # of a CPU tensor blocks until the GPU has done everything queued before it.
        moved = to_device(torch.stack(zs), self.device).unbind(0)
        mixes = [(u, cutoff, moved[2 * i + 1]) for i, (u, cutoff) in enumerate(draws)]
        gen_c = None
        if self.dataset.c_dim:
            idx = torch.randint(len(self.dataset.names), [b], generator=gen)[sl]
            gen_c = to_device(torch.from_numpy(self.dataset.labels[idx.numpy()]), self.device)
        return list(moved[0::2]), mixes, gen_c

    def _step(self, real_img: torch.Tensor, real_c: torch.Tensor | None, stats) -> None:
        step = self.counters["step"]
        torch.manual_seed(step_seed(self.opts.seed, step, 1 + self.dist.rank))
        real = to_device(real_img, self.device).to(torch.float32) / 127.5 - 1
        real_c = to_device(real_c, self.device) if self.dataset.c_dim else None
        zs, mixes, gen_c = self._draws(step)
        for phase, z, mix in zip(self.phases, zs, mixes, strict=True):
            if step % phase.interval != 0:
                continue
            if phase.name.endswith("reg") and (
                (phase.name == "Greg" and self.opts.pl_weight == 0)
                or (phase.name == "Dreg" and self.rc.gamma == 0)
            ):
                continue
            self.G.requires_grad_(phase.module is self.G)
            self.D.requires_grad_(phase.module is self.D)
            phase.opt.zero_grad(set_to_none=True)
            phase_stats = self.loss.accumulate_gradients(
                phase.name, real, real_c, z, gen_c, mix, gain=phase.interval
            )
            for k, v in phase_stats.items():
                stats[k].append(v)
            if self.ada is not None and "Loss/signs/real" in phase_stats:
                self.ada.observe(phase_stats["Loss/signs/real"])
            params = [p for p in phase.module.parameters()]
            average_gradients(params)
            for p in params:
                if p.grad is not None:
                    torch.nan_to_num(p.grad, nan=0, posinf=1e5, neginf=-1e5, out=p.grad)
            phase.opt.step()
        self.G.requires_grad_(False)
        self.D.requires_grad_(False)
        with torch.no_grad():
            # Mean of per-rank lerps == lerp of the global batch mean: ranks stay in step.
            self.G.mapping.w_avg.copy_(all_reduce_mean(self.G.mapping.w_avg))
            self._update_ema()
        if self.ada is not None:
            self.ada.maybe_adjust(step, self.rc.batch, all_reduce_mean)
            self.counters["augment_p"] = self.ada.pipe.p
            stats["augment_p"].append(self.counters["augment_p"])
        self.counters["cur_nimg"] += self.rc.batch
        self.counters["step"] += 1

    def _update_ema(self) -> None:
        ema_nimg = self.rc.ema_kimg * 1000
        if self.rc.ema_rampup is not None:
            ema_nimg = min(ema_nimg, self.counters["cur_nimg"] * self.rc.ema_rampup)
        beta = 0.5 ** (self.rc.batch / max(ema_nimg, 1e-8))
        # One foreach kernel per dtype, not two per parameter: on a GPU at 64 px the step is
        # bound by kernel launches.
        torch._foreach_lerp_(list(self.G_ema.parameters()), list(self.G.parameters()), 1 - beta)
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
            b_ema.copy_(b)

    def run(self, max_steps: int | None, progress: bool) -> Path:
        main = self.dist.is_main
        ticks = TickScheduler(self.opts, self.counters, main, progress and main)
        old_handlers = {}
        if main:  # SIGTERM (`timeout`, a job scheduler, a closed session) is a Ctrl-C too
            for sig in (signal.SIGINT, signal.SIGTERM):
                old_handlers[sig] = signal.signal(sig, self._on_signal)
        loader = self._loader()
        stats: dict[str, list[float]] = defaultdict(list)
        total_nimg = int(self.opts.kimg * 1000)
        steps_done = 0
        deadline = None
        if self.opts.max_minutes is not None:
            deadline = time.monotonic() + 60 * self.opts.max_minutes
        try:
            self._carry_out(ticks.begin(), ticks)
            while self.counters["cur_nimg"] < total_nimg:
                real_img, real_c = next(loader)
                self._step(real_img, real_c, stats)
                steps_done += 1
                done = (
                    self.counters["cur_nimg"] >= total_nimg
                    or (max_steps is not None and steps_done >= max_steps)
                    or self._out_of_time(deadline)
                )
                decision = ticks.after_step(stats, done=done, stop=self.stop)
                if decision.record is not None:
                    stats = defaultdict(list)
                self._carry_out(decision, ticks)
                if done or self.stop:
                    break
            if steps_done == 0:  # the last tick writes the final snapshot; here none ran
                self.write_snapshot()
        finally:
            ticks.close()
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
        if self.stop and main:
            log.info(
                "interrupted (%s): snapshot written, resume with --resume latest",
                self.stop_signal,
            )
        return self.run_dir

    def _carry_out(self, d: Decision, ticks: TickScheduler) -> None:
        """What the tick scheduler decided: the stats row, grid and snapshot (main process)."""
        if self.dist.is_main:
            for note in d.notes:
                log.info("%s", note)
            if d.record is not None:
                record = dict(d.record)
                usage = self.records.usage(self.G_ema) if d.usage else {}
                if usage:
                    record["resolution_usage"] = {str(r): v for r, v in usage.items()}
                write_tick(self.run_dir, record)
            if d.grid is not None:
                nimg = int(self.counters["cur_nimg"])
                self.records.grid(self.G_ema, grid_path(self.run_dir, nimg, d.grid == "init"))
            if d.snapshot:
                self.write_snapshot(d.why)
        if d.work:
            ticks.carried_out()

    def _out_of_time(self, deadline: float | None) -> bool:
        """--max-minutes; every rank takes rank 0's view, or DDP ranks would part ways."""
        if deadline is None:
            return False
        late = time.monotonic() >= deadline
        if self.dist.world > 1:  # a device tensor only here: reading one back stalls the GPU
            flag = torch.tensor(float(late), device=self.device)
            torch.distributed.broadcast(flag, src=0)
            late = bool(flag.item())
        self.out_of_time = late
        return self.out_of_time

    def _on_signal(self, signum, frame) -> None:
        if self.stop:  # a second Ctrl-C (or SIGTERM) leaves at once
            raise KeyboardInterrupt
        self.stop = True
        self.stop_signal = signal.Signals(signum).name

    def write_snapshot(self, why: str | None = None) -> Path | None:
        if not self.dist.is_main:
            return None
        return self.records.snapshot(
            (self.G, self.D, self.G_ema),
            self.optimizers,
            self.counters,
            self.loss.pl_mean,
            card={
                "dataset": self.data_note,
                "options": self.opts.as_dict(),
                "machine": self.machine,
            },
            why=why,
            # Ctrl-C, --max-minutes and the safety snapshots by wall time should not wait for
            # an evaluation (hours on a CPU).
            evaluate=not self.stop and not self.out_of_time and why is None,
        )
