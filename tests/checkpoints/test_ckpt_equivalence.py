"""The three importers read the same tiny generator (and D) into identical canonical data."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from stylegan2.checkpoints.ada_pkl import collect_tensors, read_ada_pickle
from stylegan2.checkpoints.common import CheckpointContents
from stylegan2.checkpoints.rosinality import read_rosinality
from stylegan2.checkpoints.safe_unpickle import ADA_ALLOWED, restricted_load
from stylegan2.checkpoints.sniff import read_checkpoint, sniff_format
from stylegan2.checkpoints.tensor_checks import filter_2d
from stylegan2.config import DiscriminatorConfig, GeneratorConfig

DATA = Path(__file__).resolve().parent.parent / "data"
ADA, TF, ROSI = (
    DATA / "sg2ada_tiny_snapshot.pkl",
    DATA / "tf_tiny_network.pkl",
    DATA / "rosinality_tiny_g_ema.pt",
)


@pytest.fixture(scope="module")
def ada() -> CheckpointContents:
    return read_ada_pickle(ADA)


@pytest.fixture(scope="module")
def tf() -> CheckpointContents:
    from stylegan2.checkpoints.tf_pkl import read_tf_pickle

    return read_tf_pickle(TF)


@pytest.fixture(scope="module")
def rosi() -> CheckpointContents:
    return read_rosinality(ROSI)


def assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].shape == b[k].shape, k
        assert a[k].dtype == b[k].dtype == torch.float32, k
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=0, msg=k)


def without_clamp(cfg: GeneratorConfig) -> GeneratorConfig:
    return dataclasses.replace(cfg, synthesis=dataclasses.replace(cfg.synthesis, conv_clamp=None))


def test_formats(ada, tf, rosi):
    assert (ada.format, tf.format, rosi.format) == ("ada-pkl", "tf-pkl", "rosinality-pt")
    assert not ada.w_avg_missing and not tf.w_avg_missing and not rosi.w_avg_missing
    assert rosi.G is None and rosi.D is None
    assert ada.G is not None and ada.D is not None and tf.G is not None and tf.D is not None


@pytest.mark.slow
def test_g_ema_state_dicts_identical(ada, tf, rosi):
    assert_same_state(ada.G_ema.state_dict, tf.G_ema.state_dict)
    assert_same_state(ada.G_ema.state_dict, rosi.G_ema.state_dict)


def test_g_and_d_identical_between_ada_and_tf(ada, tf):
    assert_same_state(ada.G.state_dict, tf.G.state_dict)
    assert_same_state(ada.D.state_dict, tf.D.state_dict)
    assert ada.D.config == tf.D.config
    assert ada.G.config == tf.G.config


def test_generator_configs_equal(ada, tf, rosi):
    assert ada.G_ema.config == tf.G_ema.config
    assert rosi.G_ema.config.synthesis.conv_clamp is None  # rosinality never clamps
    assert without_clamp(ada.G_ema.config) == rosi.G_ema.config


def test_configs_match_reference_json(ada):
    ref = json.loads((DATA / "sg2ada_tiny_reference.json").read_text())
    g = ref["G_init_kwargs"]
    expected_g = GeneratorConfig.from_dict(
        {
            **{k: g[k] for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")},
            "mapping": g["mapping_kwargs"],
            "synthesis": g["synthesis_kwargs"],
        }
    )
    assert ada.G_ema.config == expected_g
    assert [ada.G_ema.config.channels(r) for r in (4, 8, 16)] == [32, 32, 16]
    d = ref["D_init_kwargs"]
    expected_d = DiscriminatorConfig.from_dict(
        {
            **{k: v for k, v in d.items() if not k.endswith("_kwargs")},
            "mbstd_group_size": d["epilogue_kwargs"]["mbstd_group_size"],
        }
    )
    assert ada.D.config == expected_d


def test_keys_are_the_pickled_names_minus_resample_filter(ada):
    snapshot, _ = restricted_load(ADA, ADA_ALLOWED)
    for key, weights in (("G_ema", ada.G_ema), ("G", ada.G), ("D", ada.D)):
        raw = collect_tensors(snapshot[key], key)
        filters = [k for k in raw if k.endswith("resample_filter")]
        assert filters, "the fixture stores resample filters"
        assert set(weights.state_dict) == set(raw) - set(filters)
        for k in filters:
            torch.testing.assert_close(raw[k], filter_2d((1, 3, 3, 1)))


def test_official_parameter_names_present(ada):
    keys = set(ada.G_ema.state_dict)
    assert {"mapping.w_avg", "synthesis.b4.const", "synthesis.b16.conv0.noise_const"} <= keys
    assert ada.G_ema.state_dict["synthesis.b4.conv1.noise_strength"].shape == ()
    assert ada.G_ema.state_dict["synthesis.b4.const"].shape == (32, 4, 4)
    assert {"b16.fromrgb.weight", "b4.fc.weight", "b4.out.bias", "b8.skip.weight"} <= set(
        ada.D.state_dict
    )


def test_metadata(ada, tf):
    assert ada.metadata["training_set_kwargs"]["resolution"] == 16
    assert len(ada.metadata["module_src_sha256"]["G_ema"]) == 64
    json.dumps(ada.metadata)
    assert tf.metadata["build_func_names"]["G"] == "G_main"
    json.dumps(tf.metadata)


@pytest.mark.parametrize(
    ("path", "fmt", "contents"),
    [(ADA, "ada-pkl", "ada-pkl"), (TF, "tf-pkl", "tf-pkl"), (ROSI, "torch-zip", "rosinality-pt")],
)
def test_sniff_and_dispatch(path, fmt, contents):
    assert sniff_format(path) == fmt
    assert read_checkpoint(path).format == contents


def test_networks_accept_the_state_dicts(ada, tf, rosi):
    """Strict load into the library's own modules (built from the importer's config)."""
    from stylegan2.networks import Discriminator, Generator

    for c in (ada, tf, rosi):
        Generator(c.G_ema.config).load_state_dict(c.G_ema.state_dict, strict=True)
    for c in (ada, tf):
        Discriminator(c.D.config).load_state_dict(c.D.state_dict, strict=True)
