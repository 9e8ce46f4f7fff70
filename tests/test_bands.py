"""stylegan2.bands: which ws each band of resolutions takes, counted by hand from the layers."""

from __future__ import annotations

import pytest

from stylegan2.bands import BANDS, band_label, in_band, ws_in_band, ws_resolution
from stylegan2.config import GeneratorConfig, MappingConfig, SynthesisConfig
from stylegan2.networks import Generator
from tests.conftest import tiny_config


def test_a_16px_network():
    # ws 0: b4.conv1; 1: b4.torgb + b8.conv0; 2: b8.conv1; 3: b8.torgb + b16.conv0; 4: b16.conv1;
    # 5: b16.torgb. A ws counts at the lowest resolution it drives.
    layers = Generator(tiny_config()).synthesis.layers()
    assert [ws_resolution(layers, i) for i in range(6)] == [4, 4, 8, 8, 16, 16]
    assert ws_in_band(layers, "coarse") == [0, 1, 2, 3]
    assert ws_in_band(layers, "middle") == [4, 5]
    assert ws_in_band(layers, "fine") == []


def test_a_64px_network_has_all_three():
    cfg = GeneratorConfig(
        z_dim=8,
        w_dim=8,
        img_resolution=64,
        mapping=MappingConfig(num_layers=1),
        synthesis=SynthesisConfig(channel_base=64, channel_max=4),
    )
    layers = Generator(cfg).synthesis.layers()
    got = {band: ws_in_band(layers, band) for band in BANDS}
    assert got == {"coarse": [0, 1, 2, 3], "middle": [4, 5, 6, 7], "fine": [8, 9]}


def test_labels_and_edges():
    assert [band_label(b) for b in BANDS] == ["Coarse (4–8)", "Middle (16–32)", "Fine (64+)"]
    assert in_band("coarse", 8) and not in_band("coarse", 16) and in_band("fine", 1024)
    with pytest.raises(ValueError, match="no layer is driven by ws 9"):
        ws_resolution(Generator(tiny_config()).synthesis.layers(), 9)
