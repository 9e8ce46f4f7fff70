"""The small rendering API shared by the GUI and the CLI: a frozen `RenderRequest` in, a
`RenderResult` out. Same request, same pixels, on every device.

Semantics follow NVIDIA's scripts so that "seed 42" means the same image here and there:
z = RandomState(seed).randn(1, z_dim); truncation `w_avg + psi * (w - w_avg)` on the first
`cutoff` ws; style mixing copies the chosen ws from another source after truncation; uint8 via
`clamp(img * 127.5 + 128)`. Errors come back as data (`RenderResult.error`), never as exceptions.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from stylegan2.config import MAX_C_DIM, MAX_PSI, MAX_SEED
from stylegan2.networks import (
    NOISE_MODES,
    Capture,
    CircularNoise,
    Generator,
    LayerInfo,
    NoiseMode,
    truncate,
    z_from_seed,
)
from stylegan2.ops import upsample2d

# What a caller needs to know of a network's layers and noise without importing the networks.
__all__ = [
    "NOISE_MODES",
    "Latent",
    "LayerInfo",
    "RenderRequest",
    "RenderResult",
    "Renderer",
    "request_from_dict",
    "request_to_dict",
    "style_mixing_grid",
    "to_uint8",
    "ws_shape_problem",
]


@dataclass(frozen=True, eq=False)
class Latent:
    """One source of ws: a weighted blend of seeds in W (seed dragging), or explicit ws.

    Explicit `w` ([w_dim] or [num_ws, w_dim], e.g. a projection result) is used as it is, without
    truncation; seed latents are truncated by the request's psi and cutoff.
    """

    seeds: tuple[tuple[int, float], ...] = ((0, 1.0),)
    w: np.ndarray | None = None
    class_idx: int | None = None

    @staticmethod
    def from_seed(seed: int, class_idx: int | None = None) -> Latent:
        return Latent(seeds=((int(seed), 1.0),), class_idx=class_idx)


@dataclass(frozen=True, eq=False)
class RenderRequest:
    latent: Latent = field(default_factory=Latent)
    # Style mixing: layer_sources[i] says which latent drives ws[:, i] (0 = `latent`,
    # k = style_sources[k-1]); None means every layer uses `latent`.
    style_sources: tuple[Latent, ...] = ()
    layer_sources: tuple[int, ...] | None = None
    psi: float = 1.0
    cutoff: int | None = None
    noise_mode: NoiseMode = "const"
    noise_gains: tuple[tuple[str, float], ...] = ()  # (layer name, multiplier); 0 = off
    noise_seed: int = 0  # seeds 'random' noise
    # 'random' noise on a circle: cos(phase) N(noise_seed) + sin(phase) N(noise_seed + 1), for
    # noise that moves smoothly along a path (None: plain N(noise_seed))
    noise_phase: float | None = None
    w_offset: np.ndarray | None = None  # [num_ws, w_dim] added last (direction sliders)
    capture: tuple[str, ...] = ()  # layer names, see Generator.layers(); also 'b64.img'
    force_fp32: bool = False
    # Preview: run the blocks up to this resolution only and upsample the skip generator's
    # running image with its own FIR filter (None = the full image).
    preview_resolution: int | None = None
    request_id: int = 0


@dataclass(eq=False)
class RenderResult:
    request_id: int
    image: np.ndarray | None = None  # uint8 [H, W, C]
    ws: np.ndarray | None = None  # float32 [num_ws, w_dim], what the synthesis received
    captures: dict[str, np.ndarray] = field(default_factory=dict)  # float32 [C, H, W]
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds
    error: str | None = None
    preview_resolution: int | None = None  # set when this is a preview
    # What of the request did not carry over to this network (compare mode: see stylegan2.compare).
    notes: tuple[str, ...] = ()


def _latent_to_dict(latent: Latent) -> dict:
    return {
        "seeds": [[int(s), float(wt)] for s, wt in latent.seeds],
        "w": None if latent.w is None else np.asarray(latent.w, dtype=np.float32).tolist(),
        "class_idx": latent.class_idx,
    }


#: bounds a request read from a file must keep: ws well above the 20 of a 2048-px network (the
#: loaders' largest), classes as many as a network may have
MAX_WS, MAX_CLASSES, MAX_BLEND = 64, MAX_C_DIM, 64
#: and the largest blend weight of a seed (extrapolation included) and noise gain it may hold
MAX_BLEND_WEIGHT, MAX_NOISE_GAIN = 1e4, 1e3


def strict_bool(value: Any, what: str) -> bool:
    """A JSON true/false; anything else (a "no" that bool() would read as true) refused."""
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false, got {value!r}")
    return value


def _bounded_int(value, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{what} must be a whole number {lo}-{hi}, got {value!r}")
    return value


def _finite_array(value, what: str) -> np.ndarray:
    with np.errstate(over="ignore"):  # 1e308 becomes inf here: refused below
        arr = np.asarray(value, dtype=np.float32)
    if arr.size > MAX_WS * 4096 or not np.isfinite(arr).all():
        raise ValueError(f"{what} must hold at most {MAX_WS} finite w vectors")
    return arr


def _latent_from_dict(d: dict) -> Latent:
    w = d.get("w")
    seeds = d.get("seeds", [])
    if len(seeds) > MAX_BLEND:
        raise ValueError(f"a latent blends at most {MAX_BLEND} seeds, got {len(seeds)}")
    weights = [float(wt) for _, wt in seeds]
    if not all(abs(wt) <= MAX_BLEND_WEIGHT for wt in weights):  # NaN fails too
        raise ValueError(f"seed weights must be finite, within +-{MAX_BLEND_WEIGHT:g}")
    if not seeds and w is None:
        raise ValueError("a latent needs at least one seed or a w")
    cls = d.get("class_idx")
    return Latent(
        seeds=tuple(
            (_bounded_int(s, 0, MAX_SEED, "a seed"), wt)
            for (s, _), wt in zip(seeds, weights, strict=True)
        ),
        w=None if w is None else _finite_array(w, "w"),
        class_idx=None if cls is None else _bounded_int(cls, 0, MAX_CLASSES, "class_idx"),
    )


def request_to_dict(req: RenderRequest) -> dict:
    """A JSON-able form of a request (what explorer state files embed for the CLI)."""
    return {
        "latent": _latent_to_dict(req.latent),
        "style_sources": [_latent_to_dict(s) for s in req.style_sources],
        "layer_sources": None if req.layer_sources is None else list(req.layer_sources),
        "psi": req.psi,
        "cutoff": req.cutoff,
        "noise_mode": req.noise_mode,
        "noise_gains": [[k, float(v)] for k, v in req.noise_gains],
        "noise_seed": req.noise_seed,
        "noise_phase": req.noise_phase,
        "w_offset": None if req.w_offset is None else np.asarray(req.w_offset).tolist(),
        "force_fp32": req.force_fp32,
    }


def request_from_dict(d: dict) -> RenderRequest:
    try:
        offset = d.get("w_offset")
        psi = float(d.get("psi", 1.0))
        if not -MAX_PSI <= psi <= MAX_PSI:
            raise ValueError(f"psi must lie within +-{MAX_PSI:g}, got {psi}")
        cutoff = d.get("cutoff")
        gains = tuple((str(k), float(v)) for k, v in d.get("noise_gains", []))
        phase = d.get("noise_phase")
        if len(gains) > 4 * MAX_WS or not all(abs(v) <= MAX_NOISE_GAIN for _, v in gains):
            raise ValueError(f"noise gains must lie within +-{MAX_NOISE_GAIN:g}, one a layer")
        if phase is not None and not np.isfinite(float(phase)):
            raise ValueError(f"noise_phase must be finite, got {phase}")
        mode = d.get("noise_mode", "const")
        if mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {mode!r}")
        sources, layers = d.get("style_sources", []), d.get("layer_sources")
        if len(sources) > MAX_BLEND or (layers is not None and len(layers) > MAX_WS):
            raise ValueError(f"at most {MAX_BLEND} style sources and {MAX_WS} layer sources")
        return RenderRequest(
            latent=_latent_from_dict(d["latent"]),
            style_sources=tuple(_latent_from_dict(s) for s in sources),
            layer_sources=None if d.get("layer_sources") is None else tuple(d["layer_sources"]),
            psi=psi,
            cutoff=None if cutoff is None else _bounded_int(cutoff, 0, MAX_WS, "cutoff"),
            noise_mode=mode,
            noise_gains=gains,
            noise_seed=_bounded_int(d.get("noise_seed", 0), 0, MAX_SEED, "noise_seed"),
            noise_phase=None if phase is None else float(phase),
            w_offset=None if offset is None else _finite_array(offset, "w_offset"),
            force_fp32=strict_bool(d.get("force_fp32", False), "force_fp32"),
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        # (OverflowError: a JSON integer too large for a float, e.g. psi 1e400 written out)
        raise ValueError(f"not a render request ({exc})") from None


def ws_shape_problem(w: np.ndarray, num_ws: int, w_dim: int, what: str = "w") -> str | None:
    """Why explicit ws (a latent's w, a w_offset) do not fit a network of `num_ws` ws of
    `w_dim`, or None: one w for every layer, [w_dim], or one per layer, [num_ws, w_dim]."""
    shape = tuple(np.shape(w))
    if shape in ((w_dim,), (num_ws, w_dim)):
        return None
    return (
        f"{what} must be [{w_dim}] or [{num_ws}, {w_dim}] for this network, got {list(shape)} "
        "(made with a network of another shape?)"
    )


def to_uint8_nchw(img: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] float in [-1, 1] -> uint8 [N, C, H, W] on the same device (NVIDIA's
    conversion), for code that goes on with tensors (classifiers, metrics)."""
    return (img * 127.5 + 128).clamp(0, 255).to(torch.uint8)


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] float in [-1, 1] -> uint8 [N, H, W, C] numpy, for display and files."""
    return to_uint8_nchw(img).permute(0, 2, 3, 1).cpu().numpy()


class Renderer:
    """Renders requests with one generator; caches mapped seeds (a few hundred KB each)."""

    def __init__(self, G: Generator, cache_size: int = 256) -> None:
        self.G = G
        self.device = G.device
        self._cache: OrderedDict[tuple[int, int | None], torch.Tensor] = OrderedDict()
        self._cache_size = cache_size

    @torch.no_grad()
    def mapped_ws(self, seed: int, class_idx: int | None = None) -> torch.Tensor:
        """Untruncated ws [num_ws, w_dim] of a seed."""
        key = (int(seed), class_idx)
        ws = self._cache.get(key)
        if ws is None:
            z = z_from_seed(seed, self.G.z_dim).to(self.device)
            ws = self.G.mapping(z, self.class_vector(class_idx), update_w_avg=False)[0]
            self._cache[key] = ws
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return ws

    def class_vector(self, class_idx: int | None) -> torch.Tensor | None:
        if self.G.c_dim == 0:
            return None
        if class_idx is None:
            raise ValueError(f"this network is conditional: choose a class 0-{self.G.c_dim - 1}")
        if not 0 <= class_idx < self.G.c_dim:
            raise ValueError(f"class {class_idx} is out of range 0-{self.G.c_dim - 1}")
        c = torch.zeros([1, self.G.c_dim], device=self.device)
        c[0, class_idx] = 1
        return c

    @torch.no_grad()
    def latent_ws(self, latent: Latent, psi: float, cutoff: int | None) -> torch.Tensor:
        """The ws [num_ws, w_dim] of one latent after truncation."""
        num_ws, w_dim = self.G.num_ws, self.G.w_dim
        if latent.w is not None:
            problem = ws_shape_problem(latent.w, num_ws, w_dim)
            if problem:
                raise ValueError(problem)
            w = torch.as_tensor(np.asarray(latent.w, dtype=np.float32), device=self.device)
            return w.expand(num_ws, w_dim).clone()
        if not latent.seeds:
            raise ValueError("a latent needs at least one seed or an explicit w")
        w_avg = self.G.w_avg
        parts = [
            (truncate(self.mapped_ws(s, latent.class_idx)[None], w_avg, psi, cutoff)[0], wt)
            for s, wt in latent.seeds
        ]
        if len(parts) == 1 and parts[0][1] == 1.0:
            return parts[0][0]  # exactly NVIDIA's arithmetic for a plain seed
        return w_avg + sum(wt * (ws - w_avg) for ws, wt in parts)

    @torch.no_grad()
    def request_ws(self, req: RenderRequest) -> torch.Tensor:
        """The ws [1, num_ws, w_dim] a request renders, after mixing and offsets."""
        ws = self.latent_ws(req.latent, req.psi, req.cutoff)
        if req.layer_sources is not None:
            if len(req.layer_sources) != self.G.num_ws:
                raise ValueError(f"layer_sources needs {self.G.num_ws} entries")
            ws = ws.clone()
            for k, src in enumerate(req.style_sources, start=1):
                idx = [i for i, s in enumerate(req.layer_sources) if s == k]
                if idx:
                    ws[idx] = self.latent_ws(src, req.psi, req.cutoff)[idx]
            if any(s < 0 or s > len(req.style_sources) for s in req.layer_sources):
                raise ValueError("layer_sources names a style source that does not exist")
        if req.w_offset is not None:
            problem = ws_shape_problem(req.w_offset, self.G.num_ws, self.G.w_dim, "w_offset")
            if problem:
                raise ValueError(problem)
            ws = ws + torch.as_tensor(req.w_offset, dtype=torch.float32, device=self.device)
        return ws[None]

    @torch.no_grad()
    def synthesize(self, req: RenderRequest, ws: torch.Tensor) -> tuple[torch.Tensor, Capture]:
        capture = Capture(req.capture)
        gen = (
            torch.Generator().manual_seed(req.noise_seed)
            if req.noise_phase is None
            else CircularNoise(req.noise_seed, req.noise_phase)
        )
        img = self.G.synthesis(
            ws,
            noise_mode=req.noise_mode,
            noise_gains=dict(req.noise_gains),
            noise_generator=gen,
            force_fp32=req.force_fp32,
            capture=capture,
            max_resolution=req.preview_resolution,
        )
        f = self.G.synthesis.b4.resample_filter
        while img.shape[2] < self.G.img_resolution:
            img = upsample2d(img, f)
        return img, capture

    def render(self, req: RenderRequest) -> RenderResult:
        result = RenderResult(request_id=req.request_id)
        try:
            t0 = time.perf_counter()
            ws = self.request_ws(req)
            t1 = time.perf_counter()
            img, capture = self.synthesize(req, ws)
            if img.is_cuda:
                torch.cuda.synchronize()
            t2 = time.perf_counter()
            result.image = to_uint8(img)[0]
            result.preview_resolution = req.preview_resolution
            result.ws = ws[0].cpu().numpy()
            result.captures = {k: v[0].float().cpu().numpy() for k, v in capture.outputs.items()}
            t3 = time.perf_counter()
            result.timings = {
                "mapping": (t1 - t0) * 1e3,
                "synthesis": (t2 - t1) * 1e3,
                "convert": (t3 - t2) * 1e3,
                "total": (t3 - t0) * 1e3,
            }
        except (ValueError, RuntimeError, TypeError, IndexError) as exc:
            result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return result


def style_mixing_grid(
    renderer: Renderer,
    rows: list[int],
    cols: list[int],
    styles: list[int],
    psi: float = 1.0,
    cutoff: int | None = None,
    noise_mode: str = "const",
) -> np.ndarray:
    """The paper's figure: column seeds across the top, row seeds down the left, and each cell
    the row seed with `styles` ws taken from the column seed. Top-left cell is black."""
    num_ws = renderer.G.num_ws
    sources = tuple(1 if i in set(styles) else 0 for i in range(num_ws))
    res, ch = renderer.G.img_resolution, renderer.G.img_channels
    canvas = np.zeros(((len(rows) + 1) * res, (len(cols) + 1) * res, ch), dtype=np.uint8)

    def cell(r: int, c: int, image: np.ndarray) -> None:
        canvas[r * res : (r + 1) * res, c * res : (c + 1) * res] = image

    common = dict(psi=psi, cutoff=cutoff, noise_mode=noise_mode)
    for j, col in enumerate(cols):
        cell(
            0,
            j + 1,
            _render_or_raise(renderer, RenderRequest(latent=Latent.from_seed(col), **common)),
        )
    for i, row in enumerate(rows):
        cell(
            i + 1,
            0,
            _render_or_raise(renderer, RenderRequest(latent=Latent.from_seed(row), **common)),
        )
        for j, col in enumerate(cols):
            req = RenderRequest(
                latent=Latent.from_seed(row),
                style_sources=(Latent.from_seed(col),),
                layer_sources=sources,
                **common,
            )
            cell(i + 1, j + 1, _render_or_raise(renderer, req))
    return canvas


def _render_or_raise(renderer: Renderer, req: RenderRequest) -> np.ndarray:
    result = renderer.render(req)
    if result.error:
        raise ValueError(result.error)
    assert result.image is not None
    return result.image
