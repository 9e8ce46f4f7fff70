"""Named architectures (SPEC §5.2): used by `stylegan2 bench --config` and the trainer's `--cfg`."""

from __future__ import annotations

from stylegan2.config import GeneratorConfig, MappingConfig, SynthesisConfig

#: name -> (default resolution, channel_base, channel_max, mapping layers)
PRESETS: dict[str, tuple[int, int, int, int]] = {
    # 64 px class net of the speed targets: G 5.5 M parameters.
    "small": (64, 4096, 256, 2),
    "paper256": (256, 16384, 512, 8),
    "paper512": (512, 32768, 512, 8),
    "paper1024": (1024, 32768, 512, 8),
    "stylegan2": (1024, 32768, 512, 8),  # config F
}


def generator_preset(
    name: str,
    resolution: int | None = None,
    normalization: str = "demod",
    architecture: str = "skip",
    z_dim: int = 512,
    w_dim: int = 512,
    c_dim: int = 0,
    img_channels: int = 3,
    conv_clamp: float | None = None,
    num_fp16_res: int = 0,
) -> GeneratorConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown config {name!r}; choose from {', '.join(PRESETS)}")
    default_res, channel_base, channel_max, map_layers = PRESETS[name]
    return GeneratorConfig(
        z_dim=z_dim,
        c_dim=c_dim,
        w_dim=w_dim,
        img_resolution=resolution or default_res,
        img_channels=img_channels,
        mapping=MappingConfig(num_layers=map_layers),
        synthesis=SynthesisConfig(
            channel_base=channel_base,
            channel_max=channel_max,
            architecture=architecture,  # type: ignore[arg-type]
            normalization=normalization,  # type: ignore[arg-type]
            conv_clamp=conv_clamp,
            num_fp16_res=num_fp16_res,
        ),
    )
