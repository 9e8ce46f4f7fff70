"""Networks by URL or published name in the explorer, served from 127.0.0.1 (never an outside
address): the download runs off the render thread with a progress dialog that cancels it, the
open network keeps rendering meanwhile, and a failure leaves it open and says why."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QPushButton

from stylegan2 import catalogue
from tests.conftest import DATA
from tests.explorer.conftest import settle
from tests.http_fixture import cache_files

# Fuzz, fault, subprocess and whole-app checks: CI runs them, the quick loop skips them.
pytestmark = pytest.mark.slow

ADA_FIXTURE = DATA / "sg2ada_tiny_snapshot.pkl"


@pytest.fixture
def server(http_server):
    """tests/conftest.py's 127.0.0.1 server; `cache` (also there) turns downloads on."""
    return http_server


def _point_network_at(monkeypatch, name: str, url: str) -> None:
    entries = tuple(
        dataclasses.replace(n, url=url) if n.name == name else n for n in catalogue.NETWORKS
    )
    monkeypatch.setattr(catalogue, "NETWORKS", entries)


def test_a_url_downloads_with_progress_and_cancels_while_the_old_network_renders(
    window, qtbot, server, cache, explorer_network
):
    shutil.copy(ADA_FIXTURE, server.root / "net.pkl")
    window.network.open(server.url("slow/net.pkl"))  # 1 KiB every 20 ms: seconds to come
    fetcher = window.ctx.fetcher
    qtbot.waitUntil(lambda: bool(fetcher.fetches) and fetcher.fetches[0].dialog is not None)
    dialog = fetcher.fetches[0].dialog
    assert dialog.isVisible() and "net.pkl" in dialog.labelText()
    qtbot.waitUntil(lambda: dialog.value() > 0, timeout=10_000)  # progress arrives
    # The window does not wait: the open network keeps following the controls.
    before = settle(qtbot, window)
    window.model.update(seed_x=7.0)
    assert (settle(qtbot, window) != before).any()
    qtbot.mouseClick(dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)  # Cancel
    qtbot.waitUntil(lambda: not fetcher.fetches, timeout=10_000)
    assert "cancelled" in window.ctx.status.network_line()
    assert window.ctx.network.path == explorer_network
    assert cache_files(cache) == []  # nothing half-written
    window.model.update(seed_x=8.0)
    settle(qtbot, window)


def test_a_published_name_opens_from_the_catalogue_dialog(
    window, qtbot, server, cache, monkeypatch
):
    _point_network_at(monkeypatch, "metfaces", server.add("metfaces.pkl", ADA_FIXTURE.read_bytes()))
    window.network.published_dialog()
    dialog = window.network.published
    assert dialog is not None and dialog.isVisible()
    row = dialog.items["metfaces"]
    assert row.text(4) == "no" and row.text(3).endswith("MB") and row.text(5) == "non-commercial"
    groups = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert len(groups) == 3 and "StyleGAN2-ADA (PyTorch)" in groups
    asked = []
    dialog.ask = lambda _parent, _title, text: asked.append(text) is None  # says yes
    dialog.select("metfaces")
    assert "metfaces" in dialog.details.text()
    with qtbot.waitSignal(window.worker.network_loaded, timeout=30_000) as loaded:
        dialog.accept()
    assert "non-commercial" in asked[0] and "364 MB" in asked[0]  # said before downloading
    assert loaded.args[1].path.endswith("metfaces.pkl")
    assert server.requests["/files/metfaces.pkl"] == 1
    settle(qtbot, window)
    # Cached now: listed so, opened again with no request and no question.
    window.network.published_dialog()
    again = window.network.published
    assert again.items["metfaces"].text(4) == "yes"
    again.ask = lambda *_a: pytest.fail("asked again about a cached network")
    again.select("metfaces")
    with qtbot.waitSignal(window.worker.network_loaded, timeout=30_000):
        again.accept()
    assert server.requests["/files/metfaces.pkl"] == 1


def test_declining_the_licence_downloads_nothing(window, qtbot, server, cache, monkeypatch):
    _point_network_at(monkeypatch, "ffhq", server.add("ffhq.pkl", ADA_FIXTURE.read_bytes()))
    window.network.published_dialog()
    dialog = window.network.published
    dialog.ask = lambda *_a: False
    dialog.select("ffhq")
    dialog.accept()
    assert dialog.isVisible() and server.total_requests == 0


def test_a_short_name_opens_by_itself(window, qtbot, server, cache, monkeypatch):
    _point_network_at(monkeypatch, "ffhq", server.add("ffhq.pkl", ADA_FIXTURE.read_bytes()))
    with qtbot.waitSignal(window.worker.network_loaded, timeout=30_000) as loaded:
        window.network.open("ffhq")
    assert loaded.args[1].format == "ada-pkl"
    assert window.ctx.status.network_line().startswith("ffhq.pkl — ")  # as published


def test_a_url_typed_in_the_open_dialog(window, qtbot, server, cache, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    url = server.add("typed.pkl", ADA_FIXTURE.read_bytes())
    monkeypatch.setattr(QFileDialog, "getOpenFileUrl", lambda *_a, **_k: (QUrl(url), ""))
    with qtbot.waitSignal(window.worker.network_loaded, timeout=30_000) as loaded:
        window.network.open_dialog()
    assert loaded.args[1].name == "typed.pkl"


def test_a_failure_before_any_network_is_said_on_the_welcome_page(qtbot, tmp_path, server, cache):
    from PySide6.QtCore import QSettings

    from explorer.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(win)
    win.network.open(server.url("files/nothing.pkl"))
    qtbot.waitUntil(lambda: "404" in win.ui.welcome_error.text(), timeout=10_000)
    assert "by hand" in win.ui.welcome_error.text() and win.ctx.network is None
    win.close()


def test_a_failed_url_leaves_the_old_network(window, qtbot, server, cache, explorer_network):
    window.network.open(server.url("missing"))
    qtbot.waitUntil(lambda: "404" in window.ctx.status.network_line(), timeout=10_000)
    line = window.ctx.status.network_line()
    assert "still showing" in line and "by hand" in window.ui.net_label.toolTip()
    assert window.ctx.network.path == explorer_network
    assert cache_files(cache) == []
    window.model.update(seed_x=3.0)
    settle(qtbot, window)


def test_a_near_miss_name_is_answered_with_the_names(window, qtbot, cache):
    window.network.open("ffhqq")
    assert "did you mean ffhq" in window.ui.net_label.toolTip()


def test_a_dropped_url_opens_as_a_network(window, qtbot, server, cache):
    url = server.add("dropped.pkl", ADA_FIXTURE.read_bytes())
    mime = QMimeData()
    mime.setUrls([QUrl(url)])
    event = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.worker.network_loaded, timeout=30_000) as loaded:
        window.dropEvent(event)
    assert loaded.args[1].path.endswith("dropped.pkl")


def test_compare_with_a_url(window, qtbot, server, cache):
    url = server.add("twin.pkl", ADA_FIXTURE.read_bytes())
    with qtbot.waitSignal(window.worker.network_loaded, timeout=30_000) as loaded:
        window.compare.open(url)
    assert loaded.args[0] == 1
    qtbot.waitUntil(lambda: window.ctx.compared is not None, timeout=10_000)


def _point_vgg16_at(monkeypatch, url: str) -> None:
    table = dict(
        catalogue.DETECTORS, vgg16=dataclasses.replace(catalogue.DETECTORS["vgg16"], url=url)
    )
    monkeypatch.setattr(catalogue, "DETECTORS", table)


def _two_keyframes(window) -> None:
    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("1,2")
    panel.keyframes.duration.setValue(1.0)
    panel.keyframes.add_seeds_button.click()


def test_lpips_weights_are_asked_for_once_then_fetched(window, qtbot, server, cache, monkeypatch):
    from explorer.controllers import path as path_controller

    _point_vgg16_at(monkeypatch, server.add("vgg16.pt", b"weights"))
    real = path_controller.load_distance
    used = []
    monkeypatch.setattr(
        path_controller, "load_distance", lambda p: used.append(p) is None and real(None)
    )
    asked = []
    window.lpips.ask = lambda _w, _t, text: asked.append(text) is None  # yes
    _two_keyframes(window)
    assert used == [None]  # the pixel fallback at once: nothing waits for the download
    qtbot.waitUntil(lambda: len(used) == 2, timeout=20_000)
    assert len(asked) == 1 and "528 MB" in asked[0] and "non-commercial" in asked[0]
    assert used[1] == str(catalogue.cached_weights("vgg16"))
    assert window.ctx.prefs.get("lpips_download") == "yes"
    assert server.requests["/files/vgg16.pt"] == 1
    qtbot.waitUntil(lambda: len(window.ui.path.samples) == 8, timeout=60_000)


def test_projection_measures_with_the_weights_the_path_tab_downloaded(
    window, qtbot, server, cache, monkeypatch
):
    from explorer.controllers import projection as projection_controller

    _point_vgg16_at(monkeypatch, server.add("vgg16.pt", b"weights"))
    assert window.ctx.prefs.lpips_weights_to_use() is None  # nothing set, nothing cached
    window.lpips.ask = lambda *_a: True
    assert window.lpips.offer_download()
    qtbot.waitUntil(lambda: catalogue.cached_weights("vgg16") is not None, timeout=20_000)
    real = projection_controller.load_distance
    used = []
    monkeypatch.setattr(
        projection_controller,
        "load_distance",
        lambda p, device: used.append(p) is None and real(None, device),
    )
    window.ui.projection.set_target(settle(qtbot, window), "")
    window.ui.projection.steps.setValue(2)
    with qtbot.waitSignal(window.projection.finished, timeout=60_000):
        window.ui.projection.start.click()
    assert used == [str(catalogue.cached_weights("vgg16"))]


def test_a_projection_offers_the_lpips_weights_too(window, qtbot, server, cache, monkeypatch):
    _point_vgg16_at(monkeypatch, server.add("vgg16.pt", b"weights"))
    asked = []
    window.lpips.ask = lambda _w, _t, text: asked.append(text) is None and False  # no
    window.ui.projection.set_target(settle(qtbot, window), "")
    window.ui.projection.steps.setValue(2)
    with qtbot.waitSignal(window.projection.finished, timeout=60_000):
        window.ui.projection.start.click()
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10_000)
    assert "projection" in asked[0] and "not LPIPS" in window.ui.projection.status.text()
    assert window.ctx.prefs.get("lpips_download") == "no" and server.total_requests == 0


def test_declined_lpips_weights_keep_the_fallback_and_are_not_asked_again(
    window, qtbot, server, cache, monkeypatch
):
    _point_vgg16_at(monkeypatch, server.add("vgg16.pt", b"weights"))
    asked = []
    window.lpips.ask = lambda *_a: asked.append(1) is None and False  # no
    _two_keyframes(window)
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10_000)
    assert window.ctx.prefs.get("lpips_download") == "no"
    qtbot.waitUntil(lambda: len(window.ui.path.samples) == 8, timeout=60_000)
    assert "not LPIPS" in window.ui.path.readout.text()
    window.lpips.offered = False  # as in a new session: the remembered answer is used
    assert not window.lpips.offer_download()
    assert len(asked) == 1 and server.total_requests == 0


def test_offline_lpips_is_never_asked(window, qtbot):
    window.lpips.ask = lambda *_a: pytest.fail("asked while downloads are off")
    _two_keyframes(window)
    qtbot.waitUntil(lambda: len(window.ui.path.samples) == 8, timeout=60_000)
    assert not window.lpips.offered


def test_compare_with_a_published_network(window, qtbot, server, cache, monkeypatch):
    _point_network_at(monkeypatch, "afhqcat", server.add("afhqcat.pkl", ADA_FIXTURE.read_bytes()))
    window.compare.published_dialog()
    dialog = window.compare.published
    dialog.ask = lambda *_a: True
    dialog.select("afhqcat")
    with qtbot.waitSignal(window.worker.network_loaded, timeout=30_000) as loaded:
        dialog.accept()
    assert loaded.args[0] == 1 and loaded.args[1].name == "afhqcat.pkl"
    assert window.ctx.network.name == "tiny.safetensors"  # the first network stays


class _RunsCode:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def test_a_hostile_pickle_by_url_is_refused_like_a_local_one(
    window, qtbot, server, cache, explorer_network, tmp_path
):
    import pickle

    marker = tmp_path / "code-ran"
    url = server.add("hostile.pkl", pickle.dumps({"G_ema": _RunsCode(str(marker))}))
    with qtbot.waitSignal(window.worker.network_failed, timeout=30_000):
        window.network.open(url)
    assert not marker.exists()
    assert window.ctx.status.network_line().startswith("Could not open hostile.pkl: ")
    assert window.ctx.network.path == explorer_network
    settle(qtbot, window)
