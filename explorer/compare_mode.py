"""Compare mode in the main window: open a second network (a bundled model or any file), show it
beside the first with captions and notes, and leave the mode. The worker renders every request
with both (see RenderWorker.load_network(compare=True) and stylegan2.compare)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog


class CompareMixin:
    """Methods of MainWindow; they use its widgets (twin_view, captions, features, compare_menu)
    and its worker."""

    def open_compare(self, path: str) -> None:
        """Load a second network; every render then shows it beside the first."""
        if self.network_info is None:
            self.statusBar().showMessage("open a network first", 6000)
            return
        self.statusBar().showMessage(f"loading {Path(path).name} to compare…")
        self.worker.load_network(path, self.device, compare=True)

    def compare_dialog(self) -> None:
        start = str(Path(self.network_path).parent) if self.network_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Compare with", start, network_filter())
        if path:
            self.open_compare(path)

    def close_compare(self) -> None:
        self.worker.close_compare()
        self.compare_path = self.compare_info = None
        self.features.set_compare(None, None)
        self._show_twin(False)
        self.request_render()

    def _show_twin(self, on: bool) -> None:
        """Show or hide the compare column and both captions; the twin starts blank."""
        for w in (
            self.main_caption,
            self.twin_caption,
            self.twin_view,
            self.twin_notes,
            self.twin_column,
        ):
            w.setVisible(on)
        self.twin_view.image = None

    def _fill_compare(self) -> None:
        from explorer.app import bundled_networks

        self.compare_menu.clear()
        for path in bundled_networks():
            if self.network_path and Path(path).resolve() == Path(self.network_path).resolve():
                continue
            a = self.compare_menu.addAction(f"Bundled: {Path(path).stem}")
            a.setToolTip(path)
            a.triggered.connect(lambda _=False, p=path: self.open_compare(p))
        self.compare_menu.addAction("Other network…").triggered.connect(self.compare_dialog)
        twin = self.compare_menu.addAction("Save twin image…")
        twin.setEnabled(self.twin_image() is not None)
        twin.triggered.connect(self.save_twin_dialog)
        stop = self.compare_menu.addAction("Stop comparing")
        stop.setEnabled(self.compare_path is not None)
        stop.triggered.connect(self.close_compare)

    def twin_image(self):
        """The compare network's image on screen (None when not comparing, or on an error)."""
        r = self.last_result
        if self.compare_path is None or r is None or r.twin is None or r.twin.error:
            return None
        return r.twin.image

    def save_twin_dialog(self) -> None:
        name = f"seed{self.model.state.seed:04d}-{Path(self.compare_path or 'twin').stem}.png"
        path, _ = QFileDialog.getSaveFileName(self, "Save twin image", name, "PNG (*.png)")
        if path:
            self.save_twin_image(self.with_suffix_confirmed(path, ".png"))

    def save_twin_image(self, path: str) -> bool:
        image = self.twin_image()
        if not path or image is None or self.preview_on_screen():
            return False
        return self.write_png(image, path, None, f"saved the twin's image to {path}")

    def _on_compare(self, info: dict, path: str) -> None:
        self.compare_path, self.compare_info = path, info
        main_name, twin_name = Path(self.network_path or "").stem, Path(path).stem
        self.main_caption.setText(
            f"{main_name} — {self.network_info['normalization'] if self.network_info else ''}"
        )
        self.twin_caption.setText(f"{twin_name} — {info['normalization']}")
        self._show_twin(True)
        self.features.set_compare(main_name, twin_name)
        self.statusBar().showMessage(f"comparing with {Path(path).name}", 6000)
        self.request_render()

    def _on_compare_failed(self, path: str, error: str) -> None:
        self.statusBar().showMessage(f"Could not open {Path(path).name} to compare: {error}", 10000)


def network_filter() -> str:
    from explorer.main_window import NETWORK_FILTER

    return NETWORK_FILTER
