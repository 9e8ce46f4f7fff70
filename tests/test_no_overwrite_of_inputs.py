"""Commands that read one file and write another refuse to write over their own input."""

from __future__ import annotations

from pathlib import Path

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


def _directions_file(tmp_path, net):
    from stylegan2.checkpoints import load_network
    from stylegan2.directions import sefa

    path = tmp_path / "d.npz"
    sefa(load_network(net), top=2).save(path)
    return path


def _real_images(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    for i in range(2):
        Image.fromarray(np.full((16, 16, 3), 40 + 60 * i, np.uint8)).save(real / f"{i}.png")
    return real


#: a command whose output flag names one of its inputs ({net}: the network, {dirs}: a
#: directions file, {real}: a folder of real images, {tmp}: the folder of them all)
OVERWRITES = {
    "mix --out": "mix --network {net} --rows 1 --cols 2 --out {net}",
    "edit --out network": "edit --network {net} --direction {dirs} --seeds 1 --out {net}",
    "edit --out directions": "edit --network {net} --direction {dirs} --seeds 1 --out {dirs}",
    "directions --out": "directions --network {net} --out {net}",
    "blobs --csv": "blobs --network {net} --seeds 0 --csv {net}",
    "blobs --plot": "blobs --network {net} --seeds 0 --plot {net}",
    "resolution-usage --plot": "resolution-usage {net} --plot {net}",
    "detect --calibration": "detect --calibrate --real {real} --network {net} --steps 1 "
    "--calibration {net}",
    "detect --plot over a real image": "detect --calibrate --real {real} --network {net} "
    "--steps 1 --calibration {tmp}/cal.json --plot {real}/1.png",
    "generate --outdir": "generate --network {tmp}/seed0000.png --outdir {tmp}",
    "project --outdir": "project --network {tmp}/proj.png --target {real}/0.png --steps 1 "
    "--outdir {tmp}",
    "video --out": "video --network {tmp}/net.gif --seeds 0,1 --out {tmp}/net.gif",
    "dataset --dest over the font": "dataset --emoji-font {tmp}/font.ttf --dest {tmp}/font.ttf "
    "--resolution 16",
}


@pytest.mark.parametrize("argv", OVERWRITES.values(), ids=OVERWRITES.keys())
def test_no_command_writes_over_its_own_input(tmp_path, net, capsys, argv):
    """Every output flag is checked against every input before any work: exit 2, one line,
    the input's bytes unchanged."""
    dirs = _directions_file(tmp_path, net)
    real = _real_images(tmp_path)
    for alias in ("seed0000.png", "proj.png", "net.gif"):  # a network under an output's name
        (tmp_path / alias).write_bytes(net.read_bytes())
    (tmp_path / "font.ttf").write_bytes(b"a font")
    names = {"net": net, "dirs": dirs, "real": real, "tmp": tmp_path}
    argv = argv.format(**names).split()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "would be written over" in err and err.count("\n") == 1, err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_an_output_linked_to_the_network_is_refused(tmp_path, net, capsys, monkeypatch):
    """Through a symbolic link and a relative path with '..', as well as the plain name."""
    (tmp_path / "grid.png").symlink_to(net)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    before = net.read_bytes()
    for out in ("grid.png", "sub/../g.safetensors"):
        assert main(["mix", "--network", net.name, "--rows", "1", "--cols", "2", "--out", out]) == 2
        assert "is the --network being read" in capsys.readouterr().err
    assert net.read_bytes() == before


def test_detect_writes_its_calibration_atomically(tmp_path, net, monkeypatch):
    """A failure while the calibration is written leaves the earlier one as it was."""
    import stylegan2.detect as detect_lib

    cal = tmp_path / "cal.json"
    cal.write_text('{"threshold": 0.5}')
    calls = []

    def distances(G, images, *_a, **_k):  # generated images near, real ones far
        calls.append(1)
        return [0.1 * len(calls) + 0.01 * i for i in range(len(images))]

    class Boom(Exception):
        pass

    def fail(self, *_a, **_k):
        raise Boom

    monkeypatch.setattr(detect_lib, "distances_for", distances)
    monkeypatch.setattr(type(cal), "replace", fail)
    real = _real_images(tmp_path)
    argv = ["detect", "--calibrate", "--real", str(real), "--network", str(net), "--n", "2"]
    with pytest.raises(Boom):
        main([*argv, "--steps", "1", "--calibration", str(cal)])
    assert cal.read_text() == '{"threshold": 0.5}'
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cal.json")]


def test_atomic_writes_follow_links_and_write_devices_in_place(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    write_text_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    # Renaming a temporary over /dev/null would replace the device with a file.
    write_text_atomic("/dev/null", "discarded")
    assert not Path("/dev/null").is_file()


def test_a_checkpoint_is_never_renamed_over_a_device_or_a_pipe(tmp_path, capsys):
    import os

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    net = save_checkpoint(tmp_path / "g.safetensors", Generator(tiny_config()))
    assert main(["convert", str(net), str(pipe)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert pipe.is_fifo()


def test_bundle_refuses_to_write_over_the_files_it_measures_with(tmp_path, net):
    """--data (and the weights files) are read for minutes before the model is written: the
    model or its card landing on one of them is refused first, whatever its name."""
    from training.bundle import bundle

    data = tmp_path / "faces.zip"
    data.write_bytes(b"PK images")
    weights = tmp_path / "vgg.md"
    weights.write_bytes(b"weights")
    with pytest.raises(ValueError, match=r"would write over --data"):
        bundle(net, data, "t", [], "d", data=str(data), seeds=1, ppl_samples=2)
    with pytest.raises(ValueError, match=r"the card .* would write over --lpips-weights"):
        bundle(net, tmp_path / "vgg.safetensors", "t", [], "d", lpips_weights=str(weights),
               seeds=1, ppl_samples=2)  # fmt: skip
    assert data.read_bytes() == b"PK images" and weights.read_bytes() == b"weights"


def test_dataset_dest_is_a_zip_checked_before_any_image_is_made(tmp_path, net, capsys):
    before = net.read_bytes()
    argv = ["dataset", "--faces", "2", "--resolution", "16", "--workers", "1"]
    assert main([*argv, "--dest", str(net)]) == 2
    assert "name it .zip" in capsys.readouterr().err
    assert net.read_bytes() == before
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main([*argv, "--dest", str(afile / "faces.zip")]) == 2
    assert f"no folder {afile}" in capsys.readouterr().err


def test_zip_writers_refuse_devices_and_pipes(tmp_path, net, capsys):
    """A zip's end record cannot be written in place over a device or a pipe: a clear error
    (not struct.error), and the pipe stays a pipe."""
    import os

    from stylegan2.latents import LatentFileError, save_w

    assert main(["directions", "--network", str(net), "--out", "/dev/null", "--top", "2"]) == 2
    assert "not a regular file" in capsys.readouterr().err
    pipe = tmp_path / "pipe.zip"
    os.mkfifo(pipe)
    argv = ["dataset", "--faces", "2", "--resolution", "16", "--workers", "1"]
    assert main([*argv, "--dest", str(pipe)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    w_pipe = tmp_path / "w.npz"
    os.mkfifo(w_pipe)
    with pytest.raises(LatentFileError, match="not a regular file"):
        save_w(w_pipe, np.zeros((2, 4)))
    assert pipe.is_fifo() and w_pipe.is_fifo()


def test_dataset_never_writes_over_a_source_image(tmp_path, capsys):
    """The command takes only a .zip destination (a source folder's images are not zips); the
    library refuses a source file as the destination whatever its name."""
    from training.dataset import DatasetError
    from training.dataset_tool import build_dataset

    real = _real_images(tmp_path)
    before = (real / "1.png").read_bytes()
    argv = ["dataset", "--source", str(real), "--dest", str(real / "1.png"), "--resolution", "16"]
    assert main(argv) == 2
    assert "name it .zip" in capsys.readouterr().err
    with pytest.raises(DatasetError, match="one of the --source files"):
        build_dataset(real, real / "1.png", 16)
    assert (real / "1.png").read_bytes() == before


def test_convert_does_not_write_safetensors_under_a_pickle_name(tmp_path, net, capsys):
    for name in ("c.pkl", "c.PT", "c.pth"):
        assert main(["convert", str(net), str(tmp_path / name)]) == 2
        assert "not a pickle; name it .safetensors" in capsys.readouterr().err
        assert not (tmp_path / name).exists()
