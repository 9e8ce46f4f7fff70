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


@dataclass(frozen=True)
class Bounds:
    """The values a TrainOptions field accepts: `low` and `high` (None: unbounded), each itself
    refused when open; a float must also be finite. `words` replaces the generated wording of
    what the value must do ("be ...", "lie in ...")."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    words: str | None = None

    def problem(self, value: Any) -> str | None:
        """'must ...' for a value outside, or None (None, the field's "unset", is inside)."""
        if value is None:
            return None
        low, high = self.low, self.high
        too_low = low is not None and (value <= low if self.open_low else value < low)
        too_high = high is not None and (value >= high if self.open_high else value > high)
        is_float = isinstance(value, float)
        if not (too_low or too_high or (is_float and not math.isfinite(value))):
            return None
        if self.words:
            return f"must {self.words}"
        if is_float and low is not None and high is not None:
            left, right = "(" if self.open_low else "[", ")" if self.open_high else "]"
            return f"must lie in {left}{low:g}, {high:g}{right}"
        if is_float and low is not None:
            if self.open_low:
                return f"must be a finite number above {low:g}"
            return f"must be a finite number, {low:g} or more"
        if too_high or low is None:
            return f"must be at most {high:g}"
        return "must be positive" if low == 1 else f"must be at least {low:g}"


def option(
    default: Any,
    flag: str,
    help: str,
    choices: tuple[str, ...] | None = None,
    shown: str | None = None,
    bounds: Bounds | None = None,
) -> Any:
    """A TrainOptions field with its flag. `shown`: how --help words the default where the value
    itself says little (None meaning "the cfg's"); `bounds`: the values it accepts."""
    meta = {"flag": flag, "help": help, "choices": choices, "shown": shown, "bounds": bounds}
    return field(default=default, metadata=meta)


def required(flag: str, help: str) -> Any:
    meta = {"flag": flag, "help": help, "choices": None, "shown": None, "bounds": None}
    return field(metadata=meta)


#: the usual bounds: a count from 1, a float above 0, a number from 0
AT_LEAST_ONE = Bounds(low=1)
POSITIVE = Bounds(low=0, open_low=True)
NOT_NEGATIVE = Bounds(low=0)


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
    # Upper bounds of sizes: far above any real setting, low enough that a typo is refused
    # before networks of terabytes are built.
    batch: int | None = option(
        None,
        "--batch",
        "total batch over all processes",
        shown="the cfg's",
        bounds=Bounds(1, 65536),
    )
    gamma: float | None = option(
        None, "--gamma", "R1 weight", shown="the cfg's", bounds=NOT_NEGATIVE
    )
    kimg: float = option(25000, "--kimg", "training length in kimg", bounds=NOT_NEGATIVE)
    tick_kimg: float = option(4.0, "--tick", "kimg per progress tick", bounds=POSITIVE)
    snap: int = option(50, "--snap", "ticks between snapshots", bounds=AT_LEAST_ONE)
    keep: int = option(
        0,
        "--keep",
        "keep only this many newest snapshots in the run (0: all)",
        bounds=Bounds(low=0, words="be 0 (all) or a positive count"),
    )
    mirror: bool = option(False, "--mirror", "x-flip augmentation")
    aug: str = option(
        "none",
        "--aug",
        "ada: adaptive discriminator augmentation (small datasets)",
        ("ada", "none"),
    )
    ada_target: float = option(
        0.6,
        "--target",
        "ADA target for E[sign(D(real))]",
        bounds=Bounds(0, 1, open_low=True, open_high=True, words="lie in (0, 1) (ADA's target)"),
    )
    ada_kimg: float = option(
        500,
        "--ada-kimg",
        "ADA speed: kimg for p to move by 1 (500 as in stylegan2-ada; 100 reacts faster, for "
        "short runs on small datasets)",
        bounds=POSITIVE,  # 0 divides by zero at the first adjustment; < 0 runs backwards
    )
    seed: int = option(
        0,
        "--seed",
        "random seed (data order, latents, initial weights)",
        bounds=Bounds(0, MAX_SEED, words="lie in 0 ... 2^32-1"),
    )
    device: str = option("auto", "--device", "auto, cpu, cuda or cuda:N")
    lr: float | None = option(
        None, "--lr", "Adam learning rate", shown="the cfg's", bounds=POSITIVE
    )
    use_labels: bool = option(False, "--labels", "conditional training on dataset.json")
    resume: str | None = option(
        None,
        "--resume",
        "snapshot path, a run folder (its newest snapshot), or 'latest': the newest run of this "
        "data, cfg and norm",
        shown="a new run",
    )
    channel_max: int | None = option(
        None,
        "--channel-max",
        "most channels of any layer",
        shown="the cfg's",
        bounds=Bounds(1, 8192),
    )
    map_layers: int | None = option(
        None, "--map", "mapping layers", shown="the cfg's", bounds=Bounds(1, 64)
    )
    pl_weight: float = option(
        2.0,
        "--pl-weight",
        "path-length regularization weight (0: off, as in StyleGAN1)",
        bounds=NOT_NEGATIVE,
    )
    style_mixing_prob: float = option(
        0.9,
        "--style-mixing",
        "probability of mixing two latents in a training image",
        bounds=Bounds(0, 1),
    )
    G_reg_interval: int = option(
        4, "--g-reg-interval", "steps between path-length penalties", bounds=AT_LEAST_ONE
    )
    D_reg_interval: int = option(
        16, "--d-reg-interval", "steps between R1 penalties", bounds=AT_LEAST_ONE
    )
    num_workers: int = option(2, "--workers", "data loading processes", bounds=Bounds(0, 256))
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
        bounds=NOT_NEGATIVE,
    )
    precision: str = option(
        "auto",
        "--precision",
        "mixed: the 4 highest resolutions in fp16 on CUDA / bf16 on the CPU, conv outputs "
        "clamped to +-256 (NVIDIA's setting); auto: mixed on CUDA, fp32 on the CPU",
        PRECISIONS,
    )
    image_snapshot_ticks: int | None = option(
        None, "--image-snap", "ticks between sample grids", shown="--snap's", bounds=AT_LEAST_ONE
    )
    snap_minutes: float = option(
        30.0,
        "--snap-minutes",
        "also write a snapshot when this many minutes have passed since the last (0: off)",
        bounds=NOT_NEGATIVE,
    )
    # Set together by --test-equivalence, so that N processes compute what one does.
    mbstd_group: int | None = option(
        None,
        "--mbstd-group",
        "minibatch-std group size",
        shown="the cfg's, at most the batch",
        bounds=AT_LEAST_ONE,
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
            problem = f.metadata["bounds"] and f.metadata["bounds"].problem(value)
            if problem:
                raise ValueError(f"{f.metadata['flag']} {problem}, got {value}")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def flag_of(name: str) -> str:
    return TrainOptions.__dataclass_fields__[name].metadata["flag"]


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
