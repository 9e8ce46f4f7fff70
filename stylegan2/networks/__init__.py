"""StyleGAN2 networks: Generator (mapping + synthesis) and Discriminator.

The modules read as the reference definition, after NVIDIA's training/networks.py in
stylegan2-ada-pytorch: `layers` (equalized-lr layers, the two synthesis layers), `noise`,
`mapping`, `synthesis`, `generator`, `discriminator`. How they run fast is a separate, explicit
choice: `fast.SpeedOptions`, given to a network when built or to a forward call, and changed on
networks already built with `precision.set_speed` / `precision.set_cpu_half`.
"""

from stylegan2.networks.discriminator import Discriminator
from stylegan2.networks.fast import DEFAULT, REFERENCE, SpeedOptions
from stylegan2.networks.generator import Generator, z_from_seed
from stylegan2.networks.mapping import MappingNetwork, truncate
from stylegan2.networks.noise import NOISE_MODES, CircularNoise, NoiseMode
from stylegan2.networks.precision import set_cpu_half, set_speed
from stylegan2.networks.synthesis import Capture, LayerInfo, SynthesisNetwork

__all__ = [
    "DEFAULT",
    "NOISE_MODES",
    "REFERENCE",
    "Capture",
    "CircularNoise",
    "Discriminator",
    "Generator",
    "LayerInfo",
    "MappingNetwork",
    "NoiseMode",
    "SpeedOptions",
    "SynthesisNetwork",
    "set_cpu_half",
    "set_speed",
    "truncate",
    "z_from_seed",
]
