"""Importer for TensorFlow StyleGAN2 / StyleGAN2-ADA network pickles: a (G, D, Gs) tuple.

Each network is a `dnnlib.tflib.network.Network` whose state lists its own variables and its
components (dnnlib/tflib/network.py's __getstate__). The stored build source is never run.
Variables are renamed to our canonical names and transformed (transposes, the conv0/skip flip,
`+1` on style biases, as stylegan2-ada-pytorch's legacy.py does), and the static kwargs become our
configs (the arguments of the TF code's training/networks_stylegan2.py). Progressive-growing nets
(configs B-D) are read as architecture 'orig' at lod 0. Every variable must be consumed, so
nothing is silently dropped.
"""

from __future__ import annotations

import functools
import logging
import operator
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from stylegan2.checkpoints.common import CheckpointContents, CheckpointError, NetworkWeights
from stylegan2.checkpoints.safe_unpickle import TF_ALLOWED, TFNetworkStub, restricted_load
from stylegan2.checkpoints.tensor_checks import (
    as_filter_taps,
    as_float_tensor,
    build_discriminator_config,
    build_generator_config,
    jsonable,
    report_nonfinite,
    unexpected_content,
)
from stylegan2.config import DiscriminatorConfig, GeneratorConfig

log = logging.getLogger(__name__)

MIN_VERSION = 4
G_SYNTHESIS_FUNCS = {"G_synthesis_stylegan2", "G_synthesis", "G_synthesis_stylegan_revised"}
D_FUNCS = {"D_stylegan2", "D_main", "D_stylegan"}
STYLEGAN1_FUNCS = {"G_style", "D_basic"}

# static_kwargs that do not describe the weights (the *_func keys select the code).
_G_IGNORED = {
    "truncation_psi",
    "truncation_cutoff",
    "style_mixing_prob",
    "structure",
    "conditioning",
    "fused_modconv",
    "synthesis_func",
    "mapping_func",
    "truncation_psi_val",
    "truncation_cutoff_val",
    "randomize_noise",
}
_D_IGNORED = {"structure"}
# Settings whose default is the only value our formula for channels reproduces.
_FIXED = {"fmap_decay": 1.0, "fmap_min": 1}

Array = np.ndarray
Transform = Callable[[Array], Array]


# TF conv [kh, kw, in, out] -> torch [out, in, kh, kw]; TF dense [in, out] -> torch [out, in].
_t4: Transform = functools.partial(np.transpose, axes=(3, 2, 0, 1))
_tr: Transform = np.transpose
_same: Transform = np.asarray
_first: Transform = operator.itemgetter(0)  # drop TF's leading batch axis
_first2: Transform = operator.itemgetter((0, 0))


def _flip_t4(x: Array) -> Array:
    # Up-sampling convs: TF's orientation is the spatial mirror of the torch up-path's.
    return _t4(x[::-1, ::-1])


def _plus1(x: Array) -> Array:
    # TF adds 1 to the styles at run time; torch keeps it in the affine bias.
    return x + 1


_RES = r"(\d+)x\1"
_LAYER = {
    "weight": ("weight", _t4),
    "bias": ("bias", _same),
    "noise_strength": ("noise_strength", _same),
    "mod_weight": ("affine.weight", _tr),
    "mod_bias": ("affine.bias", _plus1),
}
_DENSE = {"weight": ("weight", _tr), "bias": ("bias", _same)}
_CONV = {"weight": ("weight", _t4), "bias": ("bias", _same)}


def _map_g_variable(name: str, res_max: int) -> tuple[str, Transform] | str | None:
    """Canonical name and transform for a flat G variable name; 'skip' for consumed-only ones."""
    if name in ("lod", "synthesis/lod"):
        return "skip"
    if name == "dlatent_avg":
        return "mapping.w_avg", _same
    if name == "synthesis/4x4/Const/const":
        return "synthesis.b4.const", _first
    if m := re.fullmatch(r"mapping/Dense(\d+)/(weight|bias)", name):
        dst, fn = _DENSE[m[2]]
        return f"mapping.fc{m[1]}.{dst}", fn
    if m := re.fullmatch(r"mapping/LabelEmbed/(weight|bias)", name):
        dst, fn = _DENSE[m[1]]
        return f"mapping.embed.{dst}", fn
    if m := re.fullmatch(r"synthesis/noise(\d+)", name):
        k = int(m[1])
        res, conv = 2 ** ((k + 5) // 2), ("conv0" if k % 2 else "conv1")
        return f"synthesis.b{res}.{conv}.noise_const", _first2
    if m := re.fullmatch(rf"synthesis/{_RES}/(Conv|Conv0_up|Conv1)/(\w+)", name):
        res, kind, var = int(m[1]), m[2], m[3]
        if var not in _LAYER or (kind == "Conv") != (res == 4):
            return None
        dst, fn = _LAYER[var]
        if kind == "Conv0_up" and var == "weight":
            fn = _flip_t4
        return f"synthesis.b{res}.{'conv0' if kind == 'Conv0_up' else 'conv1'}.{dst}", fn
    if m := re.fullmatch(rf"synthesis/{_RES}/ToRGB/(weight|bias|mod_weight|mod_bias)", name):
        dst, fn = _LAYER[m[2]]
        return f"synthesis.b{m[1]}.torgb.{dst}", fn
    if m := re.fullmatch(r"synthesis/ToRGB_lod(\d+)/(weight|bias|mod_weight|mod_bias)", name):
        if int(m[1]) != 0:
            return "skip"  # lower-resolution outputs of a progressive net; unused at lod 0
        dst, fn = _LAYER[m[2]]
        return f"synthesis.b{res_max}.torgb.{dst}", fn
    if m := re.fullmatch(rf"synthesis/{_RES}/Skip/weight", name):
        return f"synthesis.b{m[1]}.skip.weight", _flip_t4
    return None


def _map_d_variable(name: str, res_max: int) -> tuple[str, Transform] | str | None:
    if name == "lod":
        return "skip"
    if m := re.fullmatch(rf"{_RES}/(FromRGB|Conv0|Conv1_down)/(weight|bias)", name):
        dst = {"FromRGB": "fromrgb", "Conv0": "conv0", "Conv1_down": "conv1"}[m[2]]
        return f"b{m[1]}.{dst}.{_CONV[m[3]][0]}", _CONV[m[3]][1]
    if m := re.fullmatch(r"FromRGB_lod(\d+)/(weight|bias)", name):
        if int(m[1]) != 0:
            return "skip"
        return f"b{res_max}.fromrgb.{m[2]}", _CONV[m[2]][1]
    if m := re.fullmatch(rf"{_RES}/Skip/weight", name):
        return f"b{m[1]}.skip.weight", _t4
    if m := re.fullmatch(r"4x4/(Conv|Dense0)/(weight|bias)", name):
        table = _CONV if m[1] == "Conv" else _DENSE
        dst, fn = table[m[2]]
        return f"b4.{'conv' if m[1] == 'Conv' else 'fc'}.{dst}", fn
    if m := re.fullmatch(r"Output/(weight|bias)", name):
        dst, fn = _DENSE[m[1]]
        return f"b4.out.{dst}", fn
    if m := re.fullmatch(r"Mapping(\d+)/(weight|bias)", name):
        dst, fn = _DENSE[m[2]]
        return f"mapping.fc{m[1]}.{dst}", fn
    if m := re.fullmatch(r"LabelEmbed/(weight|bias)", name):
        dst, fn = _DENSE[m[1]]
        return f"mapping.embed.{dst}", fn
    return None


# Reading the Network stubs ---------------------------------------------------------------------
def _net_state(net: Any, label: str) -> dict[str, Any]:
    if not isinstance(net, TFNetworkStub):
        raise CheckpointError(f"{label} is a {type(net).__name__}, not a TensorFlow Network")
    st = net.state
    version = st.get("version")
    func = st.get("build_func_name")
    if func in STYLEGAN1_FUNCS:
        raise CheckpointError(
            f"{label} is a StyleGAN1 network ({func}); StyleGAN1 pickles are not supported yet"
        )
    if not isinstance(version, int) or version < MIN_VERSION:
        raise CheckpointError(
            f"{label} is a version-{version} TensorFlow network (StyleGAN1 era), which is not "
            "supported yet (only version-4 StyleGAN2 pickles are)"
        )
    return st


def flat_variables(net: TFNetworkStub, label: str, prefix: str = "") -> dict[str, Any]:
    """Variables of a network and its components, keyed `component/local_name`."""
    st = _net_state(net, label)
    out: dict[str, Any] = {}
    variables = st.get("variables", [])
    if not isinstance(variables, (list, tuple)):
        raise CheckpointError(f"{label}: its variable list is a {type(variables).__name__}")
    for item in variables:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise CheckpointError(f"{label}: a variable entry is not a (name, value) pair")
        out[prefix + item[0]] = item[1]
    components = st.get("components", {}) or {}
    if not isinstance(components, Mapping):
        raise CheckpointError(f"{label}: its components are not a dict")
    for key, comp in components.items():
        if prefix.count("/") > 4:
            raise CheckpointError(f"{label}: components are nested absurdly deep")
        out.update(flat_variables(comp, f"{label}/{key}", f"{prefix}{key}/"))
    return out


def _convert_variables(
    variables: Mapping[str, Any],
    mapper: Callable[[str, int], tuple[str, Transform] | str | None],
    res_max: int,
    label: str,
) -> tuple[dict[str, Any], dict[str, float]]:
    state: dict[str, Any] = {}
    lods: dict[str, float] = {}
    unknown: list[str] = []
    for name, value in variables.items():
        target = mapper(name, res_max)
        if target is None:
            unknown.append(name)
            continue
        if name.endswith("lod"):
            lods[name] = float(as_float_tensor(f"{label}/{name}", value))
        if target == "skip":
            continue
        dst, fn = target
        arr = np.asarray(value)
        if arr.dtype.kind != "f":
            raise CheckpointError(f"{label}/{name} has dtype {arr.dtype}; expected floating point")
        if dst in state:
            raise CheckpointError(f"{label}: two variables map to {dst}")
        try:
            state[dst] = as_float_tensor(f"{label}/{name}", fn(arr))
        except (IndexError, ValueError) as exc:
            raise CheckpointError(f"{label}/{name} has an unexpected shape {arr.shape}") from exc
    if unknown:
        raise CheckpointError(
            f"{label} has variables this reader does not understand: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        )
    report_nonfinite(state, label)
    return state, lods


def _check_lod(lods: Mapping[str, float], progressive: bool, label: str) -> None:
    if progressive:
        bad = {k: v for k, v in lods.items() if v != 0}
        if bad:
            raise CheckpointError(
                f"{label} is a progressive-growing net saved mid-transition ({bad}); "
                "only lod 0 (fully grown) is supported"
            )


# static_kwargs -> configs ----------------------------------------------------------------------
class _Kwargs:
    """Reads static_kwargs with defaults and remembers which keys were used."""

    def __init__(self, kwargs: Any, ignored: set[str], label: str) -> None:
        if not isinstance(kwargs, Mapping):
            raise CheckpointError(f"{label}: static_kwargs is not a dict")
        self.kw, self.ignored, self.label = dict(kwargs), ignored, label
        self.used: set[str] = set()

    def get(self, key: str, default: Any, none: Any = None) -> Any:
        self.used.add(key)
        value = self.kw.get(key, default)
        return none if value is None and none is not None else value

    def finish(self) -> None:
        for key, value in _FIXED.items():
            if key in self.kw and self.kw[key] != value:
                raise CheckpointError(f"{self.label}: {key}={self.kw[key]!r} is not supported")
        unknown = sorted(set(self.kw) - self.used - self.ignored - set(_FIXED))
        if unknown:
            raise CheckpointError(f"{self.label}: unknown static_kwargs {unknown}")


def generator_config_from_static_kwargs(
    kwargs: Mapping[str, Any], progressive: bool = False
) -> GeneratorConfig:
    """GeneratorConfig from a TF G's static_kwargs; fmap_base doubles."""
    kw = _Kwargs(kwargs, _G_IGNORED, "G")
    top = {
        "z_dim": kw.get("latent_size", 512),
        "c_dim": kw.get("label_size", 0),
        "w_dim": kw.get("dlatent_size", 512),
        "img_resolution": kw.get("resolution", 1024),
        "img_channels": kw.get("num_channels", 3),
    }
    mapping = {
        "num_layers": kw.get("mapping_layers", 8),
        "embed_features": kw.get("label_fmaps", None),
        "layer_features": kw.get("mapping_fmaps", None),
        "activation": kw.get("mapping_nonlinearity", "lrelu"),
        "lr_multiplier": kw.get("mapping_lrmul", 0.01),
        # ADA-TF calls it w_avg_beta, the original G_main dlatent_avg_beta; None means frozen.
        "w_avg_beta": kw.get("w_avg_beta", kw.get("dlatent_avg_beta", 0.995, none=1), none=1),
    }
    synthesis = {
        "channel_base": int(kw.get("fmap_base", 16384)) * 2,
        "channel_max": kw.get("fmap_max", 512),
        "num_fp16_res": kw.get("num_fp16_res", 0),
        "conv_clamp": kw.get("conv_clamp", None),
        "architecture": kw.get("architecture", "skip"),
        "resample_filter": as_filter_taps(
            "resample_kernel", kw.get("resample_kernel", [1, 3, 3, 1])
        ),
        "use_noise": kw.get("use_noise", True),
        "activation": kw.get("nonlinearity", "lrelu"),
    }
    kw.finish()
    if progressive:
        synthesis["architecture"] = "orig"
    return build_generator_config(mapping, synthesis, **top)


def discriminator_config_from_static_kwargs(
    kwargs: Mapping[str, Any], build_func_name: str, progressive: bool = False
) -> DiscriminatorConfig:
    """DiscriminatorConfig from a TF D's static_kwargs."""
    kw = _Kwargs(kwargs, _D_IGNORED, "D")
    # Original StyleGAN2 D functions default to groups of 4 and rarely store the key;
    # ADA-TF's D_main stores it and defaults to the whole minibatch.
    mbstd_default = None if build_func_name == "D_main" else 4
    cfg = {
        "c_dim": kw.get("label_size", 0),
        "img_resolution": kw.get("resolution", 1024),
        "img_channels": kw.get("num_channels", 3),
        "architecture": kw.get("architecture", "resnet"),
        "channel_base": int(kw.get("fmap_base", 16384)) * 2,
        "channel_max": kw.get("fmap_max", 512),
        "num_fp16_res": kw.get("num_fp16_res", 0),
        "conv_clamp": kw.get("conv_clamp", None),
        "cmap_dim": kw.get("mapping_fmaps", None),
        "activation": kw.get("nonlinearity", "lrelu"),
        "resample_filter": as_filter_taps(
            "resample_kernel", kw.get("resample_kernel", [1, 3, 3, 1])
        ),
        "mbstd_group_size": kw.get("mbstd_group_size", mbstd_default),
        "mbstd_num_channels": kw.get("mbstd_num_features", 1),
    }
    kw.get("freeze_layers", 0)  # training-only
    mapping = {
        "num_layers": kw.get("mapping_layers", 0),
        "embed_features": cfg["cmap_dim"],
        "layer_features": cfg["cmap_dim"],
        "activation": cfg["activation"],
        "lr_multiplier": kw.get("mapping_lrmul", 0.1),
    }
    kw.finish()
    if progressive:
        cfg["architecture"] = "orig"
    if cfg["c_dim"] and build_func_name != "D_main":
        raise CheckpointError(
            "conditional original-StyleGAN2 TF discriminators are not supported "
            "(only StyleGAN2-ADA-TF's label embedding is)"
        )
    return build_discriminator_config(mapping, **cfg)


# Networks --------------------------------------------------------------------------------------
def _is_progressive(variables: Mapping[str, Any]) -> bool:
    return any(re.search(r"(ToRGB|FromRGB)_lod\d+/", n) for n in variables)


def convert_generator(net: Any, label: str) -> NetworkWeights:
    st = _net_state(net, label)
    if st.get("build_func_name") != "G_main":
        raise CheckpointError(f"{label} is built by {st.get('build_func_name')!r}, not G_main")
    components = st.get("components") or {}
    synth = components.get("synthesis") if isinstance(components, Mapping) else None
    synth_func = synth.state.get("build_func_name") if isinstance(synth, TFNetworkStub) else None
    if synth_func not in G_SYNTHESIS_FUNCS:
        raise CheckpointError(f"{label}: unsupported synthesis network {synth_func!r}")
    variables = flat_variables(net, label)
    if any(n.startswith("mapping/LabelConcat") for n in variables):
        raise CheckpointError(
            f"{label}: conditional original-StyleGAN2 TF generators (LabelConcat) are not supported"
        )
    progressive = _is_progressive(variables)
    cfg = generator_config_from_static_kwargs(st.get("static_kwargs", {}), progressive)
    state, lods = _convert_variables(variables, _map_g_variable, cfg.img_resolution, label)
    _check_lod(lods, progressive, label)
    return NetworkWeights(cfg, state)


def convert_discriminator(net: Any, label: str) -> NetworkWeights:
    st = _net_state(net, label)
    func = st.get("build_func_name")
    if func not in D_FUNCS:
        raise CheckpointError(f"{label}: unsupported discriminator {func!r}")
    variables = flat_variables(net, label)
    progressive = _is_progressive(variables)
    cfg = discriminator_config_from_static_kwargs(st.get("static_kwargs", {}), func, progressive)
    state, lods = _convert_variables(variables, _map_d_variable, cfg.img_resolution, label)
    _check_lod(lods, progressive, label)
    return NetworkWeights(cfg, state)


def read_tf_pickle(path: str | os.PathLike[str]) -> CheckpointContents:
    """Read a TensorFlow StyleGAN2 (G, D, Gs) network pickle without executing anything."""
    data, _ = restricted_load(path, TF_ALLOWED, what="TensorFlow network pickle")
    if not (isinstance(data, tuple) and len(data) == 3):
        raise CheckpointError(f"{path} is not a TensorFlow (G, D, Gs) network pickle")
    g_net, d_net, gs_net = data
    with unexpected_content(path):
        g_ema = convert_generator(gs_net, "Gs")
        g = convert_generator(g_net, "G")
        d = convert_discriminator(d_net, "D")
        nets = (("G", g_net.state), ("D", d_net.state))
        meta = {
            "static_kwargs": {k: jsonable(st.get("static_kwargs")) for k, st in nets},
            "build_func_names": {k: jsonable(st.get("build_func_name")) for k, st in nets},
        }
    log.info("read %s (TensorFlow StyleGAN2 pickle)", path)
    return CheckpointContents(format="tf-pkl", G_ema=g_ema, G=g, D=d, metadata=meta)
