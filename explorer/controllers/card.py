"""The toolbar's Network card: one window, kept up to date while it is open as networks open,
are compared or stop being compared."""

from __future__ import annotations

from PySide6.QtCore import QObject

from explorer.context import Context
from explorer.network_card import NetworkCardDialog


class CardController(QObject):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.dialog: NetworkCardDialog | None = None

    def show(self) -> None:
        if self.dialog is None:
            self.dialog = NetworkCardDialog(self.ctx.window)
        self.dialog.show_networks(list(self.ctx.networks))
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def refresh(self) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.show_networks(list(self.ctx.networks))
