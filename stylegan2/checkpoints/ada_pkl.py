"""Importer for stylegan2-ada-pytorch (and stylegan3's StyleGAN2) `network-snapshot-*.pkl` files.

The pickle holds `torch_utils.persistence` objects; the restricted unpickler turns each into an
inert stub (see stylegan2-ada-pytorch's torch_utils/persistence.py). Here we walk the stubs for
the official parameter names (training/networks.py's named_parameters), rebuild the
architecture from the recorded constructor arguments, and cross-check it against the attributes the
modules recorded about themselves. No network is built and no stored source is ever run.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

import torch

from stylegan2.checkpoints.common import CheckpointContents, CheckpointError, NetworkWeights
from stylegan2.checkpoints.safe_unpickle import ADA_ALLOWED, PersistentStub, restricted_load
from stylegan2.checkpoints.tensor_checks import (
    as_filter_taps,
    as_float_tensor,
    as_int,
    build_discriminator_config,
    build_generator_config,
    check_filter,
    is_filter_key,
    jsonable,
    report_nonfinite,
    unexpected_content,
)
from stylegan2.config import DiscriminatorConfig, GeneratorConfig, block_resolutions

log = logging.getLogger(__name__)

PERSISTENCE_VERSION = 6
_MAX_DEPTH = 32
_MISSING = object()

_G_TOP = {"z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"}
_G_MAPPING = {
    "num_layers",
    "embed_features",
    "layer_features",
    "activation",
    "lr_multiplier",
    "w_avg_beta",
}
_G_SYNTHESIS = {
    "channel_base",
    "channel_max",
    "num_fp16_res",
    "conv_clamp",
    "architecture",
    "resample_filter",
    "use_noise",
    "activation",
    "fp16_channels_last",
}
# Accepted but irrelevant to the weights: a fixed kernel size and an inference-speed switch.
_G_SYNTHESIS_IGNORED = {"kernel_size", "fused_modconv_default"}

#: Defaults of the two code bases whose constructor arguments we read: stylegan2-ada-pytorch's
#: training/networks.py and stylegan3's training/networks_stylegan2.py.
LAYOUT_DEFAULTS: dict[str, dict[str, Any]] = {
    "ada": {"w_avg_beta": 0.995, "conv_clamp": None, "num_fp16_res": 0},
    "sg3": {"w_avg_beta": 0.998, "conv_clamp": 256, "num_fp16_res": 4},
}

_D_TOP = {
    "c_dim",
    "img_resolution",
    "img_channels",
    "architecture",
    "channel_base",
    "channel_max",
    "num_fp16_res",
    "conv_clamp",
    "cmap_dim",
}
_D_BLOCK = {"activation", "resample_filter", "fp16_channels_last", "freeze_layers"}
_D_MAPPING = _G_MAPPING - {"w_avg_beta"}
_D_EPILOGUE = {"mbstd_group_size", "mbstd_num_channels", "activation"}

_SG3_NAME = re.compile(r"^synthesis\.(input\.|L\d+_\d+_\d+\.)")


# Walking the stub tree -------------------------------------------------------------------------
def _state(stub: Any, where: str) -> dict[str, Any]:
    if not isinstance(stub, PersistentStub) or not isinstance(stub.state, dict):
        raise CheckpointError(f"{where} is not a pickled network module")
    if stub.version != PERSISTENCE_VERSION:
        raise CheckpointError(
            f"{where} uses torch_utils.persistence version {stub.version!r}; "
            f"only version {PERSISTENCE_VERSION} is known"
        )
    return stub.state


def collect_tensors(stub: PersistentStub, label: str) -> dict[str, Any]:
    """Official `named_parameters()` + persistent `named_buffers()` of a stub tree, unconverted."""
    out: dict[str, Any] = {}
    seen: set[int] = set()

    def visit(node: Any, prefix: str, depth: int) -> None:
        where = f"{label}.{prefix.rstrip('.')}" if prefix else label
        if depth > _MAX_DEPTH or id(node) in seen:
            raise CheckpointError(f"{where}: the module tree is cyclic or absurdly deep")
        seen.add(id(node))
        st = _state(node, where)
        skip = st.get("_non_persistent_buffers_set") or set()
        for group in ("_parameters", "_buffers"):
            entries = st.get(group, {})
            if not isinstance(entries, Mapping):
                raise CheckpointError(f"{where}: {group} is not a mapping")
            for name, value in entries.items():
                if value is None or (group == "_buffers" and name in skip):
                    continue
                out[prefix + str(name)] = value
        children = st.get("_modules", {})
        if not isinstance(children, Mapping):
            raise CheckpointError(f"{where}: _modules is not a mapping")
        for name, child in children.items():
            if child is not None:
                visit(child, f"{prefix}{name}.", depth + 1)

    visit(stub, "", 0)
    return out


def _child_state(stub: PersistentStub, path: str) -> dict[str, Any] | None:
    """State of a submodule ('synthesis.b4.conv1'), or None when absent."""
    node: Any = stub
    for part in path.split("."):
        mods = node.state.get("_modules", {}) if isinstance(node, PersistentStub) else {}
        node = mods.get(part) if isinstance(mods, Mapping) else None
        if not isinstance(node, PersistentStub) or not isinstance(node.state, dict):
            return None
    return node.state


def _finish_state(
    raw: Mapping[str, Any], taps: tuple[int, ...], label: str
) -> dict[str, torch.Tensor]:
    """Verify and drop the constant filters; convert everything else to float32 tensors."""
    state: dict[str, torch.Tensor] = {}
    for name, value in raw.items():
        if is_filter_key(name):
            check_filter(f"{label}.{name}", value, taps)
        else:
            state[name] = as_float_tensor(f"{label}.{name}", value)
    report_nonfinite(state, label)
    return state


# Constructor arguments -> configs --------------------------------------------------------------
def _split(kwargs: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if kwargs is None:
        return {}
    if not isinstance(kwargs, Mapping):
        raise CheckpointError(f"{where} is a {type(kwargs).__name__}, not a dict of arguments")
    unknown = sorted(str(k)[:40] for k in kwargs if k not in allowed)
    if unknown:
        raise CheckpointError(f"{where}: unknown constructor arguments {unknown[:5]}")
    return dict(kwargs)


def _pick(name: str, given: Mapping[str, Any], recorded: Mapping[str, Any], default: Any) -> Any:
    """A given argument must agree with what the module recorded; an absent one comes from the
    module's record when there is one (defaults differ between code bases), else the default."""
    rec = recorded.get(name, _MISSING)
    if name in given:
        if rec is not _MISSING and rec != given[name]:
            raise CheckpointError(
                f"the pickle records {name}={rec!r}, but its constructor arguments say "
                f"{given[name]!r}"
            )
        return given[name]
    return default if rec is _MISSING else rec


def _fp16_blocks(resolutions: list[int], img_resolution: int, num_fp16_res: int) -> int:
    log2 = img_resolution.bit_length() - 1
    fp16_res = max(2 ** (log2 + 1 - num_fp16_res), 8)
    return sum(r >= fp16_res for r in resolutions)


def _resolve_fp16(
    given: Mapping[str, Any], recorded: Mapping[str, Any], default: int, img_resolution: int
) -> int:
    n = as_int("num_fp16_res", given.get("num_fp16_res", default))
    count = recorded.get("fp16_blocks")
    res = block_resolutions(img_resolution)
    if count is None or _fp16_blocks(res, img_resolution, n) == count:
        return n
    if "num_fp16_res" in given:
        raise CheckpointError(
            f"num_fp16_res={n} disagrees with the {count} float16 blocks the pickle records"
        )
    return count  # the smallest setting that yields the recorded blocks


def generator_config_from_kwargs(
    kwargs: Mapping[str, Any], recorded: Mapping[str, Any] | None = None
) -> GeneratorConfig:
    """GeneratorConfig from a pickled Generator's `_init_kwargs`.

    Accepts the ada layout (nested `synthesis_kwargs`) and stylegan3's `networks_stylegan2` layout
    (synthesis arguments at the top level, other defaults). `recorded` holds attributes the modules
    stored about themselves; they fill absent arguments and must agree with given ones.
    """
    recorded = recorded or {}
    if not isinstance(kwargs, Mapping):
        raise CheckpointError("the generator's constructor arguments are not a dict")
    flat = _G_SYNTHESIS | _G_SYNTHESIS_IGNORED
    if "synthesis_kwargs" in kwargs:
        layout = "ada"
        top = _split(kwargs, _G_TOP | {"mapping_kwargs", "synthesis_kwargs"}, "Generator")
        synth = _split(top.pop("synthesis_kwargs"), flat, "Generator synthesis_kwargs")
    else:
        layout = "sg3"
        top = _split(kwargs, _G_TOP | {"mapping_kwargs"} | flat, "Generator")
        synth = {k: top.pop(k) for k in list(top) if k in flat}
    mapping = _split(top.pop("mapping_kwargs", None), _G_MAPPING, "Generator mapping_kwargs")
    defaults = LAYOUT_DEFAULTS[layout]
    if synth.get("kernel_size", 3) != 3:
        raise CheckpointError(f"kernel_size={synth['kernel_size']} is not supported (only 3)")
    missing = sorted(_G_TOP - set(top))
    if missing:
        raise CheckpointError(f"the Generator's constructor arguments lack {missing}")
    top = {k: as_int(k, v) for k, v in top.items()}
    for k in sorted(_G_TOP):
        _pick(k, top, recorded, None)

    mapping["w_avg_beta"] = _pick("w_avg_beta", mapping, recorded, defaults["w_avg_beta"])
    if "num_layers" in mapping or "num_layers" in recorded:
        mapping["num_layers"] = _pick("num_layers", mapping, recorded, None)
    synth_cfg: dict[str, Any] = {
        k: v for k, v in synth.items() if k in _G_SYNTHESIS and k != "num_fp16_res"
    }
    synth_cfg["conv_clamp"] = _pick("conv_clamp", synth, recorded, defaults["conv_clamp"])
    synth_cfg["architecture"] = _pick("architecture", synth, recorded, "skip")
    synth_cfg["use_noise"] = _pick("use_noise", synth, recorded, True)
    synth_cfg["num_fp16_res"] = _resolve_fp16(
        synth, recorded, defaults["num_fp16_res"], top["img_resolution"]
    )
    if "resample_filter" in synth_cfg:
        synth_cfg["resample_filter"] = as_filter_taps("resample_filter", synth["resample_filter"])
    return build_generator_config(mapping, synth_cfg, **top)


def discriminator_config_from_kwargs(
    kwargs: Mapping[str, Any], recorded: Mapping[str, Any] | None = None
) -> DiscriminatorConfig:
    """DiscriminatorConfig from a pickled Discriminator's `_init_kwargs` (same layout in ada and
    stylegan3; `freeze_layers` only affects training and is ignored)."""
    recorded = recorded or {}
    top = _split(kwargs, _D_TOP | {"block_kwargs", "mapping_kwargs", "epilogue_kwargs"}, "D")
    block = _split(top.pop("block_kwargs", None), _D_BLOCK, "Discriminator block_kwargs")
    mapping = _split(top.pop("mapping_kwargs", None), _D_MAPPING, "Discriminator mapping_kwargs")
    epi = _split(top.pop("epilogue_kwargs", None), _D_EPILOGUE, "Discriminator epilogue_kwargs")
    for k in ("c_dim", "img_resolution", "img_channels"):
        if k not in top:
            raise CheckpointError(f"the Discriminator's constructor arguments lack {k}")
        _pick(k, top, recorded, None)
    act = block.get("activation", "lrelu")
    if epi.get("activation", act) != act:
        raise CheckpointError("a discriminator whose epilogue and blocks differ in activation")
    cfg: dict[str, Any] = {k: v for k, v in top.items() if k != "num_fp16_res"}
    cfg["architecture"] = _pick("architecture", top, recorded, "resnet")
    cfg["conv_clamp"] = _pick("conv_clamp", top, recorded, None)
    cfg["num_fp16_res"] = _resolve_fp16(
        top, recorded, 0, as_int("img_resolution", top["img_resolution"])
    )
    cfg["activation"] = act
    if "resample_filter" in block:
        cfg["resample_filter"] = as_filter_taps("resample_filter", block["resample_filter"])
    if "fp16_channels_last" in block:
        raise CheckpointError("fp16_channels_last is not supported for the discriminator")
    epi_rec = {
        "mbstd_group_size": recorded.get("mbstd_group_size", _MISSING),
        "mbstd_num_channels": recorded.get("mbstd_num_channels", _MISSING),
    }
    epi_rec = {k: v for k, v in epi_rec.items() if v is not _MISSING}
    cfg["mbstd_group_size"] = _pick("mbstd_group_size", epi, epi_rec, 4)
    cfg["mbstd_num_channels"] = _pick("mbstd_num_channels", epi, epi_rec, 1)
    return build_discriminator_config(mapping, **cfg)


# Recorded attributes ---------------------------------------------------------------------------
def _recorded_generator(stub: PersistentStub) -> dict[str, Any]:
    st = stub.state
    rec = {k: st[k] for k in _G_TOP | {"num_ws"} if k in st}
    mapping = _child_state(stub, "mapping") or {}
    rec.update({k: mapping[k] for k in ("num_layers", "w_avg_beta") if k in mapping})
    b4 = _child_state(stub, "synthesis.b4") or {}
    if "architecture" in b4:
        rec["architecture"] = b4["architecture"]
    conv = _child_state(stub, "synthesis.b4.conv1") or {}
    rec.update({k: conv[k] for k in ("conv_clamp", "use_noise") if k in conv})
    synth_mods = (_child_state(stub, "synthesis") or {}).get("_modules", {})
    flags = [m.state.get("use_fp16") for m in synth_mods.values() if isinstance(m, PersistentStub)]
    if flags and all(isinstance(f, bool) for f in flags):
        rec["fp16_blocks"] = sum(flags)
    return rec


def _recorded_discriminator(stub: PersistentStub) -> dict[str, Any]:
    st = stub.state
    rec = {k: st[k] for k in ("c_dim", "img_resolution", "img_channels") if k in st}
    res = st.get("img_resolution")
    top = _child_state(stub, f"b{res}") or {}
    if "architecture" in top:
        rec["architecture"] = top["architecture"]
    conv = _child_state(stub, f"b{res}.conv0") or {}
    if "conv_clamp" in conv:
        rec["conv_clamp"] = conv["conv_clamp"]
    mbstd = _child_state(stub, "b4.mbstd") or {}
    for ours, theirs in (
        ("mbstd_group_size", "group_size"),
        ("mbstd_num_channels", "num_channels"),
    ):
        if theirs in mbstd:
            rec[ours] = mbstd[theirs]
    flags = [
        m.state.get("use_fp16")
        for m in st.get("_modules", {}).values()
        if isinstance(m, PersistentStub) and "use_fp16" in m.state
    ]
    if flags and all(isinstance(f, bool) for f in flags):
        rec["fp16_blocks"] = sum(flags)
    return rec


# Networks --------------------------------------------------------------------------------------
def _refuse_stylegan3(names: list[str]) -> None:
    sg3 = [n for n in names if _SG3_NAME.match(n)]
    if sg3:
        raise CheckpointError(
            f"this is a StyleGAN3 network ({', '.join(sg3[:2])}, ...), "
            "which this program does not support"
        )


def convert_generator(stub: Any, label: str) -> NetworkWeights:
    st = _state(stub, label)
    if stub.class_name != "Generator":
        raise CheckpointError(f"{label} is a {stub.class_name}, not a Generator")
    raw = collect_tensors(stub, label)
    _refuse_stylegan3(list(raw))
    cfg = generator_config_from_kwargs(st.get("_init_kwargs"), _recorded_generator(stub))
    if "num_ws" in st and st["num_ws"] != cfg.num_ws:
        raise CheckpointError(f"{label} records num_ws={st['num_ws']}, expected {cfg.num_ws}")
    return NetworkWeights(cfg, _finish_state(raw, cfg.synthesis.resample_filter, label))


def convert_discriminator(stub: Any, label: str) -> NetworkWeights:
    st = _state(stub, label)
    if stub.class_name != "Discriminator":
        raise CheckpointError(f"{label} is a {stub.class_name}, not a Discriminator")
    raw = collect_tensors(stub, label)
    cfg = discriminator_config_from_kwargs(st.get("_init_kwargs"), _recorded_discriminator(stub))
    return NetworkWeights(cfg, _finish_state(raw, cfg.resample_filter, label))


def read_ada_pickle(path: str | os.PathLike[str]) -> CheckpointContents:
    """Read a stylegan2-ada-pytorch / stylegan3 snapshot pickle without executing anything."""
    data, _ = restricted_load(path, ADA_ALLOWED, what="network pickle")
    if isinstance(data, tuple):
        raise CheckpointError(
            f"{path} holds a tuple, not a stylegan2-ada-pytorch snapshot dict "
            "(TensorFlow pickles are (G, D, Gs) tuples of dnnlib.tflib Networks)"
        )
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} holds a {type(data).__name__}, not a snapshot dict")
    if not isinstance(data.get("G_ema"), PersistentStub):
        raise CheckpointError(f"{path} has no G_ema network (keys: {sorted(map(str, data))})")
    with unexpected_content(path):
        g_ema = convert_generator(data["G_ema"], "G_ema")
        g = convert_generator(data["G"], "G") if data.get("G") is not None else None
        d = convert_discriminator(data["D"], "D") if data.get("D") is not None else None
    sha = {
        k: data[k].module_sha256
        for k in ("G_ema", "G", "D")
        if isinstance(data.get(k), PersistentStub)
    }
    meta = {
        "training_set_kwargs": jsonable(data.get("training_set_kwargs")),
        "module_src_sha256": sha,
        "has_augment_pipe": data.get("augment_pipe") is not None,
    }
    log.info("read %s (stylegan2-ada-pytorch pickle), module sources %s", path, sha)
    return CheckpointContents(format="ada-pkl", G_ema=g_ema, G=g, D=d, metadata=meta)
