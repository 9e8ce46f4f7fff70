"""Every reader of a file a user names refuses a pipe or a device at once (a FIFO would block it
forever, /dev/zero would stream without end) and names a folder or a missing file as such."""

from __future__ import annotations

import os

import pytest

from stylegan2.input_files import file_problem


def _readers():
    from stylegan2.cli.common import CLIError, read_json
    from stylegan2.directions import Directions
    from stylegan2.io import ImageIOError, load_image
    from stylegan2.latents import LatentFileError, load_w
    from stylegan2.weight_files import read_weight_file

    return [
        ("image", load_image, ImageIOError),
        ("directions", Directions.load, ValueError),
        ("weights", lambda p: read_weight_file(p, "weights"), ValueError),
        ("latent", lambda p: load_w(p, 10, 512), LatentFileError),
        ("json", lambda p: read_json(p, "state file"), CLIError),
    ]


@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    return path


def test_file_problem_names_each_kind(tmp_path, fifo):
    (tmp_path / "f").write_bytes(b"x")
    assert file_problem(tmp_path / "f") is None
    assert file_problem(tmp_path / "missing") == "no such file"
    assert file_problem(tmp_path) == "a folder, not a file"
    assert file_problem(fifo) == "not a regular file (a pipe or a device)"
    if os.path.exists("/dev/zero"):
        assert file_problem("/dev/zero") == "not a regular file (a pipe or a device)"


@pytest.mark.parametrize("index", range(5))
def test_readers_refuse_a_pipe_without_blocking(fifo, tmp_path, index):
    _name, read, error = _readers()[index]
    with pytest.raises(error, match=r"not a regular file \(a pipe or a device\)"):
        read(fifo)
    with pytest.raises(error, match="a folder, not a file"):
        read(tmp_path)
