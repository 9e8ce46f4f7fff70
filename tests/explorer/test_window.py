"""The explorer's controls change pixels the way they must (pytest-qt, offscreen)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.state import ExplorerState
from stylegan2.checkpoints import load_network
from stylegan2.render import Renderer
from tests.explorer.conftest import settle


def test_first_image_is_seed_zero(window, qtbot, explorer_network):
    image = settle(qtbot, window)
    ref = Renderer(load_network(explorer_network)).render(ExplorerState().to_request()).image
    assert np.array_equal(image, ref)
    assert "this program's own format" in window.ui.net_label.text()


def test_psi_zero_same_image_for_every_seed(window, qtbot):
    window.ui.truncation.psi.spin.setValue(0.0)
    images = []
    for seed in (0, 1, 2):
        window.ui.latent.seed.setValue(seed)
        images.append(settle(qtbot, window))
    assert all(np.array_equal(images[0], im) for im in images[1:])
    window.ui.truncation.psi.spin.setValue(1.0)
    assert not np.array_equal(settle(qtbot, window), images[0])


def test_seed_buttons_and_drag_pad_blend(window, qtbot):
    window.ui.latent.seed.setValue(5)
    a = settle(qtbot, window)
    window.ui.latent.pad.moved.emit(0.25, 0.0)  # a quarter of the way to seed 6 (drag right)
    mid = settle(qtbot, window)
    assert window.model.state.seed_x == 5.25
    window.ui.latent.pad.moved.emit(0.5, 0.0)
    window.ui.latent.snap_btn.click()  # 5.75 snaps to 6
    b = settle(qtbot, window)
    assert window.model.state.seed == 6 and window.model.state.seed_x == 6.0
    assert not np.array_equal(mid, a) and not np.array_equal(mid, b)
    window.ui.latent.seed.setValue(6)  # typing the seed shown snaps exactly onto it
    assert np.array_equal(settle(qtbot, window), b)


def test_noise_layer_toggle_changes_and_restores(window, qtbot):
    # One row per resolution, conv0 left and conv1 right; the 4 px block has only conv1.
    grid = window.ui.noise.grid
    cell = {
        n: grid.getItemPosition(grid.indexOf(on))[:2] for n, (on, _) in window.ui.noise.rows.items()
    }
    assert cell["b4.conv1"] == (0, 2) and cell["b8.conv0"] == (1, 0) and cell["b8.conv1"] == (1, 2)
    assert cell["b16.conv0"] == (2, 0) and cell["b16.conv1"] == (2, 2)
    base = settle(qtbot, window)
    on, _ = window.ui.noise.rows["b16.conv1"]
    on.setChecked(False)
    off = settle(qtbot, window)
    assert not np.array_equal(off, base)
    on.setChecked(True)
    assert np.array_equal(settle(qtbot, window), base)
    # The Mixing tab's bands: noise at 16-32 px only; this 16 px network has none at 64+.
    assert not window.ui.noise.preset_buttons["Fine (64+)"].isEnabled()
    window.ui.noise.preset_buttons["Middle (16–32)"].click()
    gains = window.model.state.noise_gains
    noisy = {x.name for x in window.ui.noise.layers if x.resolution >= 16}
    assert noisy and len(noisy) < len(window.ui.noise.layers)
    assert {n for n, (on, _) in window.ui.noise.rows.items() if on.isChecked()} == noisy
    assert set(gains) == {x.name for x in window.ui.noise.layers} - noisy
    assert all(v == 0.0 for v in gains.values())
    window.ui.noise.preset("All off")
    none_gains = settle(qtbot, window)
    window.ui.noise.mode.setCurrentText("none")
    assert np.array_equal(settle(qtbot, window), none_gains)


def test_stale_results_never_replace_newer(window, qtbot):
    from explorer.worker import Frame
    from stylegan2.render import RenderResult

    for seed in range(10):  # far faster than the worker renders
        window.model.update(seed_x=float(seed))
    final = settle(qtbot, window)
    shown = window.frames.shown_id
    stale = RenderResult(request_id=shown - 1, image=np.zeros_like(final))
    window.worker.frame_ready.emit(Frame(shown - 1, (stale,)))
    assert window.frames.shown_id == shown
    assert np.array_equal(window.frames.last.main.image, final)


def test_state_round_trip_and_cli_reproduce(window, qtbot, tmp_path, explorer_network):
    from PIL import Image

    from stylegan2.cli.main import main

    window.model.update(seed_x=3.25, seed_y=1.5, psi=0.6, cutoff=3, noise_gains={"b8.conv0": 0.0})
    image = settle(qtbot, window)
    path = tmp_path / "state.json"
    window.model.state.save(path)
    window.model.update(seed_x=0.0, psi=1.0)
    settle(qtbot, window)
    assert window.files.load_state(str(path))
    assert np.array_equal(settle(qtbot, window), image)
    assert json.loads(path.read_text())["state"]["psi"] == 0.6
    rc = main(
        ["generate", "--network", explorer_network, "--state", str(path), "--outdir", str(tmp_path)]
    )
    assert rc == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "state.png")), image)
    # A PNG the explorer saved carries the same state: the command takes it too.
    assert window.files.save_image(str(tmp_path / "saved.png"))
    out = tmp_path / "from-png"
    argv = ["generate", "--network", explorer_network, "--state", str(tmp_path / "saved.png")]
    assert main([*argv, "--outdir", str(out)]) == 0
    assert np.array_equal(np.asarray(Image.open(out / "saved.png")), image)


def test_bad_network_keeps_the_previous_one(window, qtbot, tmp_path):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"\x80\x04garbage")
    before = settle(qtbot, window)
    with qtbot.waitSignal(window.worker.network_failed, timeout=10_000):
        window.network.open(str(bad))
    assert "Could not open bad.pkl" in window.ui.net_label.text()
    window.ui.latent.seed.setValue(9)
    assert not np.array_equal(settle(qtbot, window), before)  # still rendering


def test_save_image_native_resolution(window, qtbot, tmp_path):
    from PIL import Image

    image = settle(qtbot, window)
    assert window.files.save_image(str(tmp_path / "x.png"))
    assert np.array_equal(np.asarray(Image.open(tmp_path / "x.png")), image)
    assert not window.files.save_image(str(tmp_path / "missing" / "x.png"))


def test_mixing_presets_and_all_from_b(window, qtbot):
    window.ui.mixing.add_seed.setValue(7)
    window.ui.mixing.preset("Coarse (4–8)")
    s = window.model.state
    # ws 0-3 (4, 4-8, 8, 8-16 px): every ws that drives a 4 or 8 px layer, as in the paper
    assert s.mix_seeds == [7] and s.layer_sources == [1, 1, 1, 1, 0, 0]
    coarse = settle(qtbot, window)
    for combo in window.ui.mixing.combos:
        combo.setCurrentIndex(1)  # every layer from seed 7
    all_b = settle(qtbot, window)
    window.model.update(mix_seeds=[], layer_sources=None, seed_x=7.0)
    assert np.array_equal(settle(qtbot, window), all_b)
    assert not np.array_equal(coarse, all_b)


def test_mixing_grid_job(window, qtbot, tmp_path):
    window.ui.mixing.rows_edit.setText("1,2")
    window.ui.mixing.cols_edit.setText("3,4,5")
    window.ui.mixing.grid_button.click()
    qtbot.waitUntil(lambda: window.mixing.grid_dialog is not None, timeout=30_000)
    grid = window.mixing.grid_dialog.image
    assert "failed" not in window.statusBar().currentMessage()
    assert grid.shape == (3 * 16, 4 * 16, 3)
    note = window.mixing.grid_dialog.note.text()
    assert "column seeds 3, 4, 5" in note and "row seeds 1, 2" in note and "ws 0–5" in note
    assert window.mixing.grid_dialog.save(str(tmp_path / "g.png"))
    window.mixing.grid_dialog.close()


def test_save_and_load_w(window, qtbot, tmp_path):
    from stylegan2.latents import save_w

    window.model.update(seed_x=4.0, psi=0.7)
    image = settle(qtbot, window)
    save_w(tmp_path / "projected_w.npz", window.frames.last.main.ws)
    window.model.update(seed_x=9.0, psi=1.0)
    settle(qtbot, window)
    assert window.files.load_w(str(tmp_path / "projected_w.npz"))
    assert np.array_equal(settle(qtbot, window), image)  # ws already truncated: used as they are
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros(3, np.float32))
    assert not window.files.load_w(str(bad))


def test_directions_panel_moves_only_while_strength_nonzero(window, qtbot):
    base = settle(qtbot, window)
    window.ui.directions.first.setValue(0)
    window.ui.directions.last.setValue(2)
    window.ui.directions.compute_button.click()
    qtbot.waitUntil(lambda: len(window.ui.directions.sliders) == 5, timeout=60_000)
    window.ui.directions.sliders[0].spin.setValue(6.0)
    moved = settle(qtbot, window)
    assert window.model.state.w_offset is not None and not np.array_equal(moved, base)
    window.ui.directions.reset()
    assert window.model.state.w_offset is None
    assert np.array_equal(settle(qtbot, window), base)


def _sliders(window, qtbot) -> None:
    window.ui.directions.first.setValue(0)
    window.ui.directions.last.setValue(2)
    window.ui.directions.compute_button.click()
    qtbot.waitUntil(lambda: len(window.ui.directions.sliders) == 5, timeout=60_000)


def test_direction_offsets_in_states_and_saved_ws(window, qtbot, tmp_path):
    """A state's direction offset shows as saved, stale sliders never add theirs back, Reset
    removes any offset, and a saved w (offset included) loads as the very same image."""
    base = settle(qtbot, window)
    _sliders(window, qtbot)
    window.ui.directions.sliders[0].spin.setValue(6.0)
    moved = settle(qtbot, window)
    with_offset, plain = tmp_path / "offset.json", tmp_path / "plain.json"
    window.model.state.save(with_offset)
    saved_w = tmp_path / "w.npz"
    from stylegan2.latents import save_w

    save_w(saved_w, window.frames.last.main.ws)
    # Load w: the offset is in the saved w already, so it must not be added again.
    window.ui.directions.sliders[0].spin.setValue(3.0)
    assert window.files.load_w(str(saved_w)) and window.model.state.w_offset is None
    assert np.array_equal(settle(qtbot, window), moved)
    # A state without offset: the sliders go to 0 (the directions stay: PCA is slow to redo).
    window.model.update(w=None)
    window.model.state.save(plain)
    window.ui.directions.sliders[0].spin.setValue(4.0)
    assert window.files.load_state(str(plain)) and len(window.ui.directions.sliders) == 5
    assert all(s.value() == 0 for s in window.ui.directions.sliders)
    assert window.model.state.w_offset is None
    assert np.array_equal(settle(qtbot, window), base)
    # A state with an offset shows it; the sliders add to it; Reset removes it all.
    assert window.files.load_state(str(with_offset)) and window.model.state.w_offset is not None
    assert np.array_equal(settle(qtbot, window), moved)
    assert "Reset" in window.ui.directions.info.text()
    window.ui.directions.sliders[1].spin.setValue(2.0)
    d = window.ui.directions.directions
    expected = np.asarray(json.loads(with_offset.read_text())["state"]["w_offset"], np.float32)
    expected[0:3] += 2.0 * d.vectors[1]
    np.testing.assert_allclose(np.asarray(window.model.state.w_offset), expected, atol=1e-5)
    window.ui.directions.compute_button.click()  # new directions keep the loaded offset under them
    qtbot.waitUntil(lambda: "ws 0–2" in window.ui.directions.info.text(), timeout=30_000)
    qtbot.waitUntil(lambda: window.model.state.w_offset is not None, timeout=30_000)
    window.ui.directions.reset()
    assert window.model.state.w_offset is None
    assert np.array_equal(settle(qtbot, window), base)


def _fresh_window(qtbot, tmp_path, network, state=None, settings_values=None):
    """A new window on temporary settings; `state` is loaded before `network` opens, as the
    remembered session and --state are. Returns it once the first image shows."""
    from PySide6.QtCore import QSettings

    from explorer.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    for key, value in (settings_values or {}).items():
        settings.setValue(key, value)
    win = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(win)
    if state is not None:
        assert win.files.load_state(str(state))
    with qtbot.waitSignal(win.frames.first_image_shown, timeout=30_000):
        win.network.open(network)
    return win


def test_a_state_restored_before_the_network_keeps_its_offset(qtbot, tmp_path, explorer_network):
    """--state and the remembered session are applied before the first network loads: its
    direction offset must survive the load (another network's load drops it)."""
    G = load_network(explorer_network)
    offset = np.zeros((G.num_ws, G.w_dim), np.float32)
    offset[:3] = 2.0
    state = tmp_path / "s.json"
    ExplorerState(w_offset=offset.tolist()).save(state)
    win = _fresh_window(qtbot, tmp_path, explorer_network, state)
    assert win.model.state.w_offset is not None
    with qtbot.waitSignal(win.worker.network_loaded, timeout=30_000):
        win.network.open(explorer_network)  # a second load: the offset was for the first
    assert win.model.state.w_offset is None
    win.close()


def test_no_saving_a_drag_preview_and_noise_boxes(window, qtbot, tmp_path):
    import dataclasses

    settle(qtbot, window)
    full = window.frames.last
    preview = dataclasses.replace(full.main, preview_resolution=8)
    window.frames.last = dataclasses.replace(full, results=(preview,))
    assert (
        not window.files.save_image(str(tmp_path / "p.png")) and not (tmp_path / "p.png").exists()
    )
    assert "still rendering" in window.statusBar().currentMessage()
    window.frames.last = full
    assert window.files.save_image(str(tmp_path / "p.png"))
    noise = window.ui.noise
    assert all(not box.keyboardTracking() for _, box in noise.rows.values())
    window.model.update(noise_mode="const")
    assert "not used by const noise" in noise.seed.toolTip()
    window.model.update(noise_mode="random")
    assert "used by random noise" in noise.seed.toolTip()


def test_preview_then_full_image(window, qtbot):
    full = settle(qtbot, window)
    window.ui.performance.preview.setCurrentIndex(1)  # half resolution
    window.model.update(seed_x=2.0)
    window.model.update(seed_x=0.0)
    qtbot.waitUntil(
        lambda: (
            window.frames.last.main.preview_resolution is None
            and window.frames.shown_id == window.worker.last_id
        ),
        timeout=30_000,
    )
    assert np.array_equal(window.frames.last.main.image, full)
    assert window.ui.performance.last_preview > 0


@pytest.mark.slow
def test_recent_networks_and_settings_remembered(window, qtbot, explorer_network):
    window.network.fill_recent(window.recent_menu)
    names = [a.text() for a in window.recent_menu.actions()]
    assert names == ["tiny.safetensors"]
    window.model.update(psi=0.4)
    window.close()
    from explorer.main_window import MainWindow

    again = MainWindow(device="cpu", settings=window.ctx.prefs.settings)
    qtbot.addWidget(again)
    again.restore()
    assert again.model.state.psi == 0.4 and again.network.most_recent() == explorer_network
    again.close()


def _export_feature_map(window, tmp_path, monkeypatch) -> None:
    from PIL import Image
    from PySide6.QtWidgets import QFileDialog

    asked = []

    def answer(_parent, _title, name, _filter):
        asked.append(name)
        return str(tmp_path / "map"), ""  # typed without the suffix

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    window.ui.features.export_requested.emit()
    assert asked == ["b16.conv1.png"]
    saved = np.asarray(Image.open(tmp_path / "map.png").convert("RGB"))
    np.testing.assert_array_equal(saved, window.ui.features.view.image)


def test_features_tab_shows_the_captured_layer(
    window, qtbot, explorer_network, tmp_path, monkeypatch
):
    from explorer.feature_maps import NORMS, VIEWS, render_feature

    window.ui.tabs.select("Features")
    settle(qtbot, window)
    layer = window.ui.features.current_layer()
    assert layer == "b16.conv1"  # no 64 px layer in the tiny net: its last conv
    ref = Renderer(load_network(explorer_network)).render(
        ExplorerState().to_request(capture=(layer,))
    )
    np.testing.assert_allclose(window.ui.features.data, ref.captures[layer], atol=1e-6)
    assert "peak/median" in window.ui.features.stats.text()
    for view in VIEWS:
        for norm in NORMS:
            img = render_feature(window.ui.features.data, view, 1, norm, fft=view == "one channel")
            assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    f = window.ui.features
    f.strongest.click()
    strongest = int(np.abs(f.data).reshape(len(f.data), -1).max(1).argmax())
    assert f.view_mode.currentText() == "one channel" and f.channel.value() == strongest
    np.testing.assert_array_equal(f.view.values[0], f.data[strongest])  # that channel's map
    f.view_mode.setCurrentText("mean |x|")
    _export_feature_map(window, tmp_path, monkeypatch)
    window.ui.features.layer.setCurrentIndex(0)
    settle(qtbot, window)
    assert window.ui.features.data.shape[1:] == (4, 4)
    window.ui.tabs.select("Latent")
    settle(qtbot, window)
    assert window.frames.last.main.captures == {}  # nothing captured while the tab is hidden


def test_path_scrubber_and_live_path_length(window, qtbot):
    window.model.update(seed_x=2.0)
    seed2 = settle(qtbot, window)
    panel = window.ui.path
    assert not panel.keyframes.hint.isHidden()  # how to start a path, until there is one
    panel.keyframes.seeds_edit.setText("1,2,3")
    panel.keyframes.duration.setValue(1.0)
    panel.keyframes.add_seeds_button.click()
    assert [panel.keyframes.list.item(i).text() for i in range(3)] == [
        "seed 1   (1 s to the next)",
        "seed 2   (1 s to the next)",
        "seed 3",
    ]
    assert panel.keyframes.hint.isHidden()
    # The duration box names what it edits: new keyframes' segment, or the selected one's.
    box = panel.keyframes.duration
    assert box.prefix() == "new keyframes "
    panel.keyframes.list.setCurrentRow(0)
    assert box.prefix() == "segment " and box.value() == 1.0
    panel.scrub.setValue(500)  # t = 1.0 s of 2.0 s: exactly keyframe "seed 2"
    settle(qtbot, window)
    assert np.array_equal(window.frames.last.main.image, seed2)
    qtbot.waitUntil(lambda: len(panel.samples) == 16, timeout=60_000)
    values = list(panel.samples.values())
    assert all(np.isfinite(v) and v >= 0 for v in values) and max(values) > 0
    text = panel.readout.text().replace("\u00a0", " ")  # segment names do not wrap
    assert "not LPIPS" in text and "seed 1 → seed 2" in text and "seed 2 → seed 3" in text
    panel.easing.setCurrentText("catmull")  # editing the path restarts the readout
    assert len(panel.samples) < 16
    box.setValue(0.5)  # seed 1's segment
    panel.keyframes._remove()  # seed 1 goes; the selection moves to seed 2, and so does the box
    assert panel.keyframes.list.currentRow() == 0 and box.value() == 1.0
    assert box.prefix() == "segment "


def test_path_lengths_are_measured_again_for_another_network(window, qtbot, tmp_path):
    """Path lengths belong to a network: opening another one (or the first, under a path that
    was restored before it loaded) measures the readout again instead of keeping the old one."""
    from stylegan2.checkpoints import save_checkpoint
    from tests.conftest import distinct_generator

    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("1,2")
    panel.keyframes.duration.setValue(1.0)
    panel.keyframes.add_seeds_button.click()
    qtbot.waitUntil(lambda: len(panel.samples) == 8, timeout=60_000)
    before = dict(panel.samples)
    other = save_checkpoint(tmp_path / "other.safetensors", distinct_generator(seed=11))
    with qtbot.waitSignal(window.worker.network_loaded, timeout=30_000):
        window.network.open(str(other))
    qtbot.waitUntil(lambda: len(panel.samples) == 8, timeout=60_000)
    assert panel.samples.keys() == before.keys() and panel.samples != before


def test_video_export_frames_equal_the_scrubber(window, qtbot, tmp_path, monkeypatch):
    from PIL import Image

    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("4,5")
    panel.keyframes.duration.setValue(1.0)
    panel.keyframes.add_seeds_button.click()
    panel.fps.setValue(4)
    panel.noise.setCurrentText("smooth")  # moving noise: frames and scrubber must still agree
    assert window.path.path().noise == "smooth"
    out = tmp_path / "frames"
    with qtbot.waitSignal(window.path.video_finished, timeout=60_000):
        assert window.path.export_video(str(out))
    files = sorted(out.glob("frame*.png"))
    assert len(files) == 5  # 1 s at 4 fps plus the last keyframe
    # Frames default to about 512 px, sharp squares unless smooth.
    scale = panel.export_scale.value()
    assert scale == max(1, 512 // window.ctx.network.resolution)
    panel.scrub.setValue(500)  # t = 0.5 s = frame 2
    shown = settle(qtbot, window)
    big = shown.repeat(scale, axis=0).repeat(scale, axis=1)
    assert np.array_equal(np.asarray(Image.open(files[2])), big)
    panel.export_scale.setValue(1)
    panel.export_smooth.setChecked(True)  # (no effect at x1)
    out1 = tmp_path / "native"
    with qtbot.waitSignal(window.path.video_finished, timeout=60_000):
        assert window.path.export_video(str(out1))
    assert np.array_equal(np.asarray(Image.open(sorted(out1.glob("*.png"))[2])), shown)
    assert not window.path.export_video(str(tmp_path / "bad.avi"))
    # GIF frames are held in memory: too large a scale is refused before any work.
    panel.export_scale.setValue(panel.export_scale.maximum())
    assert not window.path.export_video(str(tmp_path / "big.gif"))
    assert "GIF frames of" in window.statusBar().currentMessage()
    # A missing folder is refused before any work.
    panel.export_scale.setValue(1)
    assert not window.path.export_video(str(tmp_path / "missing" / "x.gif"))
    assert "no folder" in window.statusBar().currentMessage()
    (tmp_path / "taken.gif").mkdir()  # a folder where the file should go: never deleted
    assert not window.path.export_video(str(tmp_path / "taken.gif"))
    assert "not overwritten" in window.statusBar().currentMessage()
    # A failed export closes its progress dialog and says why.
    import stylegan2.video

    def full_disk(*_a, **_k):
        raise stylegan2.video.VideoError("cannot write x.gif: No space left on device")

    monkeypatch.setattr(stylegan2.video, "write_frames", full_disk)
    with qtbot.waitSignal(window.path.video_finished, timeout=60_000):
        assert window.path.export_video(str(tmp_path / "x.gif"))
    assert not window.path.export_progress.isVisible()
    assert "video failed" in window.statusBar().currentMessage()


def test_scale_image_sharp_and_smooth():
    from stylegan2.video import scale_image

    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    sharp = scale_image(img, 3, smooth=False)
    assert sharp.shape == (6, 6, 3) and np.array_equal(sharp[::3, ::3], img)
    assert scale_image(img, 2, smooth=True).shape == (4, 4, 3)
    gray = scale_image(img[:, :, :1], 2, smooth=True)
    assert gray.shape == (4, 4, 1)


@pytest.mark.slow
def test_projection_panel_converges_and_hands_over_the_latent(window, qtbot, tmp_path):
    from PIL import Image

    window.model.update(seed_x=6.0)
    target = settle(qtbot, window)
    Image.fromarray(target).save(tmp_path / "t.png")
    assert window.projection.load_target(str(tmp_path / "t.png"))
    window.ui.projection.steps.setValue(60)
    with qtbot.waitSignal(window.projection.finished, timeout=60_000):
        window.ui.projection.start.click()
    p = window.ui.projection
    assert p.result_ws is not None and len(p.distances) == 60 and p.distances[-1] < p.distances[0]
    assert "done after 60 steps" in p.status.text() and "as shown" in p.status.text()
    preview = p.current_view.image.copy()
    p.use.click()
    assert window.model.state.w is not None
    # What the preview ends on is what "Use as current latent" shows.
    assert np.array_equal(settle(qtbot, window), preview)
    p.keyframe.click()
    keyframes = window.ui.path.keyframes.list
    assert keyframes.item(keyframes.count() - 1).text() == "projection"
    (tmp_path / "bad.png").write_text("no")
    assert not window.projection.load_target(str(tmp_path / "bad.png"))


def test_controls_keep_rendering_during_a_projection(window, qtbot, tmp_path):
    from PIL import Image

    Image.fromarray(settle(qtbot, window)).save(tmp_path / "t.png")
    assert window.projection.load_target(str(tmp_path / "t.png"))
    window.ui.projection.steps.setValue(400)
    window.ui.projection.start.click()
    qtbot.waitUntil(lambda: len(window.ui.projection.distances) > 0, timeout=30_000)
    window.ui.latent.seed.setValue(11)
    target = window.worker.last_id
    qtbot.waitUntil(lambda: window.frames.shown_id >= target, timeout=30_000)
    assert window.ui.projection.cancel.isEnabled(), "the image followed the seed mid-projection"
    with qtbot.waitSignal(window.projection.finished, timeout=30_000):
        window.ui.projection.cancel.click()


def test_projection_cancel(window, qtbot):
    target = settle(qtbot, window)
    window.ui.projection.set_target(target, "")
    window.ui.projection.steps.setValue(5000)
    with qtbot.waitSignal(window.projection.finished, timeout=60_000):
        window.ui.projection.start.click()
        qtbot.waitUntil(lambda: len(window.ui.projection.distances) > 3, timeout=30_000)
        window.ui.projection.cancel.click()
    assert "cancelled" in window.ui.projection.status.text()
    assert len(window.ui.projection.distances) < 5000


def test_direction_layer_range_per_slider_and_single_save(window, qtbot, tmp_path):
    from stylegan2.directions import Directions

    window.ui.directions.compute_button.click()
    qtbot.waitUntil(lambda: len(window.ui.directions.sliders) == 5, timeout=60_000)
    lo, hi = window.ui.directions.ranges[1]
    lo.setValue(2)
    hi.setValue(3)
    window.ui.directions.sliders[1].spin.setValue(4.0)
    off = np.asarray(window.model.state.w_offset)
    moved = [i for i in range(off.shape[0]) if np.abs(off[i]).sum() > 0]
    assert moved == [2, 3]
    d = window.ui.directions.single(1, "smile")
    d.save(tmp_path / "smile.npz")
    e = Directions.load(tmp_path / "smile.npz")
    assert e.names == ["smile"] and e.layers == (2, 3) and e.vectors.shape[0] == 1


def test_pca_directions_are_cached_per_network(window, qtbot):
    window.ui.directions.method.setCurrentIndex(1)
    window.ui.directions.compute_button.click()
    qtbot.waitUntil(lambda: len(window.ui.directions.sliders) == 5, timeout=60_000)
    assert "PCA" in window.ui.directions.info.text()
    window.ui.directions.first.setValue(1)
    # Served from the cache: no job, the sliders are rebuilt at once.
    window.ui.directions.compute_button.click()
    assert window.ui.directions.directions.layers == (1, window.ctx.network.num_ws - 1)


def test_blob_chart_marker_and_raw_values(window, qtbot):
    window.ui.tabs.select("Features")
    settle(qtbot, window)
    f = window.ui.features
    assert f.view.values is not None and f.view.values.shape[1:] == f.data.shape[1:]
    assert len(window.ui.view.marker.data) == 1  # strongest blob circled on the image
    with qtbot.waitSignal(window.features.scores_ready, timeout=30_000):
        f.all_layers_requested.emit()
    heights = f.blob_chart.bars.opts["height"]
    assert len(heights) == len([x for x in window.ctx.network.layers if x.kind != "torgb"])
    assert all(h >= 1 for h in heights)
    window.ui.tabs.select("Latent")
    assert len(window.ui.view.marker.data) == 0


def test_blob_chart_fills_when_the_tab_opens_and_clears_for_another_network(
    window, qtbot, tmp_path
):
    """The blob chart is measured when the Features tab first opens (no button to find), and
    a network opened later clears both charts and measures the chart again while shown."""
    from stylegan2.checkpoints import save_checkpoint
    from tests.conftest import distinct_generator

    f = window.ui.features
    assert f.blob_chart.hint.isVisible()
    with qtbot.waitSignal(window.features.scores_ready, timeout=30_000):
        window.ui.tabs.select("Features")
    assert not f.blob_chart.hint.isVisible() and len(f.blob_chart.bars.opts["height"]) > 0
    with qtbot.waitSignal(window.features.usage_ready, timeout=30_000):
        f.usage_requested.emit()
    assert f.usage_chart.hint.scene() is None  # the bars replaced the hint
    other = save_checkpoint(tmp_path / "other.safetensors", distinct_generator(seed=11))
    with qtbot.waitSignal(window.features.scores_ready, timeout=30_000) as sig:
        window.network.open(str(other))
    assert f.usage_chart.hint.scene() is not None and f.usage_chart.legend.text() == ""
    assert [row[0] for row in sig.args[0][0]] == [
        x.name for x in window.ctx.network.layers if x.kind != "torgb"
    ]


def test_a_failed_blob_chart_says_so_and_is_measured_again(window, qtbot, monkeypatch):
    import explorer.controllers.features as features

    real, calls = features.request_blob_scores, []

    def fails_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("render failed")
        return real(*args)

    monkeypatch.setattr(features, "request_blob_scores", fails_once)
    settle(qtbot, window)
    window.ui.tabs.select("Features")
    chart = window.ui.features.blob_chart
    qtbot.waitUntil(lambda: "not measured" in chart.hint.toPlainText(), timeout=30_000)
    window.ui.tabs.select("Latent")
    with qtbot.waitSignal(window.features.scores_ready, timeout=30_000):
        window.ui.tabs.select("Features")  # tried again
    assert not chart.hint.isVisible() and len(calls) == 2


def test_channel_box_is_greyed_in_views_of_every_channel(window):
    f = window.ui.features
    for view, used in (
        ("mean |x|", False),
        ("one channel", True),
        ("channel grid", False),
        ("RGB of 3 channels", True),
    ):
        f.view_mode.setCurrentText(view)
        assert f.channel.isEnabled() == used, view


def test_resolution_usage_bars(window, qtbot):
    with qtbot.waitSignal(window.features.usage_ready, timeout=30_000) as sig:
        window.ui.features.usage_requested.emit()
    assert len(sig.args[0]) == 1  # no compare network
    ((this, avg),) = sig.args[0]
    assert list(this) == [4, 8, 16] and abs(sum(this.values()) - 1) < 1e-6
    assert abs(sum(avg.values()) - 1) < 1e-6


def test_a_failed_write_is_reported_not_raised(window, tmp_path):
    target = str(tmp_path / "missing" / "state.json")
    assert not window.ctx.write_or_report(target, window.model.state.save)
    assert "cannot write" in window.statusBar().currentMessage()
    assert window.ctx.write_or_report(str(tmp_path / "state.json"), window.model.state.save)


@pytest.mark.slow
def test_path_is_saved_with_the_state_and_restored(window, qtbot, tmp_path, explorer_network):
    """The Path tab's keyframes travel in state files: back into the window, into
    `stylegan2 video --state`, and into the remembered session."""
    from stylegan2.cli.main import main

    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("4,5,6")
    panel.keyframes.duration.setValue(0.5)
    panel.keyframes.add_seeds_button.click()
    panel.easing.setCurrentText("catmull")
    panel.loop.setChecked(True)
    path = tmp_path / "state.json"
    assert window.files.save_state(str(path))
    assert len(json.loads(path.read_text())["path"]["keyframes"]) == 3
    panel.clear()
    panel.easing.setCurrentText("linear")
    assert window.files.load_state(str(path))
    assert [panel.keyframes.list.item(i).text() for i in range(3)] == [
        "seed 4   (0.5 s to the next)",
        "seed 5   (0.5 s to the next)",
        "seed 6   (0.5 s back to the first)",
    ]
    assert panel.easing.currentText() == "catmull" and panel.loop.isChecked()
    out = tmp_path / "frames"
    argv = ["video", "--network", explorer_network, "--state", str(path), "--fps", "4"]
    assert main([*argv, "--out", str(out)]) == 0
    assert len(list(out.glob("*.png"))) == 6  # a 1.5 s loop at 4 fps, last frame left out

    window.close()
    from explorer.main_window import MainWindow

    again = MainWindow(device="cpu", settings=window.ctx.prefs.settings)
    qtbot.addWidget(again)
    again.restore()
    assert len(again.path.model.keyframes) == 3
    again.close()


def test_a_bad_path_in_a_state_file_changes_nothing(window, qtbot, tmp_path):
    doc = json.loads(window.model.state.to_json())
    doc["state"]["psi"] = 0.3
    doc["path"] = {"keyframes": [{"latent": {"seeds": [[1, 1.0]]}}]}  # one keyframe: no path
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc))
    assert not window.files.load_state(str(path))
    assert window.model.state.psi == 1.0 and window.files.load_error


def test_closing_the_window_stops_every_timer(window, qtbot):
    """Seed animation, noise animation and path playback all running: none outlives the
    window (a timer that fires into a closed window's controllers renders into a stopped
    worker)."""
    from PySide6.QtCore import QTimer

    from stylegan2.render import Latent

    for seed in (1, 2):
        window.ui.path.add_keyframe(Latent.from_seed(seed), f"seed {seed}")
    window.ui.path.play.setChecked(True)
    window.ui.latent.timer.start(1000)
    window.ui.noise.timer.start(1000)
    assert window.ui.path.timer.isActive()
    window.close()
    assert [t for t in window.findChildren(QTimer) if t.isActive()] == []


def test_screenshot_runs_leave_the_remembered_session_alone(window):
    window.model.update(psi=0.3)
    window.ctx.prefs.persist = False
    window.close()
    assert window.ctx.prefs.settings.value("last_state") is None


def test_seeds_above_int32_and_negative_positions(window, qtbot):
    window.model.update(seed_x=5.0, seed_y=3_000_000.0)  # seed 3,000,000,005
    settle(qtbot, window)
    assert int(window.ui.latent.seed.value()) == 3_000_000_005
    window.model.update(seed_x=-1.0, seed_y=0.0)  # wraps to 2**32 - 1, as RandomState's range
    settle(qtbot, window)
    assert int(window.ui.latent.seed.value()) == 2**32 - 1
    window.ui.latent.seed.setValue(7)
    assert window.model.state.seed == 7


def test_a_render_error_clears_when_rendering_recovers(window, qtbot):
    window.model.update(w=[0.0, 1.0, 2.0])  # the wrong size for this network
    qtbot.waitUntil(lambda: window.ui.net_label.text().startswith("render error"), timeout=30_000)
    window.model.update(w=None)
    settle(qtbot, window)
    assert window.ui.net_label.text() == window.ctx.network.summary()


def test_a_loader_bug_does_not_stop_rendering(window, qtbot, monkeypatch, tmp_path):
    import stylegan2.checkpoints as checkpoints

    def broken(*_a, **_k):
        raise KeyError("a loader bug")

    monkeypatch.setattr(checkpoints, "load_checkpoint", broken)
    before = settle(qtbot, window)
    with qtbot.waitSignal(window.worker.network_failed, timeout=10_000) as sig:
        window.network.open(str(tmp_path / "x.safetensors"))
    assert "KeyError" in sig.args[2]
    window.ui.latent.seed.setValue(9)
    assert not np.array_equal(settle(qtbot, window), before)


def test_speed_readout_ignores_idle_time(qapp):
    from explorer.panels.performance import STREAM_WINDOW_S, PerformancePanel
    from explorer.state import StateModel

    panel = PerformancePanel(StateModel())
    panel.shown.extend([0.0, 10.0])  # two frames ten seconds apart: idle, not 0.1 fps
    assert panel.rate_text(10.0, 40.0) == "up to 25 fps"
    panel.shown.extend([10.1, 10.2, 10.3])
    assert panel.rate_text(10.3, 40.0).strip() == "10.0 fps shown"
    assert STREAM_WINDOW_S >= 1


def test_state_files_and_the_path_tab(window, qtbot, tmp_path):
    """A file saved without a path clears the tab; a file from before paths were saved leaves
    it; a malformed path is a message, also in the remembered session (never a crash)."""
    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("1,2")
    panel.keyframes.add_seeds_button.click()
    doc = json.loads(window.model.state.to_json())
    old = tmp_path / "old.json"
    old.write_text(json.dumps({k: v for k, v in doc.items() if k != "path"}))
    assert window.files.load_state(str(old)) and len(window.path.model.keyframes) == 2
    none = tmp_path / "none.json"
    none.write_text(window.model.state.to_json(None))
    assert window.files.load_state(str(none)) and window.path.model.keyframes == []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**doc, "path": {"keyframes": [{"latent": [1]}, {"latent": [2]}]}}))
    assert not window.files.load_state(str(bad)) and "not a path" in window.files.load_error
    window.ctx.prefs.settings.setValue("last_state", bad.read_text())
    window.restore()  # must not raise


@pytest.mark.slow
def test_an_unreadable_session_is_kept_not_replaced(window, qtbot):
    doc = json.loads(window.model.state.to_json())
    doc["state"]["from_a_newer_version"] = 1
    text = json.dumps(doc)
    window.close()
    window.ctx.prefs.settings.setValue("last_state", text)
    from explorer.main_window import MainWindow

    again = MainWindow(device="cpu", settings=window.ctx.prefs.settings)
    qtbot.addWidget(again)
    again.restore()
    assert "could not be read" in again.statusBar().currentMessage()
    again.model.update(psi=0.2)
    again.close()
    assert window.ctx.prefs.settings.value("last_state_unreadable") == text  # kept aside
    assert json.loads(window.ctx.prefs.settings.value("last_state"))["state"]["psi"] == 0.2


def test_save_dialog_names_get_their_suffix_and_replacing_is_asked(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    assert window.ctx.with_suffix_confirmed(str(tmp_path / "smile"), ".npz") == str(
        tmp_path / "smile.npz"
    )
    (tmp_path / "smile.npz").write_bytes(b"keep")
    answers = []

    def ask(*_a, **_k):
        answers.append(1)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", ask)
    assert window.ctx.with_suffix_confirmed(str(tmp_path / "smile"), ".npz") == ""
    assert answers == [1]
    assert window.ctx.with_suffix_confirmed(str(tmp_path / "a.NPZ"), ".npz") == str(
        tmp_path / "a.NPZ"
    )


def test_a_state_that_does_not_fit_the_network_changes_nothing(window, qtbot, tmp_path):
    window.model.update(seed_x=4.0, psi=0.7)
    before = window.model.state
    bad = tmp_path / "bad.json"
    ExplorerState(w=np.zeros((3, 5)).tolist(), psi=0.2).save(bad)
    assert not window.files.load_state(str(bad))
    assert "w has shape (3, 5)" in window.files.load_error
    assert window.model.state == before


def test_back_to_seed_and_the_blend_readout(window, qtbot):
    panel = window.ui.latent
    panel.seed.setValue(42)
    assert panel.reset_btn.text() == "Back to seed 42"
    window.model.update(seed_x=42.25, seed_y=0.5)
    text = panel.blend.text()
    assert all(f"{s} (" in text for s in (42, 43, 1042, 1043)) and "38%" in text
    panel.reset_btn.click()
    s = window.model.state
    assert (s.seed_x, s.seed_y, s.w) == (42.0, 0.0, None) and "drag to blend" in panel.blend.text()


def test_truncation_says_a_loaded_w_is_untruncated(window, qtbot, tmp_path):
    from stylegan2.latents import save_w

    settle(qtbot, window)
    note = window.ui.truncation.note
    assert note.isHidden()
    save_w(tmp_path / "w.npz", window.frames.last.main.ws)
    assert window.files.load_w(str(tmp_path / "w.npz")) and not note.isHidden()
    window.ui.latent.seed.setValue(3)
    assert note.isHidden()


def test_render_threads_setting(window, qtbot):
    """Set on the render thread (OpenMP's count is per thread), remembered."""
    import torch

    box = window.ui.performance.threads
    assert box.isEnabled() and box.value() >= 1
    n = 2 if box.value() == 1 and box.maximum() >= 2 else 1
    box.setValue(n)
    got = []
    window.worker.run_job(lambda _job: torch.get_num_threads(), got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert got[0] == n
    assert int(window.ctx.prefs.settings.value("render_threads")) == n
    settle(qtbot, window)  # renders go on


def test_remembered_threads_apply_before_any_network(qtbot, tmp_path, explorer_network):
    import torch

    win = _fresh_window(qtbot, tmp_path, explorer_network, settings_values={"render_threads": 1})
    got = []
    win.worker.run_job(lambda _job: torch.get_num_threads(), got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert got[0] == 1 and win.ui.performance.threads.value() == 1
    assert "failed" not in win.statusBar().currentMessage()
    win.close()


def test_saved_png_carries_its_state(window, qtbot, tmp_path):
    """Save image stores the state in the PNG: loading that PNG brings the same image back."""
    from PIL import Image

    window.model.update(seed_x=5.0, psi=0.5, noise_gains={"b8.conv0": 0.0})
    image = settle(qtbot, window)
    png = tmp_path / "shot.png"
    assert window.files.save_image(str(png))
    assert np.array_equal(np.asarray(Image.open(png)), image)
    window.model.update(seed_x=0.0, psi=1.0, noise_gains={})
    settle(qtbot, window)
    assert window.files.load_state(str(png))
    assert np.array_equal(settle(qtbot, window), image)
    plain = tmp_path / "plain.png"
    Image.fromarray(image).save(plain)
    assert (
        not window.files.load_state(str(plain))
        and "holds no explorer state" in window.files.load_error
    )


def test_a_restored_state_that_does_not_fit_is_trimmed_at_load(qtbot, tmp_path, explorer_network):
    """A state applied before the network loads (the remembered session, --state) cannot be
    checked then: what does not fit is dropped at load and named, and renders work."""
    state = tmp_path / "s.json"
    ExplorerState(
        seed_x=3.0, w_offset=np.zeros((6, 7)).tolist(), layer_sources=[0, 0], mix_seeds=[5]
    ).save(state)
    win = _fresh_window(qtbot, tmp_path, explorer_network, state)
    s = win.model.state
    assert s.w_offset is None and s.layer_sources is None and s.seed_x == 3.0
    assert "w_offset has shape (6, 7)" in win.statusBar().currentMessage()
    assert win.frames.last.main.error is None or win.frames.last.main.error == ""
    win.close()


def test_a_png_gets_the_state_only_when_the_state_made_it(window, qtbot, tmp_path):
    from stylegan2.io import png_state

    settle(qtbot, window)
    window.model.update(psi=0.3)  # a newer request than the image on screen...
    window.frames.last = dataclasses_replace_id(window.frames.last, window.worker.last_id - 1)
    assert window.files.save_image(str(tmp_path / "old.png"))
    assert "without its state" in window.statusBar().currentMessage()
    with pytest.raises(ValueError, match="holds no explorer state"):
        png_state(tmp_path / "old.png")
    # A big state (loaded W+ keyframes, say) is over Pillow's 1 MiB text limit: still read.
    from stylegan2.io import PNG_STATE_KEY, save_png

    text = json.dumps({"state": {}, "pad": "x" * 3_000_000})
    save_png(window.frames.last.main.image, tmp_path / "big.png", {PNG_STATE_KEY: text})
    assert png_state(tmp_path / "big.png") == text


def dataclasses_replace_id(result, request_id):
    import dataclasses

    return dataclasses.replace(result, request_id=request_id)


@pytest.mark.slow
def test_speed_tab_warns_of_faint_previews_from_the_card(window, qtbot, tmp_path):
    from stylegan2.checkpoints import save_checkpoint
    from tests.conftest import distinct_generator

    note = window.ui.performance.preview_note
    assert note.isHidden()  # the fixture network has no card
    card = {"figures": {"resolution_usage": {"share": {"8": 0.2, "16": 0.8}}}}
    path = save_checkpoint(tmp_path / "carded.safetensors", distinct_generator(), card=card)
    with qtbot.waitSignal(window.worker.network_loaded, timeout=30_000):
        window.network.open(str(path))
    assert not note.isHidden() and "draws 80% of its image at 16 px" in note.text()


def test_speed_plot_shows_the_first_frame(qapp):
    """One frame draws no line; the newest frame is a dot, so the plot is never blank."""
    from explorer.panels.performance import PerformancePanel
    from explorer.state import StateModel

    panel = PerformancePanel(StateModel())
    panel.frame({"total": 12.0})
    xs, ys = panel.newest.getData()
    assert list(xs) == [0] and list(ys) == [12.0]
    panel.frame({"total": 20.0})
    xs, ys = panel.newest.getData()
    assert list(xs) == [1] and list(ys) == [20.0]
    (x0, x1), _ = panel.plot.viewRange()  # a strip filling from the left, not centred
    assert x0 <= 0 and x1 >= panel.times.maxlen - 1


@pytest.mark.slow
def test_video_of_a_saved_state_uses_the_path_tabs_export_settings(
    window, qtbot, tmp_path, explorer_network
):
    """What the Path tab would export is what `stylegan2 video --state` writes."""
    from PIL import Image

    from stylegan2.cli.main import main

    panel = window.ui.path
    panel.keyframes.seeds_edit.setText("4,5")
    panel.keyframes.duration.setValue(0.5)
    panel.keyframes.add_seeds_button.click()
    panel.fps.setValue(6)
    panel.export_scale.setValue(3)
    path = tmp_path / "state.json"
    assert window.files.save_state(str(path))
    assert json.loads(path.read_text())["path"]["export"]["scale"] == 3
    panel.export_scale.setValue(1)
    assert window.files.load_state(str(path))
    assert panel.export_scale.value() == 3 and panel.fps.value() == 6
    out = tmp_path / "frames"
    argv = ["video", "--network", explorer_network, "--state", str(path), "--out", str(out)]
    assert main(argv) == 0
    frames = sorted(out.glob("*.png"))
    res = window.ctx.network.resolution
    assert len(frames) == 4  # 0.5 s at 6 fps, and the last keyframe
    with Image.open(frames[0]) as im:
        assert im.size == (3 * res, 3 * res)


def test_an_unexpected_render_failure_is_shown_and_rendering_goes_on(window, qtbot, monkeypatch):
    """A failure of any kind inside a render reaches the status bar; the render thread lives on."""
    import stylegan2.render

    real = stylegan2.render.Renderer.render

    def broken(self, req):
        raise KeyError("unexpected")

    monkeypatch.setattr(stylegan2.render.Renderer, "render", broken)
    window.model.update(seed_x=3.0)
    qtbot.waitUntil(lambda: "unexpected" in window.statusBar().currentMessage()
                    or "unexpected" in window.ui.net_label.text(), timeout=10_000)  # fmt: skip
    monkeypatch.setattr(stylegan2.render.Renderer, "render", real)
    window.model.update(seed_x=4.0)
    settle(qtbot, window)


def test_named_directions_beside_a_network_open_with_it(window, qtbot, tmp_path, explorer_network):
    import shutil

    from stylegan2.directions import from_labels

    info = window.ctx.network
    rng = np.random.default_rng(0)
    w = rng.normal(size=(200, info.w_dim))
    d = from_labels(w, {"glasses": w[:, 0] > 0, "smile": w[:, 1] > 0}, (0, info.num_ws - 1))
    net = tmp_path / "named.safetensors"
    shutil.copy(explorer_network, net)
    d.save(tmp_path / "named-directions.npz")
    with qtbot.waitSignal(window.network.opened, timeout=30_000):
        window.network.open(str(net))
    panel = window.ui.directions
    assert panel.directions is not None and panel.directions.names == d.names
    assert "Named directions" in panel.info.text() and len(panel.sliders) == 2
    rows = [
        panel.sliders_layout.itemAt(r, panel.sliders_layout.ItemRole.LabelRole).widget().text()
        for r in (1, 2)
    ]
    assert [r.split()[0] for r in rows] == [d.names[0].split()[0], d.names[1].split()[0]]
    assert all(r.endswith(f"d′ {s:.2f}") for r, s in zip(rows, d.scores, strict=True))
    assert "d′: how well it separates" in panel.info.text()  # the unit said on screen
    base = settle(qtbot, window)
    panel.sliders[0].spin.setValue(1.5)
    assert not np.array_equal(settle(qtbot, window), base)
    # a network without such a file starts with none
    with qtbot.waitSignal(window.network.opened, timeout=30_000):
        window.network.open(explorer_network)
    assert window.ui.directions.directions is None
