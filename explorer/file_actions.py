"""Files of the main window: save / copy the image, load / save w, save / load the explorer
state, and drag and drop of networks, states, latents and photos."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from explorer.state import ExplorerState

PNG_STATE_KEY = "stylegan2-explorer state"


def png_state(path: str | Path) -> str:
    """The explorer state a saved PNG carries; ValueError if it carries none."""
    from PIL import Image, PngImagePlugin, UnidentifiedImageError

    # Pillow refuses text chunks over 1 MiB (a decompression-bomb guard); a state with loaded
    # ws and path keyframes can be larger. 64 MiB is still a bound.
    limit, PngImagePlugin.MAX_TEXT_CHUNK = PngImagePlugin.MAX_TEXT_CHUNK, 64 * 2**20
    try:
        with Image.open(path) as im:
            text = im.text.get(PNG_STATE_KEY) if hasattr(im, "text") else None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValueError(f"not a readable PNG ({exc})") from None
    finally:
        PngImagePlugin.MAX_TEXT_CHUNK = limit
    if not text:
        raise ValueError("this PNG holds no explorer state (only images saved by the explorer do)")
    return text


def _has_state(path: str | Path) -> bool:
    try:
        png_state(path)
    except ValueError:
        return False
    return True


class FilesMixin:
    """Methods of MainWindow for files; errors go to the status bar, nothing is lost."""

    def save_image_dialog(self) -> None:
        if self.last_result is None:
            return
        name = f"seed{self.model.state.seed:04d}.png"
        path, _ = QFileDialog.getSaveFileName(self, "Save image", name, "PNG (*.png)")
        path = self.with_suffix_confirmed(path, ".png")
        if path:
            self.save_image(path)

    def preview_on_screen(self) -> bool:
        """True (and says so) while a low-resolution drag preview stands in for the frame."""
        if self.last_result is not None and self.last_result.preview_resolution:
            self.statusBar().showMessage(
                "the full-resolution frame is still rendering: try again in a moment", 6000
            )
            return True
        return False

    def write_png(self, image, path: str, text: dict[str, str] | None, done: str) -> bool:
        """Save `image`; a failure (no permission, full disk) or `done` goes to the status bar."""
        from stylegan2.io import ImageIOError, save_png

        try:
            save_png(image, path, text)
        except ImageIOError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return False
        self.statusBar().showMessage(done, 6000)
        return True

    def save_image(self, path: str) -> bool:
        if self.preview_on_screen():
            return False
        # The state that made the image rides along (Load state, or a drop, reads it back),
        # but only when it did make this image: not a path frame, an older frame still on
        # screen while a newer one renders, or the last good frame after a render error.
        r = self.last_result
        matches = r.request_id == self.next_id - 1 and not self.path_panel.active
        text = None
        if matches:
            doc = json.loads(self.model.state.to_json(self.interpolation_dict()))
            text = {PNG_STATE_KEY: json.dumps(doc, separators=(",", ":"))}
        extra = (
            " (the first network's image; Compare → Save twin image… saves the other)"
            if self.compare_path is not None
            else ""
        )
        if not matches:
            extra += " (without its state: the image on screen is not the current state's)"
        return self.write_png(r.image, path, text, f"saved {path}{extra}")

    def copy_image(self) -> None:
        if self.last_result is None or self.preview_on_screen():
            return
        img = self.last_result.image
        h, w, c = img.shape
        fmt = QImage.Format.Format_RGB888 if c == 3 else QImage.Format.Format_Grayscale8
        QGuiApplication.clipboard().setImage(QImage(img.tobytes(), w, h, w * c, fmt).copy())
        self.statusBar().showMessage(f"copied the {w}x{h} image", 4000)

    def load_w_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load w", "", "Latents (*.npz *.npy)")
        if path:
            self.load_w(path)

    def load_w(self, path: str) -> bool:
        from stylegan2.latents import LatentFileError, load_w

        if self.network_info is None:
            return False
        try:
            w = load_w(path, self.network_info["num_ws"], self.network_info["w_dim"])
        except LatentFileError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return False
        # A saved w is the rendered one, direction offset included: adding it again would
        # move the image (the sliders go to 0, directions stay).
        self.directions.reset()
        self.model.update(w=w.tolist())
        self.statusBar().showMessage(f"using w from {Path(path).name}", 4000)
        return True

    def save_w_dialog(self) -> None:
        if self.last_result is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save w", "projected_w.npz", "NumPy (*.npz *.npy)"
        )
        if not path.lower().endswith(".npy"):
            path = self.with_suffix_confirmed(path, ".npz")
        if path:
            from stylegan2.latents import LatentFileError, save_w

            try:
                save_w(path, self.last_result.ws)
            except LatentFileError as exc:
                self.statusBar().showMessage(str(exc), 8000)
                return
            self.statusBar().showMessage(f"saved w to {path}", 4000)

    def with_suffix_confirmed(self, path: str, suffix: str) -> str:
        """A save dialog's answer with `suffix` added when typed without it (so the load dialog's
        filter finds the file); replacing a file under the added name is asked first, as the
        dialog asked only about the name typed. '' for no."""
        if not path or path.lower().endswith(suffix):
            return path
        from PySide6.QtWidgets import QMessageBox

        full = path + suffix
        if Path(full).exists():
            answer = QMessageBox.question(self, "Replace file?", f"{full} exists. Replace it?")
            if answer != QMessageBox.StandardButton.Yes:
                return ""
        return full

    def write_or_report(self, path: str, write) -> bool:
        """Run write(path); an OS error (full disk, no permission) goes to the status bar."""
        try:
            write(path)
        except OSError as exc:
            self.statusBar().showMessage(f"cannot write {path}: {exc.strerror}", 8000)
            return False
        return True

    def interpolation_dict(self) -> dict | None:
        """The Path tab's path (two keyframes or more) as saved in state files."""
        from stylegan2.paths import path_to_dict

        path = self.path_panel.path(self.model.state.to_request())
        return None if path is None else path_to_dict(path)

    def apply_state_text(self, text: str) -> None:
        """Show a state document, and its path if it holds one; ValueError/TypeError if bad
        (then nothing changes)."""
        from stylegan2.paths import path_from_dict

        state = ExplorerState.from_json(text)
        if self.network_info is not None:
            state.check_for(self.network_info["num_ws"], self.network_info["w_dim"])
        has_path, saved = ExplorerState.path_in(text)
        path = None if saved is None else path_from_dict(saved)
        self.model.replace_all(state)
        self.directions.forget_sliders()  # the state's offset (or none) is what shows now
        self.latent.adopt_home()
        if path is not None:
            self.path_panel.load_path(path)
        elif has_path:  # saved without a path: the old keyframes do not belong to this state
            self.path_panel.clear()

    def save_state_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save state", "state.json", "JSON (*.json)")
        path = self.with_suffix_confirmed(path, ".json")
        if path:
            self.save_state(path)

    def save_state(self, path: str) -> bool:
        """The state and the Path tab's path (for `stylegan2 generate/video --state`)."""
        interpolation = self.interpolation_dict()
        ok = self.write_or_report(path, lambda p: self.model.state.save(p, interpolation))
        if ok:
            self.statusBar().showMessage(f"saved state to {path}", 4000)
        return ok

    def load_state_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load state", "", "States (*.json *.png);;JSON (*.json);;Saved images (*.png)"
        )
        if path:
            self.load_state(path)

    def load_state(self, path: str) -> bool:
        """A state file, or a PNG the explorer saved (its state rides in a text chunk)."""
        self.load_error = None
        try:
            if Path(path).suffix.lower() == ".png":
                self.apply_state_text(png_state(path))
            else:
                self.apply_state_text(Path(path).read_text())
        except (OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
            self.load_error = str(exc)
            self.statusBar().showMessage(f"cannot load {Path(path).name}: {exc}", 8000)
            return False
        return True

    def dragEnterEvent(self, e) -> None:
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:
        for url in e.mimeData().urls():
            path = url.toLocalFile()
            suffix = Path(path).suffix.lower()
            if suffix == ".json":
                self.load_state(path)
            elif suffix in (".npy", ".npz"):
                self.load_w(path)
            elif suffix == ".png" and _has_state(path):
                # An image the explorer saved: bring back what made it (Open image… projects).
                if self.load_state(path):
                    self.statusBar().showMessage(
                        f"restored the state saved with {Path(path).name} (to project it "
                        "instead: Open image… in the Latent tab)",
                        8000,
                    )
            elif suffix in (".png", ".jpg", ".jpeg", ".webp", ".bmp"):
                self.load_target(path)
            else:
                self.open_network(path)
