"""Training options: one frozen dataclass whose fields carry their command-line flag, help and
choices (`stylegan2-train`'s parser is generated from it) and check themselves on creation; and
how options resolve to networks and hyper-parameters through the named presets."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from stylegan2.config import (
    MAX_SEED,
    DiscriminatorConfig,
    GeneratorConfig,
    MappingConfig,
    SynthesisConfig,
)
from stylegan2.presets import PRESETS, Preset

CFGS = ("auto", *PRESETS)
PRECISIONS = ("auto", "fp32", "mixed")
ARCHITECTURES = ("skip", "resnet", "orig")


def option(
    default: Any,
    flag: str,
    help: str,
    choices: tuple[str, ...] | None = None,
    shown: str | None = None,
) -> Any:
    """A TrainOptions field with its flag. `shown`: how --help words the default where the value
    itself says little (None meaning "the cfg's")."""
    meta = {"flag": flag, "help": help, "choices": choices, "shown": shown}
    return field(default=default, metadata=meta)


def required(flag: str, help: str) -> Any:
    return field(metadata={"flag": flag, "help": help, "choices": None, "shown": None})


@dataclass(frozen=True)
class TrainOptions:
    data: str = required("--data", "folder of images or dataset zip")
    outdir: str = required("--outdir", "where run folders are created")
    cfg: str = option(
        "auto", "--cfg", "named configuration (auto: from the resolution, as NVIDIA's)", CFGS
    )
    norm: str = option(
        "demod", "--norm", "demod: StyleGAN2; adain: its StyleGAN1-style twin", ("demod", "adain")
    )
    arch: str = option("skip", "--arch", "generator architecture", ARCHITECTURES)
    d_arch: str = option("resnet", "--d-arch", "discriminator architecture", ARCHITECTURES)
    batch: int | None = option(None, "--batch", "total batch over all processes", shown="the cfg's")
    gamma: float | None = option(None, "--gamma", "R1 weight", shown="the cfg's")
    kimg: float = option(25000, "--kimg", "training length in kimg")
    tick_kimg: float = option(4.0, "--tick", "kimg per progress tick")
    snap: int = option(50, "--snap", "ticks between snapshots")
    keep: int = option(0, "--keep", "keep only this many newest snapshots in the run (0: all)")
    mirror: bool = option(False, "--mirror", "x-flip augmentation")
    aug: str = option(
        "none",
        "--aug",
        "ada: adaptive discriminator augmentation (small datasets)",
        ("ada", "none"),
    )
    ada_target: float = option(0.6, "--target", "ADA target for E[sign(D(real))]")
    ada_kimg: float = option(
        500,
        "--ada-kimg",
        "ADA speed: kimg for p to move by 1 (500 as in stylegan2-ada; 100 reacts faster, for "
        "short runs on small datasets)",
    )
    seed: int = option(0, "--seed", "random seed (data order, latents, initial weights)")
    device: str = option("auto", "--device", "auto, cpu, cuda or cuda:N")
    lr: float | None = option(None, "--lr", "Adam learning rate", shown="the cfg's")
    use_labels: bool = option(False, "--labels", "conditional training on dataset.json")
    resume: str | None = option(
        None,
        "--resume",
        "snapshot path, or 'latest': the newest run of this data, cfg and norm",
        shown="a new run",
    )
    channel_max: int | None = option(
        None, "--channel-max", "most channels of any layer", shown="the cfg's"
    )
    map_layers: int | None = option(None, "--map", "mapping layers", shown="the cfg's")
    pl_weight: float = option(
        2.0, "--pl-weight", "path-length regularization weight (0: off, as in StyleGAN1)"
    )
    style_mixing_prob: float = option(
        0.9, "--style-mixing", "probability of mixing two latents in a training image"
    )
    G_reg_interval: int = option(4, "--g-reg-interval", "steps between path-length penalties")
    D_reg_interval: int = option(16, "--d-reg-interval", "steps between R1 penalties")
    num_workers: int = option(2, "--workers", "data loading processes")
    metrics: tuple[str, ...] = option(
        (),
        "--metrics",
        "computed at every snapshot on G_ema: comma-separated fid<N>k[_full], pr<N>k3[_full] "
        "(e.g. fid50k_full,pr50k3; need --inception / --vgg16) or pxpr<N>k3[_full] "
        "(in 32x32 pixels, no weights)",
        shown="none",
    )
    inception: str | None = option(
        None,
        "--inception",
        "FID detector: inception-2015-12-05.pt or pytorch-fid .pth",
        shown="none",
    )
    vgg16: str | None = option(
        None, "--vgg16", "precision/recall detector: vgg16.pt or torchvision's .pth", shown="none"
    )
    max_minutes: float | None = option(
        None,
        "--max-minutes",
        "stop after this much wall time with a snapshot (resume later with --resume latest)",
        shown="no limit",
    )
    precision: str = option(
        "auto",
        "--precision",
        "mixed: the 4 highest resolutions in fp16 on CUDA / bf16 on the CPU, conv outputs "
        "clamped to +-256 (NVIDIA's setting); auto: mixed on CUDA, fp32 on the CPU",
        PRECISIONS,
    )
    image_snapshot_ticks: int | None = option(
        None, "--image-snap", "ticks between sample grids", shown="--snap's"
    )
    snap_minutes: float = option(
        30.0,
        "--snap-minutes",
        "also write a snapshot when this many minutes have passed since the last (0: off)",
    )
    # Set together by --test-equivalence, so that N processes compute what one does.
    mbstd_group: int | None = option(
        None, "--mbstd-group", "minibatch-std group size", shown="the cfg's, at most the batch"
    )
    use_noise: bool = option(True, "--no-noise", "train without per-pixel noise inputs")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ValueError(
                    f"unknown {f.metadata['flag']} {value!r}; choose from {', '.join(choices)}"
                )
        _at_least(self, "batch", 1)
        _at_least(self, "channel_max", 1)
        _at_least(self, "map_layers", 1)
        _at_least(self, "snap", 1)
        _at_least(self, "image_snapshot_ticks", 1)
        _at_least(self, "G_reg_interval", 1)
        _at_least(self, "D_reg_interval", 1)
        _at_least(self, "num_workers", 0)
        _at_least(self, "mbstd_group", 1)
        # Far above any real setting, low enough that a typo is refused before networks of
        # terabytes are built.
        _at_most(self, "batch", 65536)
        _at_most(self, "channel_max", 8192)
        _at_most(self, "map_layers", 64)
        _at_most(self, "num_workers", 256)
        if self.keep < 0:
            raise ValueError(f"--keep must be 0 (all) or a positive count, got {self.keep}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"--seed must lie in 0 ... 2^32-1, got {self.seed}")
        if not self.ada_kimg > 0:  # 0 divides by zero at the first adjustment; < 0 runs backwards
            raise ValueError(f"--ada-kimg must be positive, got {self.ada_kimg}")
        if not 0 < self.ada_target < 1:
            raise ValueError(f"--target (ADA) must lie in (0, 1), got {self.ada_target}")
        if not 0 <= self.style_mixing_prob <= 1:
            raise ValueError(f"--style-mixing must lie in [0, 1], got {self.style_mixing_prob}")
        _positive(self, "tick_kimg")
        _positive(self, "lr")
        _not_negative(self, "kimg")
        _not_negative(self, "gamma")
        _not_negative(self, "pl_weight")
        _not_negative(self, "max_minutes")
        _not_negative(self, "snap_minutes")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def flag_of(name: str) -> str:
    return TrainOptions.__dataclass_fields__[name].metadata["flag"]


def _at_least(opts: TrainOptions, name: str, low: int) -> None:
    value = getattr(opts, name)
    if value is not None and value < low:
        word = "positive" if low == 1 else f"at least {low}"
        raise ValueError(f"{flag_of(name)} must be {word}, got {value}")


def _at_most(opts: TrainOptions, name: str, high: int) -> None:
    value = getattr(opts, name)
    if value is not None and value > high:
        raise ValueError(f"{flag_of(name)} must be at most {high}, got {value}")


def _positive(opts: TrainOptions, name: str) -> None:
    value = getattr(opts, name)
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{flag_of(name)} must be a finite number above 0, got {value}")


def _not_negative(opts: TrainOptions, name: str) -> None:
    value = getattr(opts, name)
    if value is not None and not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{flag_of(name)} must be a finite number, 0 or more, got {value}")


@dataclass(frozen=True)
class ResolvedConfig:
    G: GeneratorConfig
    D: DiscriminatorConfig
    batch: int
    lr: float
    gamma: float
    ema_kimg: float
    ema_rampup: float | None


#: tRGB output gain that starts an AdaIN skip generator at a demod one's image scale (std 1.45
#: against 4.8 at 1, small cfg, 64 px); see SynthesisConfig.torgb_gain.
ADAIN_TORGB_GAIN = 0.3


def use_mixed_precision(opts: TrainOptions, device_type: str) -> bool:
    """'auto' follows NVIDIA's trainer on CUDA (mixed) and its CPU path elsewhere (fp32)."""
    return opts.precision == "mixed" or (opts.precision == "auto" and device_type == "cuda")


def auto_preset(resolution: int, world: int) -> Preset:
    """`--cfg auto`: NVIDIA's rules in stylegan2-ada-pytorch's train.py (cfg 'auto')."""
    batch = max(min(world * min(4096 // resolution, 32), 64), world)
    return Preset(
        resolution=resolution,
        channel_base=32768 if resolution >= 512 else 16384,
        channel_max=512,
        map_layers=2,
        batch=batch,
        mbstd_group=min(batch // world, 4),
        lr=0.002 if resolution >= 1024 else 0.0025,
        gamma=0.0002 * resolution**2 / batch,
        ema_kimg=batch * 10 / 32,
        ema_rampup=0.05,
    )


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
    p = auto_preset(resolution, world) if opts.cfg == "auto" else PRESETS[opts.cfg]
    batch = opts.batch if opts.batch is not None else p.batch
    if batch % world:
        raise ValueError(f"--batch {batch} is not divisible by the {world} processes")
    channel_max = opts.channel_max or p.channel_max
    map_layers = opts.map_layers or p.map_layers
    mbstd = opts.mbstd_group or min(p.mbstd_group, batch // world)
    per_process = batch // world
    if per_process % min(mbstd, per_process):
        raise ValueError(
            f"--batch {batch}: {per_process} images per process do not split into "
            f"minibatch-std groups of {mbstd}; choose a multiple of {mbstd} or set --mbstd-group"
        )
    G = GeneratorConfig(
        z_dim=512,
        c_dim=c_dim,
        w_dim=512,
        img_resolution=resolution,
        img_channels=img_channels,
        mapping=MappingConfig(num_layers=map_layers),
        synthesis=SynthesisConfig(
            channel_base=p.channel_base,
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
        channel_base=p.channel_base,
        channel_max=channel_max,
        mbstd_group_size=mbstd,
        num_fp16_res=4 if mixed else 0,
        conv_clamp=256 if mixed else None,
    )
    return ResolvedConfig(
        G=G,
        D=D,
        batch=batch,
        lr=opts.lr or p.lr,
        gamma=opts.gamma if opts.gamma is not None else p.gamma,
        ema_kimg=p.ema_kimg,
        ema_rampup=p.ema_rampup,
    )
