"""Training options and the named configurations they resolve to (SPEC §5.2)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from stylegan2.config import DiscriminatorConfig, GeneratorConfig, MappingConfig, SynthesisConfig

CFGS = ("auto", "small", "paper256", "paper512", "paper1024", "stylegan2")

#: cfg -> (batch, mbstd group, channel_base, lr, gamma, ema_kimg, ema_rampup, mapping layers)
_SPECS: dict[str, tuple[int, int, int, float, float, float, float | None, int]] = {
    "small": (16, 4, 4096, 0.0025, 0.05, 5.0, 0.05, 2),  # the 64 px net of the speed targets
    "paper256": (64, 8, 16384, 0.0025, 1.0, 20.0, None, 8),
    "paper512": (64, 8, 32768, 0.0025, 0.5, 20.0, None, 8),
    "paper1024": (32, 4, 32768, 0.002, 2.0, 10.0, None, 8),
    "stylegan2": (32, 4, 32768, 0.002, 10.0, 10.0, None, 8),
}


@dataclass(frozen=True)
class TrainOptions:
    data: str
    outdir: str
    cfg: str = "auto"
    norm: str = "demod"  # 'adain' trains the config-A twin
    arch: str = "skip"  # generator architecture
    d_arch: str = "resnet"
    batch: int | None = None  # total over all ranks; None -> the cfg's
    gamma: float | None = None
    kimg: float = 25000
    tick_kimg: float = 4.0
    snap: int = 50  # ticks between snapshots
    keep: int = 0  # the newest snapshots a run folder keeps (0: all)
    mirror: bool = False
    aug: str = "none"  # 'ada': adaptive discriminator augmentation
    ada_target: float = 0.6
    ada_kimg: float = 500  # kimg for p to move by 1 (StyleGAN3's trainer uses 100)
    seed: int = 0
    device: str = "auto"
    lr: float | None = None
    use_labels: bool = False
    resume: str | None = None
    channel_max: int | None = None
    map_layers: int | None = None
    pl_weight: float = 2.0
    style_mixing_prob: float = 0.9
    G_reg_interval: int = 4
    D_reg_interval: int = 16
    num_workers: int = 2
    metrics: tuple[str, ...] = ()  # computed at every snapshot, e.g. ('fid50k_full',)
    inception: str | None = None  # detector weights for FID
    vgg16: str | None = None  # detector weights for precision/recall
    max_minutes: float | None = None  # stop (with a snapshot) after this much wall time
    precision: str = "auto"  # 'mixed': fp16 (CUDA) / bf16 (CPU) top blocks; 'auto': mixed on CUDA
    image_snapshot_ticks: int | None = None  # default: snap
    # Test hooks: make distributed results comparable with one process.
    mbstd_group: int | None = None
    use_noise: bool = True

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ResolvedConfig:
    G: GeneratorConfig
    D: DiscriminatorConfig
    batch: int
    lr: float
    gamma: float
    ema_kimg: float
    ema_rampup: float | None


PRECISIONS = ("auto", "fp32", "mixed")
#: tRGB output gain that starts an AdaIN skip generator at a demod one's image scale (std 1.45
#: against 4.8 at 1, small cfg, 64 px); see SynthesisConfig.torgb_gain.
ADAIN_TORGB_GAIN = 0.3


def use_mixed_precision(opts: TrainOptions, device_type: str) -> bool:
    """'auto' follows NVIDIA's trainer on CUDA (mixed) and its CPU path elsewhere (fp32)."""
    if opts.precision not in PRECISIONS:
        raise ValueError(f"unknown --precision {opts.precision!r}; choose from {PRECISIONS}")
    return opts.precision == "mixed" or (opts.precision == "auto" and device_type == "cuda")


def resolve(
    opts: TrainOptions,
    resolution: int,
    img_channels: int,
    c_dim: int,
    world: int = 1,
    mixed: bool = False,
) -> ResolvedConfig:
    """The networks and hyper-parameters of a run. `mixed`: the 4 highest resolutions of G and
    D run in reduced precision with conv outputs clamped to +-256, as NVIDIA's configs do."""
    if opts.cfg not in CFGS:
        raise ValueError(f"unknown --cfg {opts.cfg!r}; choose from {', '.join(CFGS)}")
    if not opts.ada_kimg > 0:  # 0 divides by zero at the first adjustment; < 0 runs backwards
        raise ValueError(f"--ada-kimg must be positive, got {opts.ada_kimg}")
    if opts.keep < 0:
        raise ValueError(f"--keep must be 0 (all) or a positive count, got {opts.keep}")
    if not 0 < opts.ada_target < 1:
        raise ValueError(f"--target (ADA) must lie in (0, 1), got {opts.ada_target}")
    if opts.cfg == "auto":
        batch = max(min(world * min(4096 // resolution, 32), 64), world)
        mbstd = min(batch // world, 4)
        channel_base = 32768 if resolution >= 512 else 16384
        lr = 0.002 if resolution >= 1024 else 0.0025
        gamma = 0.0002 * resolution**2 / batch
        ema_kimg, ema_rampup, map_layers = batch * 10 / 32, 0.05, 2
        channel_max = 512
    else:
        batch, mbstd, channel_base, lr, gamma, ema_kimg, ema_rampup, map_layers = _SPECS[opts.cfg]
        channel_max = 256 if opts.cfg == "small" else 512
    if opts.batch is not None:
        batch = opts.batch
    if batch % world:
        raise ValueError(f"--batch {batch} is not divisible by the {world} processes")
    channel_max = opts.channel_max or channel_max
    map_layers = opts.map_layers or map_layers
    mbstd = opts.mbstd_group or min(mbstd, batch // world)
    G = GeneratorConfig(
        z_dim=512,
        c_dim=c_dim,
        w_dim=512,
        img_resolution=resolution,
        img_channels=img_channels,
        mapping=MappingConfig(num_layers=map_layers),
        synthesis=SynthesisConfig(
            channel_base=channel_base,
            channel_max=channel_max,
            architecture=opts.arch,  # type: ignore[arg-type]
            normalization=opts.norm,  # type: ignore[arg-type]
            # AdaIN features are ~3x demodulated ones; each skip tRGB output adds them up.
            torgb_gain=ADAIN_TORGB_GAIN if opts.norm == "adain" and opts.arch == "skip" else 1.0,
            use_noise=opts.use_noise,
            num_fp16_res=4 if mixed else 0,
            conv_clamp=256 if mixed else None,
        ),
    )
    D = DiscriminatorConfig(
        c_dim=c_dim,
        img_resolution=resolution,
        img_channels=img_channels,
        architecture=opts.d_arch,  # type: ignore[arg-type]
        channel_base=channel_base,
        channel_max=channel_max,
        mbstd_group_size=mbstd,
        num_fp16_res=4 if mixed else 0,
        conv_clamp=256 if mixed else None,
    )
    return ResolvedConfig(
        G=G,
        D=D,
        batch=batch,
        lr=opts.lr or lr,
        gamma=opts.gamma if opts.gamma is not None else gamma,
        ema_kimg=ema_kimg,
        ema_rampup=ema_rampup,
    )
