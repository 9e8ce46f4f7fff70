"""Small checks and conversions shared by the checkpoint importers.

Importers hand the loader float32 CPU tensors under canonical names; these helpers enforce that,
verify the constant FIR filters that the importers drop, and turn pickled odds and ends into plain
JSON for `CheckpointContents.metadata`.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import torch

from stylegan2.checkpoints.budget import MAX_METADATA_NODES, MAX_NESTING, MAX_TENSOR_DIMS
from stylegan2.checkpoints.common import CheckpointError
from stylegan2.config import (
    ConfigError,
    DiscriminatorConfig,
    GeneratorConfig,
    MappingConfig,
    SynthesisConfig,
    filter_taps,
)

log = logging.getLogger(__name__)


def as_float_tensor(name: str, value: Any) -> torch.Tensor:
    """A float32 CPU tensor from a torch tensor, numpy array or numpy float scalar."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise CheckpointError(f"tensor {name} has dtype {value.dtype}; expected floating point")
        t = value.detach()
    elif isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind != "f":
            raise CheckpointError(f"array {name} has dtype {arr.dtype}; expected floating point")
        t = torch.from_numpy(np.array(arr, dtype=np.float32, order="C"))
    else:
        raise CheckpointError(f"{name} is a {type(value).__name__}, not a tensor")
    if t.dim() > MAX_TENSOR_DIMS:
        raise CheckpointError(f"tensor {name} has {t.dim()} dimensions; that is not a weight")
    return t.to(device="cpu", dtype=torch.float32).contiguous()


def filter_2d(taps: Iterable[float]) -> torch.Tensor:
    """The normalised outer product that ada's upfirdn2d builds from a 1-D resample filter."""
    f = torch.as_tensor(list(taps), dtype=torch.float64)
    f2 = torch.outer(f, f)
    return (f2 / f2.sum()).to(torch.float32)


def check_filter(name: str, value: Any, taps: Iterable[float], gain: float = 1.0) -> None:
    """Verify a stored FIR filter buffer instead of trusting it (it is dropped afterwards)."""
    expected = filter_2d(taps) * gain
    t = as_float_tensor(name, value)
    if t.shape != expected.shape or not torch.allclose(t, expected, atol=1e-6, rtol=0):
        raise CheckpointError(
            f"{name} is not the resample filter {list(taps)} the architecture describes"
        )


def is_filter_key(name: str) -> bool:
    return name == "resample_filter" or name.endswith(".resample_filter")


def report_nonfinite(state: Mapping[str, torch.Tensor], label: str) -> list[str]:
    """Names of tensors holding NaN/Inf (a diverged snapshot); logged, not fatal."""
    bad = [k for k, v in state.items() if not bool(torch.isfinite(v).all())]
    if bad:
        log.warning("%s: %d tensors hold NaN or Inf, e.g. %s", label, len(bad), bad[0])
    return bad


def jsonable(obj: Any) -> Any:
    """Plain JSON data from pickled kwargs (EasyDicts, numpy scalars, tuples).

    A pickle can share one list many times over at no cost ("billion laughs"); written out, the
    copies multiply, so the walk stops with a CheckpointError after MAX_METADATA_NODES nodes."""
    budget = [MAX_METADATA_NODES]

    def walk(obj: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_NESTING:
            raise CheckpointError(
                f"refusing to load: metadata larger or deeper than any real one (over "
                f"{MAX_METADATA_NODES:,} entries or {MAX_NESTING} levels)"
            )
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            v = float(obj)
            return v if math.isfinite(v) else str(v)
        if isinstance(obj, Mapping):
            return {str(k)[:200]: walk(v, depth + 1) for k, v in obj.items()}
        if isinstance(obj, (list, tuple, set, frozenset)):
            return [walk(v, depth + 1) for v in obj]
        return repr(obj)[:200]

    return walk(obj, 0)


def build_generator_config(
    mapping: dict[str, Any], synthesis: dict[str, Any], **top: Any
) -> GeneratorConfig:
    """A GeneratorConfig in canonical form, so that every importer yields equal configs.

    Widths equal to their defaults are stored as None (the ada spelling), and the label embedding
    size of an unconditional net is None.
    """
    mapping = dict(mapping)
    if mapping.get("layer_features") == top.get("w_dim"):
        mapping["layer_features"] = None
    if top.get("c_dim", 0) == 0 or mapping.get("embed_features") == top.get("w_dim"):
        mapping["embed_features"] = None
    try:
        return GeneratorConfig(
            mapping=MappingConfig(**mapping), synthesis=SynthesisConfig(**synthesis), **top
        )
    except (ConfigError, TypeError, ValueError) as exc:
        raise CheckpointError(f"the generator's architecture is not valid: {exc}") from None


def build_discriminator_config(mapping: dict[str, Any], **kwargs: Any) -> DiscriminatorConfig:
    """A DiscriminatorConfig in canonical form (an unconditional D gets the default mapping)."""
    mapping = {**mapping, "w_avg_beta": None}
    if kwargs.get("c_dim", 0) == 0:
        mapping = {"w_avg_beta": None}
    try:
        return DiscriminatorConfig(mapping=MappingConfig(**mapping), **kwargs)
    except (ConfigError, TypeError, ValueError) as exc:
        raise CheckpointError(f"the discriminator's architecture is not valid: {exc}") from None


@contextlib.contextmanager
def unexpected_content(path: Any) -> Iterator[None]:
    """Safety net while interpreting unpickled data: a file with well-formed pickle opcodes but
    odd values (a string where a number belongs, an array where a flag belongs) still fails with
    a one-line CheckpointError rather than a traceback."""
    try:
        yield
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        text = str(exc).strip().splitlines()
        detail = text[0][:200] if text else ""
        raise CheckpointError(
            f"{path}: unexpected content ({type(exc).__name__}: {detail})"
        ) from None


def as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise CheckpointError(f"{name} should be an integer, got {value!r}")
    return int(value)


def as_filter_taps(name: str, value: Any) -> tuple[int, ...]:
    try:
        return filter_taps(value)
    except ConfigError as exc:
        raise CheckpointError(f"{name}: {exc}") from None
