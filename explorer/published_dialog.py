"""The toolbar's "Open published network": the catalogue of published StyleGAN2 networks (by
the project that published them), with resolution, class labels, download size, licence and
whether each is cached already, and a line for any other URL or name. Before a download it says
plainly what the licence allows and how much will be fetched."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stylegan2 import catalogue
from stylegan2.catalogue import PublishedNetwork
from stylegan2.downloads import cached, default_cache_dir

GROUP_TITLES = {
    "stylegan2-ada-pytorch": "StyleGAN2-ADA (PyTorch)",
    "stylegan2-tf": "StyleGAN2 (TensorFlow, config F)",
    "stylegan3": "StyleGAN2 networks published with StyleGAN3",
}
COLUMNS = ("Name", "Resolution", "Classes", "Download", "Cached", "Licence")

#: asks a yes/no question (a seam for tests): (parent, title, text) -> yes
Ask = Callable[[QWidget, str, str], bool]


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


def download_notice(entry: PublishedNetwork) -> str:
    """What is said before a published network is downloaded."""
    return (
        f"{entry.name} is published by NVIDIA under a non-commercial licence "
        f"({entry.licence}): you may use it for research and evaluation, not commercially.\n\n"
        f"This downloads about {entry.size_mb} MB from {entry.url} into "
        f"{default_cache_dir()} (once; later uses read the cached copy).\n\nDownload it now?"
    )


class PublishedDialog(QDialog):
    """Choose a published network (or type a URL or name); `choice()` is what to open."""

    def __init__(self, parent: QWidget | None = None, ask: Ask = ask_yes_no) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open published network")
        self.resize(900, 560)
        self.ask = ask
        lay = QVBoxLayout(self)
        intro = QLabel(
            "StyleGAN2 networks published by NVIDIA. Each is downloaded once into the "
            "download cache; all are under NVIDIA's non-commercial licences."
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(True)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.fill()
        lay.addWidget(self.tree, 1)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.details)
        row = QHBoxLayout()
        row.addWidget(QLabel("Or a URL or name:"))
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://…/network.pkl, or a name such as ffhq")
        row.addWidget(self.url, 1)
        lay.addLayout(row)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.tree.currentItemChanged.connect(lambda item, _old: self._describe(item))
        self.tree.itemDoubleClicked.connect(lambda _item, _col: self.accept())

    def fill(self) -> None:
        """One branch per publishing project, one row per network."""
        self.tree.clear()
        self.items.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for entry in catalogue.NETWORKS:
            group = groups.get(entry.group)
            if group is None:
                group = QTreeWidgetItem([GROUP_TITLES.get(entry.group, entry.group)])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                groups[entry.group] = group
                self.tree.addTopLevelItem(group)
                group.setExpanded(True)
            item = QTreeWidgetItem(
                [
                    entry.name,
                    f"{entry.resolution} px",
                    "conditional" if entry.conditional else "–",
                    f"~{entry.size_mb} MB",
                    "yes" if cached(entry.url) else "no",
                    "non-commercial",
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, entry.name)
            item.setToolTip(0, entry.description)
            item.setToolTip(5, entry.licence)
            group.addChild(item)
            self.items[entry.name] = item
        for i in range(len(COLUMNS) - 1):
            self.tree.resizeColumnToContents(i)

    def select(self, name: str) -> None:
        self.tree.setCurrentItem(self.items[name])

    def _describe(self, item: QTreeWidgetItem | None) -> None:
        entry = self._entry(item)
        if entry is None:
            self.details.setText("")
            return
        self.details.setText(
            f"<b>{entry.name}</b>: {entry.description}, {entry.resolution} px"
            f"{', conditional' if entry.conditional else ''}.<br>Licence: {entry.licence}."
            f"<br>Source: {entry.source}.<br>{entry.url}"
        )

    def _entry(self, item: QTreeWidgetItem | None) -> PublishedNetwork | None:
        name = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return catalogue.find_network(name) if name else None

    def choice(self) -> str | None:
        """The typed URL or name if any, else the selected network's name."""
        typed = self.url.text().strip()
        if typed:
            return typed
        entry = self._entry(self.tree.currentItem())
        return entry.name if entry is not None else None

    def accept(self) -> None:
        """Open the choice, after saying what a download of a published network means."""
        arg = self.choice()
        if arg is None:
            return
        entry = catalogue.find_network(arg)
        if (
            entry is not None
            and cached(entry.url) is None
            and not self.ask(self, "Download a published network", download_notice(entry))
        ):
            return
        super().accept()


def show_published(
    parent: QWidget,
    on_choice: Callable[[str], None],
    on_closed: Callable[[PublishedDialog], None],
    title: str | None = None,
) -> PublishedDialog:
    """Open the catalogue (window-modal, not blocking): `on_choice` gets the chosen name or the
    typed URL, `on_closed` the dialog once it closes, after which it deletes itself."""
    dialog = PublishedDialog(parent)
    if title:
        dialog.setWindowTitle(title)
    dialog.accepted.connect(lambda: on_choice(dialog.choice() or ""))

    def closed(_result: int) -> None:
        on_closed(dialog)
        dialog.deleteLater()

    dialog.finished.connect(closed)
    dialog.open()
    return dialog
