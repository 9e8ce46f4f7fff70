"""The Path tab's path as plain evented Python (no Qt): the keyframes with their labels, how they
are interpolated, and how the path is played and exported. The panel shows it and edits it; the
path controller owns it and turns it into `stylegan2.paths.Path`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from stylegan2.paths import Keyframe, Path
from stylegan2.render import Latent, RenderRequest
from stylegan2.video import VideoSettings

#: called with True when the path itself changed (keyframes, interpolation), False when only
#: how it is played or exported did
PathListener = Callable[[bool], None]


@dataclass(frozen=True)
class Interpolation:
    space: str = "w"  # 'w': lerp per layer; 'z': slerp of seeds
    easing: str = "linear"
    loop: bool = False
    noise: str = "fixed"  # one of stylegan2.paths.PATH_NOISE


#: how the path is exported (saved with the state, read by `stylegan2 video --state`)
ExportSettings = VideoSettings


class PathModel:
    def __init__(self) -> None:
        self.keyframes: list[Keyframe] = []
        self.labels: list[str] = []  # what the keyframe list shows for each
        self.interpolation = Interpolation()
        self.export = ExportSettings()
        self._listeners: list[PathListener] = []

    def subscribe(self, fn: PathListener) -> None:
        self._listeners.append(fn)

    def _notify(self, path_changed: bool = True) -> None:
        for fn in list(self._listeners):
            fn(path_changed)

    # Keyframes ----------------------------------------------------------------------------------
    def add(self, latent: Latent, duration: float, label: str) -> None:
        self.keyframes.append(Keyframe(latent, duration))
        self.labels.append(label)
        self._notify()

    def move(self, i: int, d: int) -> bool:
        j = i + d
        if not (0 <= i < len(self.keyframes) and 0 <= j < len(self.keyframes)):
            return False
        for items in (self.keyframes, self.labels):
            items[i], items[j] = items[j], items[i]
        self._notify()
        return True

    def remove(self, i: int) -> None:
        if 0 <= i < len(self.keyframes):
            del self.keyframes[i]
            del self.labels[i]
            self._notify()

    def set_duration(self, i: int, duration: float) -> None:
        if 0 <= i < len(self.keyframes):
            self.keyframes[i] = Keyframe(self.keyframes[i].latent, duration)
            self._notify()

    def clear(self) -> None:
        self.keyframes.clear()
        self.labels.clear()
        self._notify()

    def load(self, path: Path) -> None:
        """A saved path: its keyframes and its interpolation."""
        self.keyframes = list(path.keyframes)
        self.labels = [_label(k.latent) for k in path.keyframes]
        self.interpolation = Interpolation(path.space, path.easing, path.loop, path.noise)
        self._notify()

    # Settings -----------------------------------------------------------------------------------
    def set_interpolation(self, **changes: Any) -> None:
        new = replace(self.interpolation, **changes)
        if new != self.interpolation:
            self.interpolation = new
            self._notify()

    def set_export(self, **changes: Any) -> None:
        new = replace(self.export, **changes)
        if new != self.export:
            self.export = new
            self._notify(path_changed=False)

    # The path -----------------------------------------------------------------------------------
    def path(self, base: RenderRequest) -> Path | None:
        """The path over `base` (None below two keyframes); ValueError if it cannot be one."""
        if len(self.keyframes) < 2:
            return None
        i = self.interpolation
        return Path(tuple(self.keyframes), i.space, i.easing, i.loop, i.noise, base)


def _label(latent: Latent) -> str:
    seeds = latent.seeds
    single = seeds is not None and len(seeds) == 1 and latent.w is None
    return f"seed {seeds[0][0]}" if single else "w"
