"""Commands that read one file and write another refuse to write over their own input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from commands.main import main
from stylegan2.checkpoints import save_checkpoint
from stylegan2.networks import Generator
from stylegan2.safe_writes import same_file, write_text_atomic
from tests.conftest import tiny_config


@pytest.fixture
def net(tmp_path):
    return save_checkpoint(tmp_path / "g.safetensors", Generator(tiny_config()))


def test_same_file_sees_through_relative_paths_and_links(tmp_path, monkeypatch):
    a = tmp_path / "a.txt"
    a.write_text("x")
    (tmp_path / "link.txt").symlink_to(a)
    monkeypatch.chdir(tmp_path)
    assert same_file("a.txt", a) and same_file(tmp_path / "link.txt", a)
    assert same_file("new.txt", tmp_path / "sub" / ".." / "new.txt")  # neither exists yet
    assert not same_file("a.txt", "b.txt")


def test_atomic_text_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "card.md"
    path.write_text("old")

    class Boom(Exception):
        pass

    def fail(self, *_a, **_k):
        raise Boom

    monkeypatch.setattr(type(path), "replace", fail)
    with pytest.raises(Boom):
        write_text_atomic(path, "new")
    assert path.read_text() == "old" and not (tmp_path / "card.md.part").exists()


def test_convert_refuses_its_own_input(net, capsys):
    before = net.read_bytes()
    assert main(["convert", str(net), str(net), "--fp16"]) == 2
    assert "is the file being converted" in capsys.readouterr().err
    assert net.read_bytes() == before


def test_bundle_refuses_the_snapshot_and_its_card(tmp_path, net):
    from training.bundle import bundle

    before = net.read_bytes()
    for out in (net, net.with_suffix(".md")):
        with pytest.raises(ValueError, match="would write over"):
            bundle(net, out, "t", [], "d", seeds=1, ppl_samples=2)
    assert net.read_bytes() == before


def test_dataset_refuses_its_source(tmp_path, capsys):
    import zipfile

    src = tmp_path / "photos.zip"
    with zipfile.ZipFile(src, "w") as z:
        for i in range(2):
            img = tmp_path / f"{i}.png"
            Image.fromarray(np.full((20, 20, 3), 60 * i, np.uint8)).save(img)
            z.write(img, f"{i}.png")
    before = src.read_bytes()
    argv = ["dataset", "--source", str(src), "--dest", str(src), "--resolution", "16"]
    assert main(argv) == 2
    assert "is the source" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_project_refuses_to_write_over_its_target(tmp_path, net, capsys):
    target = tmp_path / "target.png"
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(target)
    before = target.read_bytes()
    argv = ["project", "--network", str(net), "--target", str(target), "--steps", "2"]
    assert main([*argv, "--outdir", str(tmp_path)]) == 2
    assert "over the target image" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_an_interrupted_save_leaves_no_partial_file(tmp_path, monkeypatch):
    """Ctrl-C in the middle of writing: the old file stays, no '.tmp' / '.part' is left."""
    import stylegan2.checkpoints.native as native

    path = save_checkpoint(tmp_path / "g.safetensors", Generator(tiny_config()))
    before = path.read_bytes()

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(native, "save_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, Generator(tiny_config()))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.safetensors"]
