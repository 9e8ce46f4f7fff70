"""Drawing the procedural faces in several processes gives the same zip as drawing them in one."""

from __future__ import annotations

import multiprocessing
import zipfile

import numpy as np
import pytest

from training.faces import default_workers, generate_faces


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_two_workers_write_the_same_zip_as_one(tmp_path):
    from commands.main import main

    zips, files = {}, {}
    for workers in (1, 2):
        dest = tmp_path / f"faces-{workers}.zip"
        argv = ["dataset", "--faces", "24", "--resolution", "32", "--dest", str(dest)]
        assert main([*argv, "--workers", str(workers)]) == 0
        zips[workers] = _members(dest)
        files[workers] = dest.read_bytes()
    assert list(zips[1]) == list(zips[2])  # the same members in the same order
    assert len([n for n in zips[1] if n.endswith(".png")]) == 24
    assert zips[1]["dataset.json"] == zips[2]["dataset.json"]
    for name in zips[1]:
        assert zips[1][name] == zips[2][name], name
    assert files[1] == files[2]  # the whole file too
    with zipfile.ZipFile(tmp_path / "faces-1.zip") as z:  # entries carry no build time
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_more_workers_than_faces_and_early_stop():
    one = list(generate_faces(3, 16, seed=5))
    many = list(generate_faces(3, 16, seed=5, workers=8))
    assert [n for n, _, _ in one] == [n for n, _, _ in many]
    assert all(np.array_equal(a, b) for (_, a, _), (_, b, _) in zip(one, many, strict=True))
    assert [f for _, _, f in one] == [f for _, _, f in many]
    # A consumer that stops early closes the pool instead of leaving it running.
    gen = generate_faces(50, 16, workers=2)
    assert next(gen)[0] == "face000000"
    gen.close()
    assert not multiprocessing.active_children()


def test_workers_are_checked():
    assert default_workers() >= 1
    with pytest.raises(ValueError, match="workers"):
        next(generate_faces(2, 16, workers=0))


def test_cli_refuses_zero_workers(tmp_path, capsys):
    from commands.main import main

    argv = ["dataset", "--faces", "2", "--resolution", "16", "--dest", str(tmp_path / "f.zip")]
    with pytest.raises(SystemExit):
        main([*argv, "--workers", "0"])
    assert "--workers" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--workers", "--seed"])
def test_face_flags_without_faces_are_an_error(tmp_path, capsys, flag):
    from commands.main import main

    argv = ["dataset", "--source", str(tmp_path), "--dest", str(tmp_path / "d.zip")]
    argv += ["--resolution", "16", flag, "2"]
    assert main(argv) == 2
    assert f"{flag} only goes with --faces" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--faces", "2", "--max-images", "1"], "--max-images only goes with --source or --emoji"),
        (["--faces", "2", "--labels"], "--labels only goes with --source"),
        (["--faces", "2", "--crop", "none"], "--crop only goes with --source"),
        (["--source", "x", "--emoji-set", "faces"], "--emoji-set only goes with --emoji-font"),
    ],
)
def test_a_flag_the_source_ignores_is_an_error(tmp_path, capsys, flags, message):
    from commands.main import main

    argv = ["dataset", *flags, "--dest", str(tmp_path / "d.zip"), "--resolution", "16"]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "d.zip").exists()
