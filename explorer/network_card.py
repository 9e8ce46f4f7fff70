"""The Network card window: what each open network is, as `stylegan2 info` would say it (format,
dims, channels, precision, parameters), followed by the model card its file carries (how it was
trained, on what, what it measures, its notes), one tab per network when comparing."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from explorer.network_info import NetworkInfo
from stylegan2.checkpoints.common import format_label
from stylegan2.model_card import card_markdown, inline

# GitHub's dialect for the cards' tables and code blocks; no raw HTML, which a stranger's card
# could otherwise use to restyle or hide what the dialog shows.
MARKDOWN = QTextDocument.MarkdownFeature(
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub.value
    | QTextDocument.MarkdownFeature.MarkdownNoHTML.value
)

NO_CARD = (
    "This file carries no model card, so nothing here says what it was trained on or how. "
    "`stylegan2 bundle` writes one into the models it makes; `stylegan2 convert` notes the "
    "file a network was converted from."
)


def network_markdown(info: NetworkInfo) -> str:
    """The page for one network: its facts, then its model card (or a line saying it has none)."""
    f = info.facts
    params = f.get("parameters") or {}
    channels = f.get("channels") or {}
    classes = f"{info.c_dim} classes" if info.c_dim else "unconditional"
    fp16, clamp = f.get("num_fp16_res") or 0, f.get("conv_clamp")
    mixed = f"the top {fp16} resolutions in reduced precision" if fp16 else "none (float32)"
    clamp_text = f"conv outputs clamped to ±{clamp}" if clamp is not None else "no conv clamp"
    lines = [
        f"# {inline(info.name)}",
        "",
        f"- **File**: {inline(info.path)}",
        f"- **Format**: {inline(format_label(info.format))} "
        f"({inline(str(f.get('networks', 'G_ema')))})",
        f"- **Image**: {info.resolution}×{info.resolution} px, {info.img_channels} channels",
        f"- **Latents**: z {f.get('z_dim', '?')}, w {info.w_dim}, {info.num_ws} ws; {classes}",
        f"- **Mapping**: {f.get('mapping_layers', '?')} layers",
        f"- **Synthesis**: {info.architecture}, {info.normalization}; channels "
        + ", ".join(f"{r} px {c}" for r, c in channels.items()),
        f"- **Mixed precision (config)**: {mixed}; {clamp_text}",
        "- **Parameters**: "
        + ", ".join(f"{inline(k)} {v:,}" for k, v in params.items() if isinstance(v, int)),
        f"- **Rendering on**: {inline(info.device)}",
        "",
        "## Model card",
        "",
    ]
    body = card_markdown(info.card, level=2) if info.card else NO_CARD + "\n"
    return "\n".join(lines) + "\n" + body


def _wrap_code(doc: QTextDocument) -> None:
    """Let code blocks wrap: a card's training commands are long, and a page that scrolls sideways
    to read each one hides the flags that differ."""
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.nonBreakableLines():
            fmt.setNonBreakableLines(False)
            # a hanging indent: where one command ends and the next begins stays plain
            fmt.setLeftMargin(fmt.leftMargin() + 24)
            fmt.setTextIndent(-24)
            QTextCursor(block).setBlockFormat(fmt)
        block = block.next()


class CardPage(QTextBrowser):
    """A read-only page that loads nothing a card names: no image (a path such as /dev/zero would
    block the window), no stylesheet, and its links are text to read, not places to go."""

    def __init__(self) -> None:
        super().__init__()
        self.setOpenLinks(False)

    def loadResource(self, kind: int, name: QUrl) -> None:
        return None


class NetworkCardDialog(QDialog):
    """One read-only page per open network; show_networks() fills it again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Network card")
        self.tabs = QTabWidget()
        self.none_open = QLabel("No network is open.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.none_open)
        layout.addWidget(buttons)
        self.resize(820, 680)

    def show_networks(self, infos: list[NetworkInfo]) -> None:
        shown = self.tabs.currentIndex()
        old = [self.tabs.widget(i) for i in range(self.tabs.count())]
        self.tabs.clear()  # (which does not delete the pages)
        for page in old:
            page.deleteLater()
        for info in infos:
            page = CardPage()
            page.document().setMarkdown(network_markdown(info), MARKDOWN)
            _wrap_code(page.document())
            page.moveCursor(QTextCursor.MoveOperation.Start)  # open at the top
            self.tabs.addTab(page, info.stem)
            self.tabs.setTabToolTip(self.tabs.count() - 1, info.path)
        self.tabs.setVisible(bool(infos))
        self.none_open.setVisible(not infos)
        if infos:
            self.tabs.setCurrentIndex(min(max(shown, 0), len(infos) - 1))
