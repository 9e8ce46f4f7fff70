"""Files of the main window: save / copy the image, load / save w, save / load the explorer
state (a state file, or a PNG the explorer saved), and what a drop on the window opens. Errors go
to the status bar; nothing is lost."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from explorer.context import Context
from explorer.controllers.path import PathController
from explorer.frames import FrameController
from explorer.panels.directions import DirectionsPanel
from explorer.panels.latent import LatentPanel
from explorer.state import MAX_STATE_BYTES, ExplorerState
from stylegan2.downloads import is_url
from stylegan2.input_files import file_problem
from stylegan2.io import IMAGE_SUFFIXES, PNG_STATE_KEY, ImageIOError, png_state, save_png
from stylegan2.latents import LatentFileError, load_w, save_w
from stylegan2.paths import path_from_dict, path_problem
from stylegan2.video import VideoSettings

log = logging.getLogger(__name__)
#: what a state that cannot be shown may raise: reported, never passed on to Qt
STATE_ERRORS = (
    OSError,
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    OverflowError,
    RecursionError,
    MemoryError,
)


def _has_state(path: str | Path) -> bool:
    try:
        png_state(path)
    except ValueError:
        return False
    return True


def write_png(
    ctx: Context, image: np.ndarray, path: str, text: dict[str, str] | None, done: str
) -> bool:
    """Save `image`; a failure (no permission, full disk) or `done` goes to the status bar."""
    try:
        save_png(image, path, text)
    except ImageIOError as exc:
        ctx.status.say(str(exc), 8000)
        return False
    ctx.status.say(done, 6000)
    return True


class FilesController:
    def __init__(
        self,
        ctx: Context,
        frames: FrameController,
        path: PathController,
        latent: LatentPanel,
        directions: DirectionsPanel,
    ) -> None:
        self.ctx = ctx
        self.frames = frames
        self.path = path
        self.latent = latent
        self.directions = directions
        self.load_error: str | None = None  # why the last load_state failed
        latent.load_w_requested.connect(self.load_w_dialog)
        latent.save_w_requested.connect(self.save_w_dialog)

    # The image -----------------------------------------------------------------------------------
    def _no_image(self) -> bool:
        """True, and the status bar says why, when there is no full image to save or copy."""
        if self.frames.last is None:
            why = "open a network first" if self.ctx.network is None else "nothing has rendered"
            self.ctx.status.say(f"no image yet: {why}", 6000)
            return True
        return self.frames.preview_on_screen()  # (which says so itself)

    def save_image_dialog(self) -> None:
        if self._no_image():
            return
        name = f"seed{self.ctx.model.state.seed:04d}.png"
        path, _ = QFileDialog.getSaveFileName(self.ctx.window, "Save image", name, "PNG (*.png)")
        path = self.ctx.with_suffix_confirmed(path, ".png")
        if path:
            self.save_image(path)

    def save_image(self, path: str) -> bool:
        frame = self.frames.last
        if frame is None or self.frames.preview_on_screen():
            return False
        # The state that made the image rides along (Load state, or a drop, reads it back),
        # but only when it did make this image: not a path frame, an older frame still on
        # screen while a newer one renders, or the last good frame after a render error.
        matches = self.frames.state_on_screen()
        text = None
        if matches:
            doc = json.loads(self.ctx.model.state.to_json(self.path.interpolation_dict()))
            text = {PNG_STATE_KEY: json.dumps(doc, separators=(",", ":"))}
        extra = (
            " (the first network's image; Compare → Save twin image… saves the other)"
            if self.ctx.compared is not None
            else ""
        )
        if not matches:
            extra += " (without its state: the image on screen is not the current state's)"
        return write_png(self.ctx, frame.main.image, path, text, f"saved {path}{extra}")

    def copy_image(self) -> None:
        if self._no_image():
            return
        img = self.frames.last.main.image
        h, w, c = img.shape
        fmt = QImage.Format.Format_RGB888 if c == 3 else QImage.Format.Format_Grayscale8
        QGuiApplication.clipboard().setImage(QImage(img.tobytes(), w, h, w * c, fmt).copy())
        self.ctx.status.say(f"copied the {w}x{h} image", 4000)

    # w -------------------------------------------------------------------------------------------
    def load_w_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.ctx.window, "Load w", "", "Latents (*.npz *.npy)"
        )
        if path:
            self.load_w(path)

    def load_w(self, path: str) -> bool:
        info = self.ctx.network
        if info is None:
            return False
        try:
            w = load_w(path, info.num_ws, info.w_dim)
        except LatentFileError as exc:
            self.ctx.status.say(str(exc), 8000)
            return False
        # A saved w is the rendered one, direction offset included: adding it again would
        # move the image (the sliders go to 0, directions stay).
        self.directions.reset()
        self.ctx.model.update(w=w.tolist())
        self.ctx.status.say(f"using w from {Path(path).name}", 4000)
        return True

    def save_w_dialog(self) -> None:
        if self.frames.last is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self.ctx.window, "Save w", "projected_w.npz", "NumPy (*.npz *.npy)"
        )
        if not path.lower().endswith(".npy"):
            path = self.ctx.with_suffix_confirmed(path, ".npz")
        if path:
            try:
                save_w(path, self.frames.last.main.ws)
            except LatentFileError as exc:
                self.ctx.status.say(str(exc), 8000)
                return
            self.ctx.status.say(f"saved w to {path}", 4000)

    # The state -----------------------------------------------------------------------------------
    def apply_state_text(self, text: str) -> None:
        """Show a state document, and its path if it holds one; ValueError/TypeError if bad
        (then nothing changes)."""
        state = ExplorerState.from_json(text)
        info = self.ctx.network
        if info is not None:
            state.check_for(info.num_ws, info.w_dim, info.c_dim)
        has_path, saved = ExplorerState.path_in(text)
        path = None if saved is None else path_from_dict(saved)
        if path is not None and info is not None:
            problem = path_problem(path, info.num_ws, info.w_dim)
            if problem:
                raise ValueError(f"the saved path does not fit this network: {problem}")
        export = None
        if saved is not None and "export" in saved:
            export = VideoSettings.from_dict(saved["export"])
        self.ctx.model.replace_all(state)
        self.directions.forget_sliders()  # the state's offset (or none) is what shows now
        self.latent.adopt_home()
        if path is not None:
            self.path.panel.load_path(path)
            if export is not None:
                self.path.model.set_export(**export.to_dict())
        elif has_path:  # saved without a path: the old keyframes do not belong to this state
            self.path.panel.clear()

    def state_text(self) -> str:
        """The state and the Path tab's path, as a state file holds them."""
        return self.ctx.model.state.to_json(self.path.interpolation_dict())

    def save_state_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.ctx.window, "Save state", "state.json", "JSON (*.json)"
        )
        path = self.ctx.with_suffix_confirmed(path, ".json")
        if path:
            self.save_state(path)

    def save_state(self, path: str) -> bool:
        """The state and the Path tab's path (for `stylegan2 generate/video --state`)."""
        interpolation = self.path.interpolation_dict()
        ok = self.ctx.write_or_report(path, lambda p: self.ctx.model.state.save(p, interpolation))
        if ok:
            self.ctx.status.say(f"saved state to {path}", 4000)
        return ok

    def load_state_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.ctx.window,
            "Load state",
            "",
            "States (*.json *.png);;JSON (*.json);;Saved images (*.png)",
        )
        if path:
            self.load_state(path)

    def load_state(self, path: str) -> bool:
        """A state file, or a PNG the explorer saved (its state rides in a text chunk)."""
        self.load_error = None
        try:
            p = Path(path)
            problem = file_problem(p)  # a FIFO would block the window
            if problem:
                raise ValueError(problem)
            if p.suffix.lower() == ".png":
                self.apply_state_text(png_state(p))
            elif p.stat().st_size > MAX_STATE_BYTES:
                raise ValueError(f"larger than any state file ({MAX_STATE_BYTES // 2**20} MiB)")
            else:
                self.apply_state_text(p.read_text(encoding="utf-8"))
        except STATE_ERRORS as exc:
            self.load_error = str(exc) or type(exc).__name__
        except Exception as exc:  # a bug, said in one line: it must not take the window down
            log.exception("loading the state %s", path)
            self.load_error = f"{type(exc).__name__}: {exc}"
        if self.load_error is not None:
            self.ctx.status.say(f"cannot load {Path(path).name}: {self.load_error}", 8000)
            return False
        return True

    def open_dropped(
        self,
        paths: list[str],
        open_network: Callable[[str], None],
        load_target: Callable[[str], bool],
    ) -> None:
        """Files dropped on the window: states, latents, saved images, photos to project, and
        anything else (http(s) URLs included) as a network."""
        for path in paths:
            suffix = Path(path).suffix.lower()
            if is_url(path):
                open_network(path)  # a network by URL: downloaded, then opened
            elif suffix == ".json":
                self.load_state(path)
            elif suffix in (".npy", ".npz"):
                self.load_w(path)
            elif suffix == ".png" and _has_state(path):
                # An image the explorer saved: bring back what made it (Open image… projects).
                if self.load_state(path):
                    self.ctx.status.say(
                        f"restored the state saved with {Path(path).name} (to project it "
                        "instead: Open image… in the Latent tab)",
                        8000,
                    )
            elif suffix in IMAGE_SUFFIXES:
                load_target(path)
            else:
                open_network(path)
