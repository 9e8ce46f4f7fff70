"""StyleGAN2 networks: Generator (mapping + synthesis) and Discriminator."""

from stylegan2.networks.discriminator import Discriminator
from stylegan2.networks.generator import Generator, z_from_seed
from stylegan2.networks.layers import NOISE_MODES, CircularNoise, NoiseMode
from stylegan2.networks.mapping import MappingNetwork, truncate
from stylegan2.networks.synthesis import Capture, LayerInfo, SynthesisNetwork

__all__ = [
    "NOISE_MODES",
    "Capture",
    "CircularNoise",
    "Discriminator",
    "Generator",
    "LayerInfo",
    "MappingNetwork",
    "NoiseMode",
    "SynthesisNetwork",
    "truncate",
    "z_from_seed",
]
