"""A window showing one rendered image (e.g. the mixing grid) with Save PNG."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from explorer.image_view import ImageView
from stylegan2.io import ImageIOError, save_png


class ImageDialog(QDialog):
    def __init__(self, parent, title: str, image: np.ndarray, default_name: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.image = image
        self.default_name = default_name
        lay = QVBoxLayout(self)
        self.view = ImageView()
        self.view.set_image(image)
        lay.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.note = QLabel(f"{image.shape[1]} × {image.shape[0]} px")
        save = QPushButton("Save PNG…")
        save.clicked.connect(self.save_dialog)
        row.addWidget(self.note, 1)
        row.addWidget(save)
        lay.addLayout(row)
        self.resize(900, 700)

    def save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save image", self.default_name, "PNG (*.png)")
        if path:
            self.save(path)

    def save(self, path: str) -> bool:
        try:
            save_png(self.image, path)
        except ImageIOError as exc:
            self.note.setText(str(exc))
            return False
        self.note.setText(f"saved {path}")
        return True
