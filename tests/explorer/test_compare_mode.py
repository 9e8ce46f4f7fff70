"""Compare mode in the window: a second network driven by the same controls, its feature maps and
blob scores beside the first's, and a clean exit from the mode."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from stylegan2.render import Renderer
from tests.explorer.conftest import settle


@pytest.fixture(scope="module")
def adain_network(tmp_path_factory) -> str:
    return _adain_file(tmp_path_factory.mktemp("twin"))


def _adain_file(folder) -> str:
    from stylegan2.checkpoints import save_checkpoint
    from stylegan2.config import MappingConfig
    from stylegan2.networks import Generator
    from tests.conftest import randomize_, tiny_config

    cfg = dataclasses.replace(
        tiny_config(normalization="adain"), mapping=MappingConfig(num_layers=2, lr_multiplier=1.0)
    )
    G = randomize_(Generator(cfg), seed=5).eval()
    return str(save_checkpoint(folder / "adain.safetensors", G))


def _compare(window, qtbot, path):
    with qtbot.waitSignal(window.worker.compare_loaded, timeout=30_000):
        window.open_compare(path)
    qtbot.waitUntil(lambda: window.twin_view.image is not None, timeout=30_000)


def test_same_controls_drive_both_networks(window, qtbot, adain_network):
    from stylegan2.checkpoints import load_network

    _compare(window, qtbot, adain_network)
    assert window.twin_view.isVisible() or not window.isVisible()
    assert "adain" in window.twin_caption.text()
    twin = Renderer(load_network(adain_network))
    window.model.update(seed_x=7.0, psi=0.5)
    settle(qtbot, window)
    result = window.last_result
    expected = twin.render(window.model.state.to_request())
    assert np.array_equal(result.twin.image, expected.image)
    assert np.array_equal(window.twin_view.image, expected.image)
    assert not np.array_equal(result.image, result.twin.image)


def test_feature_maps_and_blob_scores_side_by_side(window, qtbot, adain_network):
    _compare(window, qtbot, adain_network)
    window.tabs.setCurrentIndex(window.features_tab)
    settle(qtbot, window)
    f = window.features
    layer = f.current_layer()
    assert f.twin_data is not None and f.twin_data.shape == f.data.shape
    assert np.array_equal(f.twin_data, window.last_result.twin.captures[layer])
    assert "adain" in f.twin_stats.text() and "peak/median" in f.twin_stats.text()
    assert len(window.twin_view.marker.data) == 1  # its strongest blob circled on its image
    # Same scale: the two maps share one divisor, so the brighter network keeps full range.
    f.mark.setChecked(False)  # the marker is drawn at full brightness
    f.norm.setCurrentIndex(1)  # global
    f.same_scale.setChecked(True)
    brighter = max(np.abs(f.data).mean(0).max(), np.abs(f.twin_data).mean(0).max())
    dimmer_view = f.view if np.abs(f.data).mean(0).max() < brighter else f.twin_view
    assert dimmer_view.image.max() < 255
    f.same_scale.setChecked(False)
    assert min(f.view.image.max(), f.twin_view.image.max()) >= 254  # each on its own scale
    f.mark.setChecked(True)
    with qtbot.waitSignal(
        window.worker.job_done, timeout=30_000, check_params_cb=lambda n, r, e: n == "blob-scores"
    ) as sig:
        f.all_layers_requested.emit()
    main, twin = sig.args[1]
    assert [row[0] for row in main] == [row[0] for row in twin]
    assert len(f.twin_bars.opts["height"]) == len(twin)
    with qtbot.waitSignal(
        window.worker.job_done, timeout=30_000, check_params_cb=lambda n, r, e: n == "usage"
    ) as sig:
        f.usage_requested.emit()
    main, twin = sig.args[1]
    assert len(main) == len(twin) == 2 and abs(sum(twin[1].values()) - 1) < 1e-6


def test_stop_comparing_and_bad_compare_file(window, qtbot, adain_network, tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with qtbot.waitSignal(window.worker.compare_failed, timeout=30_000):
        window.open_compare(str(bad))
    assert window.compare_path is None and "broken" in window.statusBar().currentMessage()
    _compare(window, qtbot, adain_network)
    window.close_compare()
    window.model.update(seed_x=3.0)
    settle(qtbot, window)
    assert window.last_result.twin is None and window.twin_view.isHidden()


def test_closing_compare_while_it_loads_sticks(window, qtbot, adain_network):
    window.open_compare(adain_network)
    window.close_compare()  # the load may be queued or already running
    qtbot.wait(1500)
    window.model.update(seed_x=5.0)
    settle(qtbot, window)
    assert window.compare_path is None and window.worker._compare is None
    assert window.last_result.twin is None


def test_queued_jobs_do_not_run_on_a_newly_opened_network(window, qtbot, explorer_network):
    results = []
    window.worker.job_done.connect(lambda name, r, e: results.append((name, e)))
    with window.worker._cond:  # hold the worker so that the job is still queued
        window.worker.run_job("probe", lambda r: r.G.num_ws)
        window.worker.load_network(explorer_network, "cpu")
    qtbot.waitUntil(lambda: any(n == "probe" for n, _ in results), timeout=10_000)
    assert ("probe", "cancelled: another network was opened") in results


def test_twin_follows_a_path_and_video_is_side_by_side(window, qtbot, adain_network, tmp_path):
    from PIL import Image

    from stylegan2.checkpoints import load_network
    from stylegan2.paths import request_at

    _compare(window, qtbot, adain_network)
    panel = window.path_panel
    panel.seeds_edit.setText("4,5")
    panel.duration.setValue(1.0)
    panel._add_seeds()
    panel.fps.setValue(4)
    panel.export_scale.setValue(1)  # native size, to compare pixels
    panel.scrub.setValue(500)  # t = 0.5 s
    settle(qtbot, window)
    twin = Renderer(load_network(adain_network))
    path = panel.path(window.model.state.to_request())
    expected = twin.render(request_at(twin, path, 0.5, 2)).image
    assert np.array_equal(window.last_result.twin.image, expected)  # not a fixed seed
    assert window.last_result.notes == ()
    out = tmp_path / "frames"
    with qtbot.waitSignal(
        window.worker.job_done, timeout=60_000, check_params_cb=lambda n, r, e: n == "video"
    ):
        assert window.export_video(str(out))
    frame = np.asarray(Image.open(sorted(out.glob("frame*.png"))[2]))
    res = window.network_info["resolution"]
    assert frame.shape == (res, 2 * res, 3)
    np.testing.assert_array_equal(frame[:, res:], expected)
    np.testing.assert_array_equal(frame[:, :res], window.last_result.image)


def test_save_twin_image(window, qtbot, adain_network, tmp_path):
    from PIL import Image

    assert window.twin_image() is None and not window.save_twin_image(str(tmp_path / "t.png"))
    _compare(window, qtbot, adain_network)
    settle(qtbot, window)
    assert window.save_image(str(tmp_path / "a.png"))
    assert "Save twin image" in window.statusBar().currentMessage()
    assert window.save_twin_image(str(tmp_path / "t.png"))
    saved = np.asarray(Image.open(tmp_path / "t.png"))
    assert np.array_equal(saved, window.last_result.twin.image)
    window._fill_compare()
    names = [a.text() for a in window.compare_menu.actions()]
    assert "Save twin image…" in names
