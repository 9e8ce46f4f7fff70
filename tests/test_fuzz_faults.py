"""Faults while writing: a full disk (a file-size limit, or a writer patched to fail half-way), a
writer that exits 0 with a broken file, and a kill mid-write. Each leaves the previous file
untouched, nothing half-written under the final name, and reports one line (exit status 2)."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from stylegan2.checkpoints import CheckpointError, native
from stylegan2.latents import LatentFileError, save_w
from stylegan2.networks import Generator
from stylegan2.safe_writes import remove_stale_temps
from stylegan2.video import VideoError, mp4_problem, write_frames
from tests.conftest import DATA, micro_config

# Fuzz, fault, subprocess and whole-app checks: CI runs them, the quick loop skips them.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _frames(n: int, side: int = 32):
    rng = np.random.default_rng(0)
    for _ in range(n):
        yield rng.integers(0, 255, (side, side, 3), dtype=np.uint8)


def _temps(folder: Path, name: str) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(f".{name}.")]


@pytest.fixture
def good_mp4(tmp_path: Path) -> tuple[Path, bytes]:
    out = tmp_path / "X.mp4"
    assert write_frames(out, _frames(10), fps=10) == 10
    assert mp4_problem(out) is None
    return out, out.read_bytes()


def _full_disk() -> None:
    # Runs in the child: every file it or ffmpeg writes stops at 4 KB, as on a full disk.
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_full_disk_during_video_export_keeps_the_old_file(good_mp4):
    out, before = good_mp4
    argv = [sys.executable, "-m", "stylegan2.cli.main", "video", "--network"]
    argv += [str(DATA / "sg2ada_tiny_snapshot.pkl"), "--seeds", "0,1,2,3,4,5"]
    argv += ["--frames-per-segment", "40", "--out", str(out), "--device", "cpu"]
    res = subprocess.run(
        argv, preexec_fn=_full_disk, capture_output=True, text=True, timeout=240, cwd=ROOT
    )
    assert res.returncode == 2, res.stderr[-2000:]
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("stylegan2 video: error:") and "ffmpeg" in last, last
    assert "Traceback" not in res.stderr
    assert out.read_bytes() == before
    assert _temps(out.parent, out.name) == []


def test_ffmpeg_that_exits_0_with_no_index_is_caught(good_mp4, tmp_path, monkeypatch):
    """A writer that reports success but leaves no moov box (what a full disk at the trailer
    produced before): the probe refuses it."""
    out, before = good_mp4
    fake = tmp_path / "ffmpeg"
    fake.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import sys
            sys.stdin.buffer.read()
            with open(sys.argv[-1], "wb") as f:
                f.write(b"\\0\\0\\0\\x10ftypisom\\0\\0\\0\\0" + b"\\0\\1\\0\\0mdat" + bytes(100))
            """
        )
    )
    fake.chmod(0o755)
    import imageio_ffmpeg

    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(fake))
    with pytest.raises(VideoError, match="incomplete") as info:
        write_frames(out, _frames(5), fps=10)
    assert "\n" not in str(info.value)
    assert out.read_bytes() == before
    assert _temps(out.parent, out.name) == []


def _enospc_after_half():
    def write(*args, **kwargs):
        target = next(a for a in args if isinstance(a, (str, os.PathLike)) or hasattr(a, "write"))
        if hasattr(target, "write"):
            target.write(b"half")
        else:
            Path(target).write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    return write


def test_full_disk_while_saving_w_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    save_w(path, np.zeros((6, 32), np.float32))
    before = path.read_bytes()
    monkeypatch.setattr(np, "savez", _enospc_after_half())
    with pytest.raises(LatentFileError, match="No space left") as info:
        save_w(path, np.ones((6, 32), np.float32))
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before
    assert _temps(tmp_path, path.name) == []


def test_full_disk_while_saving_a_checkpoint_keeps_the_old_file(tmp_path, monkeypatch):
    cfg = micro_config()
    path = tmp_path / "net.safetensors"
    native.save_checkpoint(path, Generator(cfg))
    before = path.read_bytes()
    monkeypatch.setattr(native, "save_file", _enospc_after_half())
    with pytest.raises(CheckpointError, match="No space left") as info:
        native.save_checkpoint(path, Generator(cfg))
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before
    assert _temps(tmp_path, path.name) == []


_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from stylegan2.video import write_frames
    def frames():
        for k in range(1000):
            time.sleep(0.02)
            yield np.full((32, 32, 3), k % 255, np.uint8)
    write_frames(sys.argv[1], frames(), fps=10)
    """
)


def test_kill_during_video_export_keeps_the_old_file_and_the_next_export_cleans_up(good_mp4):
    out, before = good_mp4
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(out)], cwd=ROOT)
    try:
        deadline = time.time() + 60
        while not _temps(out.parent, out.name) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # some frames are in the temporary file
        assert _temps(out.parent, out.name), "the writer never started"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    time.sleep(0.5)  # ffmpeg sees its input close and ends
    assert out.read_bytes() == before
    stale = _temps(out.parent, out.name)
    assert stale and all(".part" in p.name for p in stale)
    assert remove_stale_temps(out) == 0  # fresh: a live writer could own it
    old = time.time() - 3600
    for p in stale:
        os.utime(p, (old, old))
    assert write_frames(out, _frames(3), fps=10) == 3
    assert _temps(out.parent, out.name) == []
    assert mp4_problem(out) is None


def test_stale_temporaries_of_an_output_go_at_its_next_write(tmp_path):
    path = tmp_path / "w.npy"
    stale = tmp_path / ".w.npy.0123abcd.part"
    fresh = tmp_path / ".w.npy.4567cdef.part"
    other = tmp_path / ".other.npy.0123abcd.part"
    for p in (stale, fresh, other):
        p.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    save_w(path, np.zeros((6, 32), np.float32))
    assert not stale.exists()  # ours, and old: a killed write
    assert fresh.exists() and other.exists()  # maybe a live writer; another file's
