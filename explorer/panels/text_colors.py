"""Text colours that stay readable on the window's palette, light or dark.

The plots have a fixed dark background and use the light variants; labels sit on the window's
own palette, where the light variants would vanish on a light theme (amber on light grey is
about 1.3:1).
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel

#: role -> (on a dark palette, on a light palette)
_COLORS = {
    "twin": ("#fdd663", "#8a6100"),  # the compare twin: the amber of its chart bars
    "dim": ("#9aa0a6", "#5f6368"),  # secondary text
    "error": ("#f28b82", "#b3261e"),
}


def palette_is_dark() -> bool:
    app = QApplication.instance()
    return app is not None and app.palette().window().color().lightness() < 128


def on_dark(role: str) -> str:
    """The colour of `role` on a dark background (the plots')."""
    return _COLORS[role][0]


def text_color(role: str) -> str:
    """The CSS colour of `role` ('twin', 'dim' or 'error') for the current palette."""
    dark, light = _COLORS[role]
    return dark if palette_is_dark() else light


def note_label(text: str = "", visible: bool = True) -> QLabel:
    """A secondary, word-wrapped line of text (hints and notes under the controls)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {text_color('dim')};")
    label.setVisible(visible)
    return label
