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
    with qtbot.waitSignal(
        window.worker.network_loaded, timeout=30_000, check_params_cb=lambda i, _info: i == 1
    ):
        window.compare.open(path)
    qtbot.waitUntil(lambda: window.ui.twin_view.image is not None, timeout=30_000)


def test_the_status_bar_names_the_compared_network(window, qtbot, adain_network):
    main = window.ctx.network.summary()
    _compare(window, qtbot, adain_network)
    assert window.ui.net_label.text() == f"{main}   |   compared with adain.safetensors (adain)"
    window.compare.close()
    assert window.ui.net_label.text() == main


def test_same_controls_drive_both_networks(window, qtbot, adain_network):
    from stylegan2.checkpoints import load_network

    _compare(window, qtbot, adain_network)
    assert window.ui.twin_view.isVisible() or not window.isVisible()
    assert "AdaIN (StyleGAN1, config A)" in window.ui.area.twin_caption.text()
    twin = Renderer(load_network(adain_network))
    window.model.update(seed_x=7.0, psi=0.5)
    settle(qtbot, window)
    result, twin_result = window.frames.last.results
    expected = twin.render(window.model.state.to_request())
    assert np.array_equal(twin_result.image, expected.image)
    assert np.array_equal(window.ui.twin_view.image, expected.image)
    assert not np.array_equal(result.image, twin_result.image)


def test_feature_maps_and_blob_scores_side_by_side(window, qtbot, adain_network):
    _compare(window, qtbot, adain_network)
    window.ui.tabs.select("Features")
    settle(qtbot, window)
    f = window.ui.features
    layer = f.current_layer()
    assert f.twin_data is not None and f.twin_data.shape == f.data.shape
    assert np.array_equal(f.twin_data, window.frames.last.results[1].captures[layer])
    assert "adain" in f.twin_stats.text() and "peak/median" in f.twin_stats.text()
    assert len(window.ui.twin_view.marker.data) == 1  # its strongest blob circled on its image
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
    with qtbot.waitSignal(window.features.scores_ready, timeout=30_000) as sig:
        f.all_layers_requested.emit()
    main, twin = sig.args[0]
    assert [row[0] for row in main] == [row[0] for row in twin]
    assert len(f.blob_chart.twin_bars.opts["height"]) == len(twin)
    with qtbot.waitSignal(window.features.usage_ready, timeout=30_000) as sig:
        f.usage_requested.emit()
    main, twin = sig.args[0]
    assert len(main) == len(twin) == 2 and abs(sum(twin[1].values()) - 1) < 1e-6


def test_stop_comparing_and_bad_compare_file(window, qtbot, adain_network, tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with qtbot.waitSignal(
        window.worker.network_failed, timeout=30_000, check_params_cb=lambda i, *_: i == 1
    ):
        window.compare.open(str(bad))
    said = window.statusBar().currentMessage()
    assert window.ctx.compared is None and said.startswith("Could not open broken.safetensors")
    assert str(bad) not in said  # the file named once
    _compare(window, qtbot, adain_network)
    window.compare.close()
    window.model.update(seed_x=3.0)
    settle(qtbot, window)
    assert len(window.frames.last.results) == 1 and window.ui.twin_view.isHidden()


@pytest.mark.slow
def test_closing_compare_while_it_loads_sticks(window, qtbot, adain_network):
    window.compare.open(adain_network)
    window.compare.close()  # the load may be queued or already running
    qtbot.wait(1500)
    window.model.update(seed_x=5.0)
    settle(qtbot, window)
    assert window.ctx.compared is None and window.worker.network_count() == 1
    assert len(window.frames.last.results) == 1


def test_queued_jobs_do_not_run_on_a_newly_opened_network(window, qtbot, explorer_network):
    results = []
    with window.worker._cond:  # hold the worker so that the job is still queued
        window.worker.run_job(
            lambda job: job.main.G.num_ws,
            on_done=lambda r: results.append(("probe", "")),
            on_error=lambda e: results.append(("probe", e)),
        )
        window.worker.load_network(explorer_network, "cpu")
    qtbot.waitUntil(lambda: any(n == "probe" for n, _ in results), timeout=10_000)
    assert ("probe", "cancelled: another network was opened") in results


def test_twin_follows_a_path_and_video_is_side_by_side(window, qtbot, adain_network, tmp_path):
    from PIL import Image

    from stylegan2.checkpoints import load_network
    from stylegan2.paths import request_at

    _compare(window, qtbot, adain_network)
    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("4,5")
    panel.keyframes.duration.setValue(1.0)
    panel.keyframes.add_seeds_button.click()
    panel.fps.setValue(4)
    panel.export_scale.setValue(1)  # native size, to compare pixels
    panel.scrub.setValue(500)  # t = 0.5 s
    settle(qtbot, window)
    twin = Renderer(load_network(adain_network))
    path = window.path.path()
    expected = twin.render(request_at(twin, path, 0.5, 2)).image
    assert np.array_equal(window.frames.last.results[1].image, expected)  # not a fixed seed
    assert window.frames.last.results[1].notes == ()
    out = tmp_path / "frames"
    with qtbot.waitSignal(window.path.video_finished, timeout=60_000):
        assert window.path.export_video(str(out))
    frame = np.asarray(Image.open(sorted(out.glob("frame*.png"))[2]))
    res = window.ctx.network.resolution
    assert frame.shape == (res, 2 * res, 3)
    np.testing.assert_array_equal(frame[:, res:], expected)
    np.testing.assert_array_equal(frame[:, :res], window.frames.last.main.image)


def test_save_twin_image(window, qtbot, adain_network, tmp_path):
    from PIL import Image

    assert window.compare.twin_image() is None and not window.compare.save_twin_image(
        str(tmp_path / "t.png")
    )
    _compare(window, qtbot, adain_network)
    settle(qtbot, window)
    assert window.files.save_image(str(tmp_path / "a.png"))
    assert "Save twin image" in window.statusBar().currentMessage()
    assert window.compare.save_twin_image(str(tmp_path / "t.png"))
    saved = np.asarray(Image.open(tmp_path / "t.png"))
    assert np.array_equal(saved, window.frames.last.results[1].image)
    window.compare.fill_menu(window.compare_menu)
    names = [a.text() for a in window.compare_menu.actions()]
    assert "Save twin image…" in names


def test_usage_chart_names_each_row_and_each_resolution(window, qtbot, adain_network):
    _compare(window, qtbot, adain_network)
    f = window.ui.features
    with qtbot.waitSignal(window.features.usage_ready, timeout=30_000):
        f.usage_requested.emit()
    labels = [text for _, text in f.usage_chart.plot.getAxis("left")._tickLevels[0]]
    assert labels == ["tiny this", "tiny avg", "adain this", "adain avg"]
    legend = f.usage_chart.legend.text()
    assert all(f"{r} px" in legend for r in (4, 8, 16))


def test_path_lengths_of_both_networks(window, qtbot, adain_network):
    """In compare mode the Path tab measures each network along the same path: one curve and
    one readout line per network, each named; comparing stops, and only the first is left."""
    from stylegan2.checkpoints import load_network
    from stylegan2.lpips import load_distance
    from stylegan2.paths import local_path_length

    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("1,2")
    panel.keyframes.duration.setValue(1.0)
    panel.keyframes.add_seeds_button.click()
    qtbot.waitUntil(lambda: len(panel.samples) == 8, timeout=60_000)
    assert not panel.length.twin_samples and panel.length.twin_readout.isHidden()
    _compare(window, qtbot, adain_network)
    length = panel.length
    qtbot.waitUntil(lambda: len(length.twin_samples) == 8, timeout=60_000)
    qtbot.waitUntil(lambda: len(panel.samples) == 8, timeout=60_000)
    assert length.samples.keys() == length.twin_samples.keys()
    # The twin's curve is its own network's path lengths, not a copy of the first's.
    twin = Renderer(load_network(adain_network))
    path = window.path.path()
    dist = load_distance(None)
    t = 0.25
    expected = local_path_length(twin, path, t, dist, 1.0)
    assert length.twin_samples[t] == pytest.approx(expected, rel=1e-4)
    assert length.twin_samples != length.samples
    main_name, twin_name = window.ctx.network.stem, window.ctx.compared.stem
    assert length.readout.text().startswith(f"{main_name}: path length d/ε²: mean")
    assert length.twin_readout.text().startswith(f"{twin_name}: path length d/ε²: mean")
    assert "seed\u00a01\u00a0→\u00a0seed\u00a02" in length.twin_readout.text()
    assert not length.twin_readout.isHidden()
    assert len(length.legend.items) == 2
    window.compare.close()
    qtbot.waitUntil(lambda: len(panel.samples) == 8, timeout=60_000)
    assert not length.twin_samples and length.twin_readout.isHidden()
    assert not length.legend.items and length.readout.text().startswith("path length d/ε²: mean")


def test_a_chart_job_of_networks_since_changed_paints_nothing(
    window, qtbot, adain_network, monkeypatch
):
    """Usage measured for both networks, finishing after comparing stopped, must not paint the
    old pair's rows over the cleared chart."""
    import threading
    import time

    import explorer.controllers.features as features

    started, real = threading.Event(), features.request_resolution_usage

    def slow(*args, **kwargs):
        started.set()
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(features, "request_resolution_usage", slow)
    _compare(window, qtbot, adain_network)
    chart = window.ui.features.usage_chart
    window.ui.features.usage_requested.emit()
    qtbot.waitUntil(started.is_set, timeout=30_000)
    window.compare.close()
    done = []
    window.ctx.run_job("after", lambda job: None, done.append)  # queued behind the usage job
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)
    assert chart.hint.scene() is not None and chart.legend.text() == ""


def test_a_compared_network_that_cannot_be_measured_says_so(
    window, qtbot, adain_network, monkeypatch
):
    import explorer.controllers.path as path_controller

    real = path_controller.local_path_length

    def fails_on_the_twin(renderer, *args):
        if renderer.G.cfg.synthesis.normalization == "adain":  # the compared network
            raise RuntimeError("no path length here")
        return real(renderer, *args)

    monkeypatch.setattr(path_controller, "local_path_length", fails_on_the_twin)
    _compare(window, qtbot, adain_network)
    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("1,2")
    panel.keyframes.duration.setValue(1.0)
    panel.keyframes.add_seeds_button.click()
    qtbot.waitUntil(lambda: len(panel.samples) == 8, timeout=60_000)
    assert "could not be measured" in panel.length.twin_readout.text()
    assert "mean" in panel.readout.text()
