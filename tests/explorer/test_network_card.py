"""The Network card window: each open network's facts and its model card, one tab per network,
kept up to date while it is open."""

from __future__ import annotations

import dataclasses

from explorer.network_card import NO_CARD, network_markdown
from tests.explorer.test_compare_mode import _adain_file, _compare


def _page(dialog, index: int) -> str:
    """What page `index` of the dialog shows, as plain text."""
    return dialog.tabs.widget(index).toPlainText()


def test_facts_and_card_of_the_open_network(window, qtbot):
    info = window.ctx.network
    md = network_markdown(info)
    z = info.facts["z_dim"]
    assert f"**Latents**: z {z}, w {info.w_dim}, {info.num_ws} ws; unconditional" in md
    assert NO_CARD in md  # the test network is saved without a card
    carded = dataclasses.replace(info, card={"title": "Faces", "notes": ["draws *faces*"]})
    md = network_markdown(carded)
    assert "## Model card\n\n## Faces\n" in md and "- draws *faces*" in md
    # Markdown in a path is shown as written, not as formatting.
    odd = dataclasses.replace(info, path="/tmp/my_net_[1].safetensors")
    assert r"my_net_\[1\]" in network_markdown(odd)


def test_the_window_follows_the_networks(window, qtbot, tmp_path):
    window.card.show()
    dialog = window.card.dialog
    assert dialog.isVisible() and dialog.tabs.count() == 1
    text = _page(dialog, 0)
    assert "Model card" in text and "tiny.safetensors" in text
    _compare(window, qtbot, _adain_file(tmp_path))
    assert dialog.tabs.count() == 2 and "adain" in _page(dialog, 1)
    window.compare.close()
    assert dialog.tabs.count() == 1
    # Another first network, opened while the window shows: its page replaces the old one.
    (tmp_path / "other").mkdir()
    other = _adain_file(tmp_path / "other")
    with qtbot.waitSignal(window.network.opened, timeout=30_000):
        window.network.open(other)
    assert dialog.tabs.count() == 1 and "tiny.safetensors" not in _page(dialog, 0)
    assert "adain" in _page(dialog, 0) and str(tmp_path / "other") in _page(dialog, 0)
    dialog.close()
    page = dialog.tabs.widget(0)
    window.card.refresh()  # hidden: nothing is rebuilt
    assert dialog.tabs.widget(0) is page
    _compare(window, qtbot, _adain_file(tmp_path))
    window.card.show()  # reopened, it shows what is open now
    assert dialog.tabs.count() == 2


def test_a_hostile_card_renders_as_text(window, qtbot):
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QTextDocument

    from explorer.network_card import NetworkCardDialog

    card = {
        "title": "<b>bold</b>",
        "notes": ['<img src="file:///etc/passwd">', "[link](http://127.0.0.1:1/x)"],
        "figures": {"blob_scores": {"layers": {"b4": {"resolution": "4"}}}},
        "commands": "rm -rf /",
    }
    dialog = NetworkCardDialog()
    qtbot.addWidget(dialog)
    dialog.show_networks([dataclasses.replace(window.ctx.network, card=card)])
    text = _page(dialog, 0)
    assert "<b>bold</b>" in text and "<img" in text and "rm -rf" not in text
    # Markdown images and links are text too: nothing a card names is loaded or followed.
    page = dialog.tabs.widget(0)
    assert (
        page.loadResource(QTextDocument.ResourceType.ImageResource.value, QUrl("/dev/zero")) is None
    )
    assert not page.openLinks() and not page.openExternalLinks()
