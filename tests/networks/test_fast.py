"""The speed layer: options given explicitly, the fast path giving the reference path's pixels,
and the non-fused weight cache following the weights it was built from."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

from stylegan2.config import DiscriminatorConfig
from stylegan2.networks import (
    DEFAULT,
    REFERENCE,
    Discriminator,
    Generator,
    SpeedOptions,
    set_cpu_half,
    set_speed,
)
from tests.conftest import randomize_, tiny_config


@pytest.mark.parametrize("arch", ["orig", "skip", "resnet"])
@pytest.mark.parametrize("norm", ["demod", "adain"])
def test_fast_and_reference_paths_give_the_same_pixels(arch, norm):
    g = randomize_(Generator(tiny_config(architecture=arch, normalization=norm))).eval()
    z = torch.randn(3, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = g(z, noise_mode="const", speed=REFERENCE)
        for speed in (DEFAULT, SpeedOptions(memory_format="channels_last", fused_modconv=False)):
            torch.testing.assert_close(
                g(z, noise_mode="const", speed=speed), ref, atol=1e-5, rtol=0
            )


def test_discriminator_layouts_agree():
    d = randomize_(Discriminator(DiscriminatorConfig(img_resolution=16, channel_base=128)))
    img = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(d(img, speed=REFERENCE), d(img), atol=1e-5, rtol=0)


def test_options_are_validated():
    with pytest.raises(ValueError, match="memory_format"):
        SpeedOptions(memory_format="nhwc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reduced precision"):
        SpeedOptions(cpu_half=torch.float16)


def test_a_call_overrides_the_network_options_and_set_speed_replaces_them():
    g = randomize_(Generator(tiny_config(num_fp16_res=2))).eval()
    ws = g.mapping(torch.randn(2, 16))
    half = SpeedOptions(cpu_half=torch.bfloat16)
    with torch.no_grad():
        ref = g.synthesis(ws, noise_mode="const")
        bf16 = g.synthesis(ws, noise_mode="const", speed=half)
        assert g.synthesis.speed is DEFAULT  # a call changes nothing it does not own
        set_speed(g, half)
        assert g.synthesis.speed is half
        torch.testing.assert_close(g.synthesis(ws, noise_mode="const"), bf16, atol=0, rtol=0)
        set_cpu_half(g, None)
        assert g.synthesis.speed == DEFAULT
        torch.testing.assert_close(g.synthesis(ws, noise_mode="const"), ref, atol=0, rtol=0)
    assert not torch.equal(bf16, ref)


def test_weight_cache_follows_in_place_updates_and_copies_start_empty():
    g = randomize_(Generator(tiny_config())).eval()
    ws = g.mapping(torch.randn(2, 16))
    nonfused = dict(noise_mode="const", fused_modconv=False)
    with torch.no_grad():
        g.synthesis(ws, **nonfused)  # fills the caches
        layer = g.synthesis.b16.conv1
        assert layer.weight_cache._value is not None
        for g_copy in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
            assert g_copy.synthesis.b16.conv1.weight_cache._value is None
        layer.weight.mul_(-0.5)  # an optimiser step or load_state_dict changes it in place
        changed = g.synthesis(ws, **nonfused)
        fresh = g.synthesis(ws, noise_mode="const", speed=REFERENCE)
    torch.testing.assert_close(changed, fresh, atol=1e-5, rtol=0)
