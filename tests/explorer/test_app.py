"""`stylegan2-explorer` command line: bad arguments fail before any window or thread exists, and
a compare-mode screenshot of the Features tab renders both networks."""

from __future__ import annotations

import pytest

from explorer.app import main

# Fuzz, fault, subprocess and whole-app checks: CI runs them, the quick loop skips them.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_settings(tmp_path):
    """The app's own QSettings go to a temp folder, not the user's configuration."""
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "config"))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--network", "missing.safetensors"], "no such file"),
        (["--compare", "missing.safetensors"], "no such file"),
        (["--network", "ffhqq"], "did you mean ffhq"),
        (["--tab", "Nope"], "no tab named"),
        (["--device", "bogus"], "unknown device 'bogus'"),
        (["--device", "cudax"], "unknown device 'cudax'"),
        (["--size", "12"], "--size"),
        (["--threads", "0"], "--threads must be 1 to 1024"),
        (["--threads", "100000"], "--threads must be 1 to 1024"),
        (["--screenshot", "shot.jpg"], "the picture is a PNG"),
        (["--screenshot", "/no/such/folder/shot.png"], "no folder /no/such/folder"),
    ],
)
def test_bad_arguments(qapp, argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_state_file_stops_the_worker(qapp, tmp_path, explorer_network, capsys):
    bad = tmp_path / "state.json"
    bad.write_text("{not json")
    assert main(["--network", explorer_network, "--state", str(bad)]) == 2
    assert "cannot load state" in capsys.readouterr().err
    assert "Destroyed while thread" not in capsys.readouterr().err


def test_compare_screenshot(tmp_path, explorer_network):
    """In its own process, as a person runs it (app.exec() and quit() inside this process would
    leave Qt's event loop state to later tests)."""
    import os
    import subprocess
    import sys

    from PIL import Image

    from tests.explorer.test_compare_mode import _adain_file

    twin = _adain_file(tmp_path)
    out = tmp_path / "shot.png"
    argv = ["--network", explorer_network, "--compare", twin, "--tab", "Features"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "explorer.app",
            *argv,
            "--screenshot",
            str(out),
            "--size",
            "1000x700",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Image.open(out).size[0] >= 1000


def test_path_tab_screenshot_waits_for_the_path_lengths(tmp_path, explorer_network):
    """A state with a path, opened on the Path tab: the screenshot comes once the whole
    path-length readout has arrived (not with an empty plot), and not at the timeout."""
    import os
    import subprocess
    import sys

    from explorer.state import ExplorerState
    from stylegan2.paths import Keyframe, Path, path_to_dict

    st = ExplorerState()
    base = st.to_request()
    latent = type(base.latent)
    keys = tuple(Keyframe(latent.from_seed(s), 1.0) for s in (0, 1, 2))
    path = Path(keyframes=keys, space="w", easing="linear", loop=False, noise="fixed", base=base)
    state = tmp_path / "state.json"
    st.save(state, path_to_dict(path))
    out = tmp_path / "path.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    argv = ["--network", explorer_network, "--state", str(state), "--tab", "Path"]
    proc = subprocess.run(
        [sys.executable, "-m", "explorer.app", *argv, "--screenshot", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "saved after" not in proc.stderr and out.is_file()
    assert "screenshot after: image, ppl" in proc.stderr  # it waited for the readout


def test_a_screenshot_of_a_network_that_fails_to_open_exits_1(tmp_path):
    """The error page is saved as the picture, but a script must see the failure."""
    import os
    import subprocess
    import sys

    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00" * 64)
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "explorer.app", "--network", str(broken), "--screenshot", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert f"screenshot: cannot open {broken}" in proc.stderr and out.is_file()
    assert "Traceback" not in proc.stderr


def test_a_screenshot_of_a_state_the_network_cannot_take_whole_exits_1(tmp_path, explorer_network):
    """The picture is saved with what fits, but a script must not take it for the state."""
    import os
    import subprocess
    import sys

    from explorer.state import ExplorerState

    state = tmp_path / "state.json"
    ExplorerState(w=[0.1, 0.2, 0.3], class_idx=5).save(state)
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    argv = ["--network", explorer_network, "--state", str(state), "--screenshot", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "explorer.app", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    said = proc.stderr.strip().splitlines()[-1]
    assert said.startswith("screenshot: left out (does not fit this network): "), said
    assert "w has shape (3,)" in said and "class 5: this network is not conditional" in said
    assert out.is_file() and "Traceback" not in proc.stderr


def test_a_damaged_settings_file_does_not_stop_the_window(qapp, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from explorer.main_window import MainWindow

    ini = tmp_path / "settings.ini"
    ini.write_text(
        "[General]\ngeometry=hello\nsplitter=1, 2\n"
        "recent_networks=@Variant(\\0\\0\\0\\x2\\0\\0\\0\\x5)\n"
        "lpips_weights=a, b\nlast_state=3\n"
    )
    settings = QSettings(str(ini), QSettings.Format.IniFormat)
    win = MainWindow(device="cpu", settings=settings)
    qtbot.addWidget(win)
    win.restore()
    assert win.ctx.prefs.recent_networks() == []
    assert win.ctx.prefs.lpips_weights is None
    win.close()


@pytest.mark.parametrize("size", ["0x0", "-5x5", "40000x40000", "99x800"])
def test_window_sizes_beyond_any_screen_are_refused(qapp, size, capsys):
    assert main([f"--size={size}"]) == 2
    assert "--size sides must be" in capsys.readouterr().err


def test_a_screenshot_never_replaces_a_file_it_reads(qapp, tmp_path, explorer_network, capsys):
    """A PNG state (the explorer saves states into images) named as the screenshot too would be
    replaced by the window's picture: refused before anything opens, the file untouched."""
    saved = tmp_path / "saved.png"
    saved.write_bytes(b"\x89PNG state")
    for flag in ("--state", "--lpips-weights", "--compare"):
        argv = ["--network", explorer_network, flag, str(saved), "--screenshot", str(saved)]
        assert main(argv) == 2
        assert f"is the {flag} file being read" in capsys.readouterr().err
    assert saved.read_bytes() == b"\x89PNG state"
    network = tmp_path / "net.png"  # a network under an image's name, as the screenshot
    network.write_bytes(b"weights")
    assert main(["--network", str(network), "--screenshot", str(network)]) == 2
    assert "is the --network file being read" in capsys.readouterr().err
    assert network.read_bytes() == b"weights"
