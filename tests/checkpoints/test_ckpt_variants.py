"""Variants the golden fixtures do not cover, made by editing the fixtures' plain data."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from stylegan2.checkpoints.ada_pkl import (
    discriminator_config_from_kwargs,
    generator_config_from_kwargs,
    read_ada_pickle,
)
from stylegan2.checkpoints.common import CheckpointError
from stylegan2.checkpoints.rosinality import channel_params, read_rosinality
from stylegan2.checkpoints.sniff import read_checkpoint, sniff_format
from stylegan2.checkpoints.tensor_checks import filter_2d
from stylegan2.checkpoints.tf_pkl import (
    discriminator_config_from_static_kwargs,
    generator_config_from_static_kwargs,
    read_tf_pickle,
)

DATA = Path(__file__).resolve().parent.parent / "data"
ADA, ROSI = DATA / "sg2ada_tiny_snapshot.pkl", DATA / "rosinality_tiny_g_ema.pt"


def one_line_error(fn, *args, match: str | None = None) -> str:
    with pytest.raises(CheckpointError, match=match) as info:
        fn(*args)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.fixture(scope="module")
def ada():
    return read_ada_pickle(ADA)


# stylegan2-ada-pytorch / stylegan3 -------------------------------------------------------------
def test_stylegan3_generator_refused(fakes):
    snap = fakes.ada_stubs()
    synth = snap["G_ema"].state["_modules"]["synthesis"]
    fake_input = type(synth)(
        "SynthesisInput",
        6,
        {
            "_parameters": {"weight": torch.zeros(4, 2)},
            "_buffers": {"freqs": torch.zeros(4, 2), "phases": torch.zeros(4)},
            "_modules": {},
        },
        "0" * 64,
    )
    synth.state["_modules"]["input"] = fake_input
    path = fakes.write_ada(snap)
    for reader in (read_ada_pickle, read_checkpoint):
        msg = one_line_error(reader, path, match="StyleGAN3")
        assert "synthesis.input." in msg and "does not support" in msg


def test_sg3_flat_kwargs_defaults():
    kwargs = {
        "z_dim": 512,
        "c_dim": 0,
        "w_dim": 512,
        "img_resolution": 256,
        "img_channels": 3,
        "mapping_kwargs": {"num_layers": 2},
        "channel_base": 16384,
        "channel_max": 512,
        "fused_modconv_default": "inference_only",
    }
    cfg = generator_config_from_kwargs(kwargs)
    assert cfg.mapping.w_avg_beta == 0.998
    assert cfg.synthesis.conv_clamp == 256
    assert cfg.synthesis.num_fp16_res == 4
    assert (cfg.synthesis.channel_base, cfg.mapping.num_layers) == (16384, 2)
    # The nested ada layout keeps ada's defaults.
    nested = {k: v for k, v in kwargs.items() if k not in ("channel_base", "channel_max")}
    nested.pop("fused_modconv_default")
    cfg = generator_config_from_kwargs({**nested, "synthesis_kwargs": {"channel_base": 16384}})
    assert (cfg.mapping.w_avg_beta, cfg.synthesis.conv_clamp) == (0.995, None)
    assert cfg.synthesis.num_fp16_res == 0


def test_sg3_flat_layout_end_to_end(fakes, ada):
    """The fixture re-pickled with stylegan3's flat kwargs: recorded attributes fill the gaps."""
    snap = fakes.ada_stubs()
    for key in ("G_ema", "G"):
        kw = snap[key].state["_init_kwargs"]
        kw.update(kw.pop("synthesis_kwargs"))
        del kw["num_fp16_res"]  # sg3 default 4, but the modules record fp32 blocks
    contents = read_ada_pickle(fakes.write_ada(snap))
    assert contents.G_ema.config == ada.G_ema.config


def test_unknown_and_contradicting_kwargs():
    base = {"z_dim": 8, "c_dim": 0, "w_dim": 8, "img_resolution": 8, "img_channels": 3}
    one_line_error(generator_config_from_kwargs, {**base, "bogus": 1}, match="bogus")
    one_line_error(
        generator_config_from_kwargs,
        {**base, "synthesis_kwargs": {"channel_base": 64, "magnitude_ema_beta": 0.9}},
        match="magnitude_ema_beta",
    )
    one_line_error(
        generator_config_from_kwargs,
        {**base, "synthesis_kwargs": {"conv_clamp": 128}},
        {"conv_clamp": 256},
        match="conv_clamp",
    )
    d = {"c_dim": 0, "img_resolution": 8, "img_channels": 3}
    cfg = discriminator_config_from_kwargs({**d, "block_kwargs": {"freeze_layers": 2}})
    assert cfg.architecture == "resnet" and cfg.mbstd_group_size == 4
    one_line_error(discriminator_config_from_kwargs, {**d, "wat": 1}, match="wat")


def test_bad_resample_filter_refused(fakes):
    snap = fakes.ada_stubs()
    b8 = snap["G_ema"].state["_modules"]["synthesis"].state["_modules"]["b8"]
    b8.state["_buffers"]["resample_filter"] = filter_2d((1, 2, 1))
    one_line_error(read_ada_pickle, fakes.write_ada(snap), match="resample filter")


def test_frozen_d_layers_as_buffers(fakes, ada):
    """freeze-D stores frozen weights as buffers under the same names."""
    snap = fakes.ada_stubs()
    conv0 = snap["D"].state["_modules"]["b16"].state["_modules"]["conv0"]
    conv0.state["_buffers"].update(conv0.state["_parameters"])
    conv0.state["_parameters"] = {}
    d = read_ada_pickle(fakes.write_ada(snap)).D
    assert d.config == ada.D.config
    assert sorted(d.state_dict) == sorted(ada.D.state_dict)


def test_persistence_version_and_missing_g_ema(fakes):
    snap = fakes.ada_stubs()
    snap["G_ema"].version = 5
    one_line_error(read_ada_pickle, fakes.write_ada(snap), match="version 5")
    snap = fakes.ada_stubs()
    del snap["G_ema"]
    one_line_error(read_ada_pickle, fakes.write_ada(snap), match="no G_ema")


def test_integer_tensor_refused(fakes):
    snap = fakes.ada_stubs()
    snap["G_ema"].state["_modules"]["mapping"].state["_buffers"]["w_avg"] = torch.zeros(32).long()
    one_line_error(read_ada_pickle, fakes.write_ada(snap), match="floating point")


# TensorFlow ------------------------------------------------------------------------------------
def _progressive(fakes):
    """The TF fixture turned into a config-B-D style progressive net at lod 0."""
    g, d, gs = fakes.tf_stubs()
    for net in (g, gs):
        net.state["static_kwargs"]["synthesis_func"] = "G_synthesis_stylegan_revised"
        net.state["static_kwargs"]["structure"] = "auto"
        synth = net.state["components"]["synthesis"]
        synth.state["build_func_name"] = "G_synthesis_stylegan_revised"
        old = dict(synth.state["variables"])
        new = [(k, v) for k, v in old.items() if "/ToRGB/" not in k]
        for lod, res in enumerate((16, 8, 4)):
            new += [
                (f"ToRGB_lod{lod}/{p}", old[f"{res}x{res}/ToRGB/{p}"])
                for p in ("weight", "bias", "mod_weight", "mod_bias")
            ]
        synth.state["variables"] = [*new, ("lod", np.float32(0))]
    d.state["build_func_name"] = "D_stylegan"
    del d.state["static_kwargs"]["mbstd_group_size"]  # D_stylegan defaults to groups of 4
    old = dict(d.state["variables"])
    new = [(k, v) for k, v in old.items() if "/Skip/" not in k and "FromRGB" not in k]
    new += [
        ("FromRGB_lod0/weight", old["16x16/FromRGB/weight"]),
        ("FromRGB_lod0/bias", old["16x16/FromRGB/bias"]),
        ("FromRGB_lod1/weight", np.zeros((1, 1, 3, 32), np.float32)),
        ("FromRGB_lod1/bias", np.zeros(32, np.float32)),
        ("lod", np.float32(0)),
    ]
    d.state["variables"] = new
    return g, d, gs


def test_tf_progressive_net_reads_as_orig(fakes, ada):
    contents = read_tf_pickle(fakes.write_tf(_progressive(fakes)))
    g = contents.G_ema
    assert g.config.synthesis.architecture == "orig"
    expected = {k: v for k, v in ada.G_ema.state_dict.items() if ".torgb." not in k or "b16." in k}
    assert sorted(g.state_dict) == sorted(expected)
    for k, v in expected.items():
        torch.testing.assert_close(g.state_dict[k], v, atol=1e-6, rtol=0, msg=k)
    assert dataclasses.replace(g.config, synthesis=ada.G_ema.config.synthesis) == ada.G_ema.config
    d = contents.D
    assert d.config.architecture == "orig" and d.config.mbstd_group_size == 4
    assert "b16.fromrgb.weight" in d.state_dict and not any(".skip." in k for k in d.state_dict)

    from stylegan2.networks import Discriminator, Generator

    Generator(g.config).load_state_dict(g.state_dict, strict=True)
    Discriminator(d.config).load_state_dict(d.state_dict, strict=True)


def test_tf_progressive_mid_transition_refused(fakes):
    g, d, gs = _progressive(fakes)
    gs.state["variables"] = [
        (k, np.float32(0.5) if k == "lod" else v) for k, v in gs.state["variables"]
    ]
    one_line_error(read_tf_pickle, fakes.write_tf((g, d, gs)), match="lod")


def test_tf_stylegan1_and_old_versions_refused(fakes):
    g, d, gs = fakes.tf_stubs()
    gs.state["build_func_name"] = "G_style"
    one_line_error(read_tf_pickle, fakes.write_tf((g, d, gs)), match="StyleGAN1")
    g, d, gs = fakes.tf_stubs()
    gs.state["version"] = 3
    one_line_error(read_tf_pickle, fakes.write_tf((g, d, gs)), match="not supported yet")


def test_tf_leftover_variable_named(fakes):
    g, d, gs = fakes.tf_stubs()
    gs.state["components"]["synthesis"].state["variables"].append(
        ("32x32/Mystery/weight", np.zeros(3, np.float32))
    )
    one_line_error(read_tf_pickle, fakes.write_tf((g, d, gs)), match="synthesis/32x32/Mystery")


def test_tf_static_kwargs_rules():
    one_line_error(generator_config_from_static_kwargs, {"fancy_option": 1}, match="fancy_option")
    cfg = generator_config_from_static_kwargs(
        {"fmap_base": 8192, "w_avg_beta": None, "truncation_psi": 0.5}
    )
    assert cfg.synthesis.channel_base == 16384 and cfg.mapping.w_avg_beta == 1
    assert cfg.img_resolution == 1024 and cfg.synthesis.architecture == "skip"
    d = discriminator_config_from_static_kwargs({"resolution": 256}, "D_stylegan2")
    assert d.mbstd_group_size == 4 and d.channel_base == 32768 and d.architecture == "resnet"
    d = discriminator_config_from_static_kwargs({"resolution": 256}, "D_main")
    assert d.mbstd_group_size is None


# rosinality ------------------------------------------------------------------------------------
def test_channel_params():
    config_f = {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64, 1024: 32}
    assert channel_params(config_f) == (32768, 512)
    cm1 = {**config_f, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}
    assert channel_params(cm1) == (16384, 512)
    assert channel_params({4: 32, 8: 32, 16: 16}) == (256, 32)
    assert channel_params({4: 512, 8: 512}) == (32768, 512)
    one_line_error(channel_params, {4: 512, 8: 512, 16: 1024}, match="channel counts")
    one_line_error(channel_params, {4: 512, 8: 300, 16: 256}, match="channel counts")


def test_rosinality_without_latent_avg_and_bare_state_dict(tmp_path, ada):
    ckpt = torch.load(ROSI, weights_only=True)
    for name, obj in (("no_avg.pt", {"g_ema": ckpt["g_ema"]}), ("bare.pt", ckpt["g_ema"])):
        path = tmp_path / name
        torch.save(obj, path)
        contents = read_checkpoint(path)
        assert contents.format == "rosinality-pt" and contents.w_avg_missing
        assert torch.equal(contents.G_ema.state_dict["mapping.w_avg"], torch.zeros(32))
        assert sorted(contents.G_ema.state_dict) == sorted(ada.G_ema.state_dict)


def test_rosinality_legacy_torch_save(tmp_path):
    path = tmp_path / "old.pt"
    torch.save(torch.load(ROSI, weights_only=True), path, _use_new_zipfile_serialization=False)
    assert sniff_format(path) == "torch-legacy"
    assert read_checkpoint(path).format == "rosinality-pt"


def _rosinality_d(ada_d: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The fixture's D state written under rosinality's names (our importer's mapping, inverted)."""
    f = filter_2d((1, 3, 3, 1))
    out = {
        "convs.0.0.weight": ada_d["b16.fromrgb.weight"],
        "convs.0.1.bias": ada_d["b16.fromrgb.bias"],
    }
    for j, r in ((1, 16), (2, 8)):
        out |= {
            f"convs.{j}.conv1.0.weight": ada_d[f"b{r}.conv0.weight"],
            f"convs.{j}.conv1.1.bias": ada_d[f"b{r}.conv0.bias"],
            f"convs.{j}.conv2.0.kernel": f,
            f"convs.{j}.conv2.1.weight": ada_d[f"b{r}.conv1.weight"],
            f"convs.{j}.conv2.2.bias": ada_d[f"b{r}.conv1.bias"],
            f"convs.{j}.skip.0.kernel": f,
            f"convs.{j}.skip.1.weight": ada_d[f"b{r}.skip.weight"],
        }
    for ours, theirs in (
        ("conv", "final_conv.0"),
        ("fc", "final_linear.0"),
        ("out", "final_linear.1"),
    ):
        out[f"{theirs}.weight"] = ada_d[f"b4.{ours}.weight"]
        bias = "final_conv.1.bias" if ours == "conv" else f"{theirs}.bias"
        out[bias] = ada_d[f"b4.{ours}.bias"]
    return out


def test_rosinality_training_checkpoint_with_g_and_d(tmp_path, ada):
    ckpt = torch.load(ROSI, weights_only=True)
    ckpt |= {"g": ckpt["g_ema"], "d": _rosinality_d(ada.D.state_dict), "ada_aug_p": 0.1}
    path = tmp_path / "train.pt"
    torch.save(ckpt, path)
    contents = read_rosinality(path)
    assert contents.G is not None and contents.D is not None
    assert contents.D.config == dataclasses.replace(ada.D.config, conv_clamp=None)
    assert sorted(contents.D.state_dict) == sorted(ada.D.state_dict)
    for k, v in ada.D.state_dict.items():
        assert torch.equal(contents.D.state_dict[k], v), k


def test_rosinality_bad_blur_kernel_and_unknown_key(tmp_path):
    ckpt = torch.load(ROSI, weights_only=True)
    ckpt["g_ema"]["convs.0.conv.blur.kernel"] = filter_2d((1, 3, 3, 1))  # missing the x4 gain
    path = tmp_path / "bad.pt"
    torch.save(ckpt, path)
    one_line_error(read_rosinality, path, match="resample filter")
    ckpt = torch.load(ROSI, weights_only=True)
    ckpt["g_ema"]["extra.thing"] = torch.zeros(1)
    torch.save(ckpt, path)
    one_line_error(read_rosinality, path, match="extra.thing")


def test_rosinality_without_noise_buffers(tmp_path, ada):
    ckpt = torch.load(ROSI, weights_only=True)
    ckpt["g_ema"] = {k: v for k, v in ckpt["g_ema"].items() if not k.startswith("noises.")}
    path = tmp_path / "old_noise.pt"
    torch.save(ckpt, path)
    state = read_rosinality(path).G_ema.state_dict
    assert sorted(state) == sorted(ada.G_ema.state_dict)
    assert state["synthesis.b16.conv1.noise_const"].shape == (16, 16)


def test_odd_values_in_well_formed_files(fakes):
    snap = fakes.ada_stubs()
    snap["G_ema"].state["_init_kwargs"]["synthesis_kwargs"]["channel_base"] = np.zeros(3)
    one_line_error(read_ada_pickle, fakes.write_ada(snap))
    snap = fakes.ada_stubs()
    snap["G_ema"].state["_init_kwargs"]["mapping_kwargs"]["num_layers"] = "two"
    one_line_error(read_ada_pickle, fakes.write_ada(snap))
    g, d, gs = fakes.tf_stubs()
    gs.state["static_kwargs"]["fmap_base"] = "lots"
    one_line_error(read_tf_pickle, fakes.write_tf((g, d, gs)))
    g, d, gs = fakes.tf_stubs()
    gs.state["components"] = ["not", "a", "dict"]
    one_line_error(read_tf_pickle, fakes.write_tf((g, d, gs)))
