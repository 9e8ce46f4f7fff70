"""The explorer's whole state as plain evented Python (no Qt), saveable to JSON.

Panels write fields with `update(...)`; every change notifies the listeners once with the set of
changed field names. `to_request()` turns the state into the library's `RenderRequest`, which is
also how `stylegan2 generate --state FILE` reproduces the image on screen.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from stylegan2.config import MAX_PSI, MAX_SEED
from stylegan2.render import (
    MAX_CLASSES,
    MAX_NOISE_GAIN,
    MAX_WS,
    NOISE_MODES,
    Latent,
    RenderRequest,
    request_to_dict,
)
from stylegan2.safe_writes import write_text_atomic
from stylegan2.user_json import json_depth, loads_user_json

STATE_VERSION = 1
# Bounds a state file is checked against before any widget sees it: a widget given a number
# beyond its range, or a list of a million seeds, must never be what refuses a file.
MAX_W_DIM = 4096
MAX_MIX_SEEDS = 64
MAX_NOISE_LAYERS = 1024
MAX_STATE_BYTES = 64 * 2**20
MAX_STATE_NESTING = 16  # a state with a path is nested 7 deep
MAX_KEYFRAMES = 256
MAX_KEYFRAME_S = 3600.0
Listener = Callable[[set[str]], None]


@dataclass(frozen=True)
class ExplorerState:
    # Latent: a position on the seed plane. Integer points are seeds; in between, the four
    # neighbouring seeds are blended in W (bilinear weights), as in NVIDIA's visualizer.
    seed_x: float = 0.0
    seed_y: float = 0.0
    seed_stride: int = 1000  # seed = x + y * stride
    class_idx: int | None = None
    # An explicit w [w_dim] or ws [num_ws][w_dim] (loaded or projected) replaces the seed plane.
    w: list | None = None
    # Style mixing: extra source seeds, and for each ws index which source drives it (0 = main).
    mix_seeds: list[int] = field(default_factory=list)
    layer_sources: list[int] | None = None
    psi: float = 1.0
    cutoff: int | None = None
    noise_mode: str = "const"
    noise_gains: dict[str, float] = field(default_factory=dict)  # layer name -> multiplier
    noise_seed: int = 0
    force_fp32: bool = False
    w_offset: list | None = None  # [num_ws][w_dim] added last (direction sliders)

    def seed_weights(self) -> tuple[tuple[int, float], ...]:
        """The seeds around (seed_x, seed_y) and their bilinear weights (weights sum to 1)."""
        x0, y0 = math.floor(self.seed_x), math.floor(self.seed_y)
        fx, fy = self.seed_x - x0, self.seed_y - y0
        out: dict[int, float] = {}
        corners = ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy))
        for dx, dy, wt in (*corners, (1, 1, fx * fy)):
            if wt > 0:
                s = ((x0 + dx) + (y0 + dy) * self.seed_stride) & 0xFFFFFFFF  # RandomState range
                out[s] = out.get(s, 0.0) + wt
        return tuple(out.items())

    @property
    def seed(self) -> int:
        """The nearest seed (what 'seed' means when the position sits on a grid point)."""
        return (round(self.seed_x) + round(self.seed_y) * self.seed_stride) & 0xFFFFFFFF

    def to_request(self, request_id: int = 0, capture: tuple[str, ...] = ()) -> RenderRequest:
        if self.w is not None:
            latent = Latent(w=np.asarray(self.w, dtype=np.float32), class_idx=self.class_idx)
        else:
            latent = Latent(seeds=self.seed_weights(), class_idx=self.class_idx)
        sources = tuple(Latent.from_seed(s, self.class_idx) for s in self.mix_seeds)
        layer_sources = tuple(self.layer_sources) if self.layer_sources and sources else None
        return RenderRequest(
            latent=latent,
            style_sources=sources,
            layer_sources=layer_sources,
            psi=self.psi,
            cutoff=self.cutoff,
            noise_mode=self.noise_mode,  # type: ignore[arg-type]
            noise_gains=tuple(sorted(self.noise_gains.items())),
            noise_seed=self.noise_seed,
            capture=capture,
            force_fp32=self.force_fp32,
            w_offset=None if self.w_offset is None else np.asarray(self.w_offset, np.float32),
            request_id=request_id,
        )

    # JSON ---------------------------------------------------------------------------------------
    def to_json(self, path: dict | None = None) -> str:
        """The state, plus the render request it stands for, so that `stylegan2 generate
        --state FILE` reproduces the image without knowing about the explorer; `path` (the Path
        tab's keyframes, as `stylegan2.paths.path_to_dict`) is what `stylegan2 video --state`
        reads; null when the tab holds no path (files older than that have no "path" key)."""
        doc = {
            "version": STATE_VERSION,
            "state": asdict(self),
            "request": request_to_dict(self.to_request()),
            "path": path,
        }
        return json.dumps(doc, indent=2)

    @staticmethod
    def parse(text: str) -> Any:
        """The JSON document of a state file, its size and nesting bounded first (a deep one
        would be a RecursionError); ValueError if it cannot be one."""
        if len(text) > MAX_STATE_BYTES:
            raise ValueError(f"larger than any state file ({MAX_STATE_BYTES // 2**20} MiB at most)")
        if json_depth(text) > MAX_STATE_NESTING:
            raise ValueError(f"nested deeper than any state file ({MAX_STATE_NESTING} levels)")
        return loads_user_json(text)

    @classmethod
    def from_json(cls, text: str) -> ExplorerState:
        data = cls.parse(text)
        if not isinstance(data, dict) or "state" not in data:
            raise ValueError("not an explorer state file")
        version = data.get("version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise ValueError(f"version must be a small whole number, got {version!r}")
        if version > STATE_VERSION:
            raise ValueError("written by a newer version of the explorer")
        if not isinstance(data["state"], dict):
            raise ValueError("not an explorer state file")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data["state"]) - known)
        if unknown:
            raise ValueError(f"unknown state fields {unknown}")
        state = cls(**data["state"])
        bounds = (("seed_x", MAX_SEED, "2^32-1"), ("seed_y", MAX_SEED, "2^32-1"))
        for name, limit, said in (*bounds, ("psi", MAX_PSI, f"{MAX_PSI:g}")):
            value = getattr(state, name)
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not abs(value) <= limit  # before isfinite: a 400-digit int is no float
                or not math.isfinite(value)
            ):
                raise ValueError(
                    f"{name} must be a finite number from -{said} to {said}, got {value!r}"
                )
        stride = state.seed_stride
        if not isinstance(stride, int) or isinstance(stride, bool) or not 1 <= stride <= MAX_SEED:
            raise ValueError(f"seed_stride must be a whole number from 1 to 2^32-1, got {stride!r}")
        state.check()
        return state

    def check(self) -> None:
        """ValueError naming the first field that no network could use (before anything of the
        current state is replaced)."""

        def is_int(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        if self.noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {self.noise_mode!r}")
        if not isinstance(self.noise_gains, dict) or not all(
            isinstance(k, str)
            and isinstance(v, int | float)
            and not isinstance(v, bool)
            and 0 <= v <= MAX_NOISE_GAIN  # NaN fails too
            for k, v in self.noise_gains.items()
        ):
            raise ValueError(
                f"noise_gains must map layer names to numbers from 0 to {MAX_NOISE_GAIN:g}"
            )
        if not isinstance(self.noise_gains, dict) or len(self.noise_gains) > MAX_NOISE_LAYERS:
            raise ValueError(f"noise_gains must name at most {MAX_NOISE_LAYERS} layers")
        if (
            not isinstance(self.mix_seeds, list)
            or len(self.mix_seeds) > MAX_MIX_SEEDS
            or not all(is_int(v) and 0 <= v <= MAX_SEED for v in self.mix_seeds)
        ):
            raise ValueError(
                f"mix_seeds must be a list of at most {MAX_MIX_SEEDS} seeds (0 to 2^32-1)"
            )
        if self.layer_sources is not None and (
            not isinstance(self.layer_sources, list)
            or len(self.layer_sources) > MAX_WS
            or not all(is_int(v) and 0 <= v <= len(self.mix_seeds) for v in self.layer_sources)
        ):
            raise ValueError(
                "layer_sources must list, per ws, 0 (the main latent) or a mix_seeds position"
            )
        for name, limit in (("cutoff", MAX_WS), ("class_idx", MAX_CLASSES)):
            v = getattr(self, name)
            if v is not None and (not is_int(v) or not 0 <= v <= limit):
                raise ValueError(
                    f"{name} must be a whole number from 0 to {limit} or null, got {v!r}"
                )
        if not is_int(self.noise_seed) or not 0 <= self.noise_seed <= MAX_SEED:
            raise ValueError(
                f"noise_seed must be a whole number from 0 to 2^32-1, got {self.noise_seed!r}"
            )
        if not isinstance(self.force_fp32, bool):
            raise ValueError("force_fp32 must be true or false")
        for name, dims in (("w", (1, 2)), ("w_offset", (2,))):
            v = getattr(self, name)
            if v is None:
                continue
            try:
                a = np.asarray(v, dtype=np.float32)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be an array of numbers") from None
            if a.ndim not in dims or a.size == 0 or not np.isfinite(a).all():
                raise ValueError(f"{name} must be a finite {' or '.join(map(str, dims))}-D array")
            if a.shape[-1] > MAX_W_DIM or (a.ndim == 2 and a.shape[0] > MAX_WS):
                raise ValueError(f"{name} has shape {a.shape}, larger than any network's")

    def misfits(self, num_ws: int, w_dim: int, c_dim: int | None = None) -> dict[str, str]:
        """The fields that do not fit a network with these num_ws, w_dim (and, when given, c_dim
        classes), and why."""
        out = {}
        if c_dim is not None and self.class_idx is not None and self.class_idx >= c_dim:
            out["class_idx"] = (
                f"class {self.class_idx} is beyond this network's {c_dim} classes"
                if c_dim
                else f"class {self.class_idx}: this network is not conditional"
            )
        if self.w is not None:
            shape = np.asarray(self.w).shape
            if shape not in ((w_dim,), (num_ws, w_dim)):
                out["w"] = (
                    f"w has shape {shape}; this network takes ({w_dim},) or ({num_ws}, {w_dim})"
                )
        if self.w_offset is not None and np.asarray(self.w_offset).shape != (num_ws, w_dim):
            out["w_offset"] = (
                f"w_offset has shape {np.asarray(self.w_offset).shape}; this network takes "
                f"({num_ws}, {w_dim})"
            )
        if self.cutoff is not None and self.cutoff > num_ws:
            out["cutoff"] = f"cutoff {self.cutoff} is beyond this network's {num_ws} ws"
        if self.layer_sources is not None and len(self.layer_sources) != num_ws:
            out["layer_sources"] = (
                f"layer_sources has {len(self.layer_sources)} entries; this network has {num_ws} ws"
            )
        return out

    def check_for(self, num_ws: int, w_dim: int, c_dim: int | None = None) -> None:
        """ValueError if the state does not fit a network with these num_ws, w_dim (and c_dim)."""
        for reason in self.misfits(num_ws, w_dim, c_dim).values():
            raise ValueError(reason)

    @staticmethod
    def path_in(text: str) -> tuple[bool, dict | None]:
        """(whether the document says anything about the Path tab, its path or None for none).
        Files from before paths were saved say nothing: the tab is left as it is."""
        data = ExplorerState.parse(text)
        if not isinstance(data, dict) or "path" not in data:
            return False, None
        path = data["path"]
        if path is not None and not isinstance(path, dict):
            raise ValueError("the saved path is not a JSON object")
        keys = path.get("keyframes") if path is not None else []
        if not isinstance(keys, list) or len(keys) > MAX_KEYFRAMES:
            raise ValueError(f"the saved path must list at most {MAX_KEYFRAMES} keyframes")
        for key in keys:
            d = key.get("duration", 1.0) if isinstance(key, dict) else None
            if not isinstance(d, int | float) or not 0 < d <= MAX_KEYFRAME_S:
                raise ValueError(
                    f"a saved keyframe's duration must be from 0 to {MAX_KEYFRAME_S:g} s, got {d!r}"
                )
        return True, path

    def save(self, path: str | Path, interpolation: dict | None = None) -> None:
        write_text_atomic(path, self.to_json(interpolation))

    @classmethod
    def load(cls, path: str | Path) -> ExplorerState:
        return cls.from_json(Path(path).read_text())


class StateModel:
    """Holds the current state and tells listeners what changed."""

    def __init__(self, state: ExplorerState | None = None) -> None:
        self.state = state or ExplorerState()
        self._listeners: list[Listener] = []

    def subscribe(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def update(self, **changes: Any) -> None:
        changed = {k for k, v in changes.items() if getattr(self.state, k) != v}
        if not changed:
            return
        self.state = replace(self.state, **changes)
        for fn in list(self._listeners):
            fn(changed)

    def replace_all(self, state: ExplorerState) -> None:
        old = self.state
        self.state = state
        changed = {f.name for f in fields(state) if getattr(old, f.name) != getattr(state, f.name)}
        for fn in list(self._listeners):
            fn(changed or {"*"})
