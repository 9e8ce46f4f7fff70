"""Interpolation paths through latent space: keyframes, lerp in W (per layer, so W+ keyframes
work too) or slerp in Z, easing (linear, ease-in-out, Catmull-Rom through all keyframes), closed
loops, and fixed, animated or smooth noise. Positions are in seconds; `request_at` gives the exact
render request of a video frame at a time, `frame_times` the times of a video's frames."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch

from stylegan2.networks import truncate
from stylegan2.ppl import EPS, path_lengths, slerp
from stylegan2.render import Latent, Renderer, RenderRequest, ws_shape_problem, z_from_seed

EASINGS = ("linear", "ease", "catmull")
SPACES = ("w", "z")
#: 'fixed': the request's own noise on every frame; 'animated': fresh random noise every frame
#: (flickers); 'smooth': random noise turning once around a circle over the path (loops cleanly)
PATH_NOISE = ("fixed", "animated", "smooth")


@dataclass(frozen=True, eq=False)
class Keyframe:
    latent: Latent
    duration: float = 1.0  # seconds from this keyframe to the next


@dataclass(frozen=True, eq=False)
class Path:
    keyframes: tuple[Keyframe, ...]
    space: str = "w"
    easing: str = "linear"
    loop: bool = False
    noise: str = "fixed"  # one of PATH_NOISE
    base: RenderRequest = field(default_factory=RenderRequest)  # truncation, noise... per frame

    def __post_init__(self) -> None:
        if len(self.keyframes) < 2:
            raise ValueError("a path needs at least two keyframes")
        if self.space not in SPACES or self.easing not in EASINGS:
            raise ValueError(f"space must be one of {SPACES} and easing one of {EASINGS}")
        if self.noise not in PATH_NOISE:
            raise ValueError(f"noise must be one of {PATH_NOISE}, got {self.noise!r}")
        if self.space == "z" and any(k.latent.w is not None for k in self.keyframes):
            raise ValueError("slerp in Z needs seed keyframes; loaded w's only interpolate in W")
        if not all(0 < k.duration < math.inf for k in self.keyframes):  # NaN fails too
            raise ValueError("segment durations must be positive and finite")

    @property
    def segments(self) -> int:
        return len(self.keyframes) if self.loop else len(self.keyframes) - 1

    @property
    def duration(self) -> float:
        return sum(k.duration for k in self.keyframes[: self.segments])

    def locate(self, t: float) -> tuple[int, float]:
        """(segment index, local parameter in [0, 1]) at time t (clamped, or wrapped for loops)."""
        total = self.duration
        t = t % total if self.loop else min(max(t, 0.0), total)
        starts = [0.0]
        for k in self.keyframes[: self.segments]:
            starts.append(starts[-1] + k.duration)
        i = min(bisect.bisect_right(starts, t) - 1, self.segments - 1)
        u = (t - starts[i]) / self.keyframes[i].duration
        return i, min(max(u, 0.0), 1.0)


def path_problem(path: Path, num_ws: int, w_dim: int) -> str | None:
    """Why a network with `num_ws` ws of `w_dim` cannot follow `path`, or None: a keyframe's
    w or the base request's offset saved with a network of another shape. Checked before a
    video starts, not at the frame that reaches that keyframe."""
    for i, k in enumerate(path.keyframes):
        if k.latent.w is not None:
            problem = ws_shape_problem(k.latent.w, num_ws, w_dim, f"keyframe {i}'s w")
            if problem:
                return problem
    if path.base.w_offset is not None:
        return ws_shape_problem(path.base.w_offset, num_ws, w_dim, "the path's w_offset")
    return None


def _ease(u: float, easing: str) -> float:
    return u * u * (3 - 2 * u) if easing == "ease" else u


def _catmull(p0, p1, p2, p3, u: float):
    """Uniform Catmull-Rom between p1 and p2."""
    u2, u3 = u * u, u * u * u
    return 0.5 * (
        2 * p1
        + (-p0 + p2) * u
        + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u2
        + (-p0 + 3 * p1 - 3 * p2 + p3) * u3
    )


@torch.no_grad()
def path_ws(renderer: Renderer, path: Path, t: float) -> torch.Tensor:
    """ws [num_ws, w_dim] at time t along the path."""
    n = len(path.keyframes)
    i, u = path.locate(t)

    def idx(k: int) -> int:
        return k % n if path.loop else min(max(k, 0), n - 1)

    if path.space == "z":
        G = renderer.G
        a, b = path.keyframes[i].latent, path.keyframes[idx(i + 1)].latent
        za = z_from_seed(a.seeds[0][0], G.z_dim).to(renderer.device)
        zb = z_from_seed(b.seeds[0][0], G.z_dim).to(renderer.device)
        z = slerp(za, zb, torch.tensor([[_ease(u, path.easing)]], device=renderer.device))
        z = z * math.sqrt(
            G.z_dim
        )  # back to the norm of a Gaussian z (the mapping normalises anyway)
        c = renderer.class_vector(a.class_idx)
        ws = G.mapping(z, c, update_w_avg=False)
        return truncate(ws, G.w_avg, path.base.psi, path.base.cutoff)[0]

    def ws_of(k: int) -> torch.Tensor:
        return renderer.latent_ws(path.keyframes[idx(k)].latent, path.base.psi, path.base.cutoff)

    if path.easing == "catmull":
        return _catmull(ws_of(i - 1), ws_of(i), ws_of(i + 1), ws_of(i + 2), u)
    return torch.lerp(ws_of(i), ws_of(i + 1), _ease(u, path.easing))


@torch.no_grad()
def local_path_length(
    renderer: Renderer, path: Path, t: float, distance: Callable, segment_seconds: float
) -> float:
    """The local path length d(G(t), G(t + eps)) / eps^2 at time t of the path, through this
    renderer's own mapping (eps a fraction EPS of the segment), with const noise: the Path tab's
    readout and what a test checks it against."""
    wa = path_ws(renderer, path, t)[None]
    wb = path_ws(renderer, path, t + EPS * segment_seconds)[None]
    return float(path_lengths(renderer.G, distance, wa, wb, noise_mode="const")[0])


def request_at(renderer: Renderer, path: Path, t: float, frame: int = 0) -> RenderRequest:
    """The render request for time t: explicit ws plus the path's shared settings."""
    ws = path_ws(renderer, path, t).cpu().numpy()
    base = path.base
    moving = path.noise != "fixed" and base.noise_mode != "none"
    return replace(
        base,
        latent=Latent(w=ws),
        style_sources=(),
        layer_sources=None,
        psi=1.0,
        cutoff=None,
        # Moving noise is random noise whatever the request had ('const' would not move).
        noise_mode="random" if moving else base.noise_mode,
        noise_seed=base.noise_seed + (frame if moving and path.noise == "animated" else 0),
        noise_phase=(
            # (a path that does not loop holds its noise too, past either end)
            2 * math.pi * (t if path.loop else min(max(t, 0.0), path.duration)) / path.duration
            if moving and path.noise == "smooth"
            else None
        ),
        request_id=frame,
    )


def frame_times(path: Path, fps: float) -> list[float]:
    """Times of the frames of a video: a loop leaves out the repeated last frame."""
    count = round(path.duration * fps)
    if not path.loop:
        count += 1
    return [k / fps for k in range(count)]


def path_to_dict(path: Path) -> dict:
    from stylegan2.render import _latent_to_dict, request_to_dict

    return {
        "keyframes": [
            {"latent": _latent_to_dict(k.latent), "duration": k.duration} for k in path.keyframes
        ],
        "space": path.space,
        "easing": path.easing,
        "loop": path.loop,
        "noise": path.noise,
        "base": request_to_dict(path.base),
    }


def _keyframe_from_dict(i: int, k: dict) -> Keyframe:
    from stylegan2.render import _latent_from_dict

    try:
        latent = _latent_from_dict(k["latent"])
    except ValueError as exc:
        raise ValueError(f"keyframe {i}: {exc}") from None
    return Keyframe(latent, float(k.get("duration", 1.0)))


def path_from_dict(d: dict) -> Path:
    from stylegan2.render import request_from_dict, strict_bool

    if not isinstance(d, dict):
        raise ValueError("not a path (not a JSON object)")
    try:
        keys = tuple(_keyframe_from_dict(i, k) for i, k in enumerate(d["keyframes"]))
        return Path(
            keys,
            d.get("space", "w"),
            d.get("easing", "linear"),
            strict_bool(d.get("loop", False), "loop"),
            d.get("noise", "fixed"),
            request_from_dict(d["base"]) if "base" in d else RenderRequest(),
        )
    except (KeyError, TypeError, AttributeError, OverflowError) as exc:
        # (OverflowError: a JSON integer too large for a float, as a duration)
        raise ValueError(f"not a path ({exc})") from None
