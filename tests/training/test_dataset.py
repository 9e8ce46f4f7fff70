"""Datasets and the dataset tool: layout, labels, bad images skipped with a summary."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from commands.main import main
from training.dataset import DatasetError, ImageDataset
from training.dataset_tool import build_dataset


def _write(path, w, h, mode="RGB", value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, (w, h), value if mode == "L" else (value, 50, 200)).save(path)


def test_tool_layout_labels_and_skips(tmp_path):
    src = tmp_path / "src"
    for i in range(3):
        _write(src / "cats" / f"{i}.png", 40, 30)
        _write(src / "dogs" / f"{i}.jpg", 64, 64)
    (src / "dogs" / "broken.png").write_bytes(b"\x89PNG not really")
    rgba = Image.new("RGBA", (32, 32), (255, 0, 0, 0))
    rgba.save(src / "cats" / "transparent.png")
    dest = tmp_path / "out.zip"
    report = build_dataset(src, dest, 16, crop="center", labels=True)
    assert report.written == 7 and len(report.skipped) == 1 and "broken.png" in report.summary()
    with zipfile.ZipFile(dest) as z:
        names = sorted(z.namelist())
        meta = json.loads(z.read("dataset.json"))
        info = z.getinfo("00000/img00000000.png")
    assert names[0] == "00000/img00000000.png" and "dataset.json" in names
    assert info.compress_type == zipfile.ZIP_STORED
    assert meta["classes"] == ["cats", "dogs"] and {lbl for _, lbl in meta["labels"]} == {0, 1}
    ds = ImageDataset(dest, use_labels=True)
    img, label = ds[0]
    assert img.shape == (3, 16, 16) and img.dtype == torch.uint8
    assert label.shape == (2,) and float(label.sum()) == 1
    # Transparent pixels become white, not undefined colours.
    idx = [a for a, lbl in meta["labels"]].index(
        next(a for a, lbl in meta["labels"] if lbl == 0 and a.endswith("3.png"))
    )
    assert ds[idx][0].float().mean() > 250


def test_crop_none_skips_non_square(tmp_path):
    src = tmp_path / "src"
    _write(src / "a.png", 32, 32)
    _write(src / "b.png", 40, 32)
    report = build_dataset(src, tmp_path / "o.zip", 8, crop="none")
    assert report.written == 1 and "not square" in report.skipped[0][1]


def test_dataset_skips_odd_sizes_and_mirrors(tmp_path):
    src = tmp_path / "imgs"
    for i in range(4):
        _write(src / f"{i}.png", 8, 8, value=i * 60)
    _write(src / "odd.png", 10, 8)
    (src / "junk.png").write_bytes(b"junk")
    ds = ImageDataset(src, xflip=True)
    assert len(ds) == 8 and ds.resolution == 8 and len(ds.report.skipped) == 2
    a, _ = ds[0]
    b, _ = ds[4]
    assert torch.equal(a.flip(2), b)


def test_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="no such"):
        ImageDataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        ImageDataset(tmp_path / "empty")
    _write(tmp_path / "rect" / "a.png", 8, 6)
    with pytest.raises(DatasetError, match="square power-of-two"):
        ImageDataset(tmp_path / "rect")


def test_cli_dataset(tmp_path, capsys):
    src = tmp_path / "s"
    for i in range(2):
        _write(src / f"{i}.png", 20, 20, mode="L", value=i * 100)
    assert (
        main(
            [
                "dataset",
                "--source",
                str(src),
                "--dest",
                str(tmp_path / "d.zip"),
                "--resolution",
                "8",
            ]
        )
        == 0
    )
    assert "wrote 2 images" in capsys.readouterr().out
    ds = ImageDataset(tmp_path / "d.zip")
    assert ds.num_channels == 1 and np.asarray(ds[1][0]).max() > 0
    with pytest.raises(SystemExit) as info:  # refused at parse time: exit status 2
        main(
            [
                "dataset",
                "--source",
                str(src),
                "--dest",
                str(tmp_path / "x.zip"),
                "--resolution",
                "6",
            ]
        )
    assert info.value.code == 2


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # 4 workers on 2 cores
def test_zip_read_by_forked_workers(tmp_path):
    """The parent reads the zip first; forked workers must not share its file handle."""
    from tests.training.conftest import make_images

    make_images(tmp_path / "imgs", n=64, res=32)
    build_dataset(tmp_path / "imgs", tmp_path / "d.zip", 32)
    ds = ImageDataset(tmp_path / "d.zip")
    expected = torch.stack([ds[i][0] for i in range(len(ds))])  # opens the zip here
    ctx = torch.multiprocessing.get_context("fork")
    for _ in range(3):
        loader = torch.utils.data.DataLoader(
            ds, batch_size=4, num_workers=4, multiprocessing_context=ctx
        )
        assert torch.equal(torch.cat([img for img, _ in loader]), expected)


def _png_claiming(width: int, height: int) -> bytes:
    """A few bytes that say they are a huge RGB PNG (the decompression-bomb shape)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_skipped_not_fatal(tmp_path, capsys):
    src = tmp_path / "s"
    for i in range(2):
        _write(src / f"{i}.png", 8, 8, value=i * 100)
    (src / "bomb.png").write_bytes(_png_claiming(20000, 20000))
    argv = ["dataset", "--source", str(src), "--dest", str(tmp_path / "d.zip")]
    assert main([*argv, "--resolution", "8"]) == 0
    out = capsys.readouterr().out
    assert "wrote 2" in out or "2 images" in out, out
    assert "bomb.png: too large to decode" in out
    ds = ImageDataset(src)  # the trainer reads a folder directly too
    assert len(ds) == 2 and ds.report.skipped == [("bomb.png", ds.report.skipped[0][1])]
    assert "too large to decode" in ds.report.skipped[0][1]
    with pytest.raises(SystemExit):
        main([*argv, "--resolution", "4096"])
    assert "4-2048" in capsys.readouterr().err


def _png_bytes(value: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (value, 50, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _damaged_zip(path, damage: str) -> None:
    """A zip with a good image and one member damaged the way `damage` says."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("good.png", _png_bytes(10))
        z.writestr("bad.png", _png_bytes(99))
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04", 1)  # the second member's local header
    central = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)  # and its directory entry
    if damage == "crc":
        data[local + 14] ^= 0xFF  # stored CRC-32
        data[central + 16] ^= 0xFF
    elif damage == "deflate":
        start = local + 30 + len("bad.png")
        data[start : start + 8] = b"\xff" * 8
    elif damage == "encrypted":
        data[local + 6] |= 1
        data[central + 8] |= 1
    elif damage == "method":
        data[local + 8] = data[central + 10] = 99
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["crc", "deflate", "encrypted", "method"])
def test_a_damaged_zip_member_is_one_skipped_image(tmp_path, damage):
    src = tmp_path / "src.zip"
    _damaged_zip(src, damage)
    report = build_dataset(src, tmp_path / "out.zip", 8)
    assert report.written == 1 and [n for n, _ in report.skipped] == ["bad.png"]
    assert "unreadable" in report.skipped[0][1]
    ds = ImageDataset(src)
    assert len(ds) == 1 and ds.report.skipped[0][0] == "bad.png"


def test_a_zip_whose_directory_is_unreadable_is_a_clear_error(tmp_path):
    src = tmp_path / "src.zip"
    _damaged_zip(src, "none")
    data = bytearray(src.read_bytes())
    end = data.rindex(b"PK\x01\x02")
    data[end + 6] = 99  # "version needed to extract" of the central directory entry
    src.write_bytes(bytes(data))
    for build in (lambda: ImageDataset(src), lambda: build_dataset(src, tmp_path / "o.zip", 8)):
        with pytest.raises(DatasetError, match="damaged zip"):
            build()


def test_dest_among_the_source_images_is_refused(tmp_path):
    _write(tmp_path / "src" / "a.png", 8, 8)
    _write(tmp_path / "src" / "sub" / "b.png", 8, 8)
    before = (tmp_path / "src" / "sub" / "b.png").read_bytes()
    with pytest.raises(DatasetError, match="one of the --source files being read"):
        build_dataset(tmp_path / "src", tmp_path / "src" / "sub" / "b.png", 8)
    assert (tmp_path / "src" / "sub" / "b.png").read_bytes() == before
    assert build_dataset(tmp_path / "src", tmp_path / "src" / "new.zip", 8).written == 2


@pytest.mark.parametrize(
    "labels, message",
    [
        ([["a.png", -1], ["b.png", 0]], "must lie in"),
        ([["a.png", 10**12], ["b.png", 0]], "must lie in"),
        ([["a.png", "cat"], ["b.png", "dog"]], "number vectors"),
        ([["a.png", [1.0, 2.0]], ["b.png", [1.0]]], "number vectors"),
        ([["a.png", float("nan")], ["b.png", 1.0]], "NaN"),
        ([["a.png", [1e300]], ["b.png", [1.0]]], "beyond float32"),
        ([["a.png", [10**400]], ["b.png", [1.0]]], "number vectors"),
        ([["a.png", []], ["b.png", []]], "label vectors are empty"),
        ({"a.png": 0}, "no label for b.png"),
        ([1, 2], "pairs"),
    ],
)
def test_bad_labels_are_clear_errors(tmp_path, labels, message):
    src = tmp_path / "src"
    _write(src / "a.png", 8, 8)
    _write(src / "b.png", 8, 8)
    (src / "dataset.json").write_text(json.dumps({"labels": labels}))
    with pytest.raises(DatasetError, match=message):
        ImageDataset(src, use_labels=True)
    (src / "dataset.json").write_text("[1, 2]")
    with pytest.raises(DatasetError, match="no labels"):
        ImageDataset(src, use_labels=True)


@pytest.mark.parametrize(
    "mode, values, expected",
    [
        ("I;16", np.array([[0, 32896, 65535]], dtype=np.uint16), [0, 128, 255]),
        ("I", np.array([[0, 128, 255]], dtype=np.int32), [0, 128, 255]),  # 8-bit values in 32
        ("F", np.array([[0.0, 0.5, 1.0]], dtype=np.float32), [0, 128, 255]),  # fractions
        ("F", np.array([[0.0, np.nan, 70000.0]], dtype=np.float32), [0, 0, 255]),
    ],
)
def test_wide_greyscale_images_are_scaled_not_clipped(tmp_path, mode, values, expected):
    """Pillow's own conversion clips 16-bit values above 255: a 16-bit photo came out white."""
    from stylegan2.io import load_image
    from training.dataset import decode_image

    img = Image.fromarray(values, mode=mode) if mode != "I;16" else Image.fromarray(values)
    path = tmp_path / ("g.png" if mode == "I;16" else "g.tiff")
    img.save(path)
    got = decode_image(path.read_bytes())
    assert got.shape == (1, 3, 1) and got[0, :, 0].tolist() == expected
    assert load_image(path)[0, :, 1].tolist() == expected


def test_max_images_counts_images_written_and_names_print_anywhere(tmp_path):
    import os

    src = tmp_path / "s"
    for i in range(3):
        _write(src / f"{i}.png", 8, 8, value=i * 50)
    bad = os.fsencode(src) + b"/\xffbad.png"  # sorts before the good ones; not UTF-8
    with open(bad, "wb") as f:
        f.write(b"not an image")
    (src / "-broken.png").write_bytes(b"\x89PNG not really")
    report = build_dataset(src, tmp_path / "d.zip", 8, max_images=2)
    assert report.written == 2 and len(report.skipped) == 1  # "-broken" first, then 0 and 1
    report = build_dataset(src, tmp_path / "e.zip", 8, max_images=3)
    assert report.written == 3 and len(report.skipped) == 1
    report = build_dataset(src, tmp_path / "f.zip", 8)
    text = report.summary()
    assert "\\xffbad.png: " in text
    text.encode("utf-8")  # a strict UTF-8 terminal prints it
    for i in range(3):
        (src / f"{i}.png").unlink()
    with pytest.raises(DatasetError, match=r"none of the 2 images could be used: -broken.png: "):
        build_dataset(src, tmp_path / "g.zip", 8)  # the message says why


def test_mixed_sizes_train_on_the_most_common_usable_one(tmp_path):
    src = tmp_path / "s"
    for i in range(3):
        _write(src / f"big{i}.png", 10, 10)
    for i in range(2):
        _write(src / f"small{i}.png", 8, 8)
    ds = ImageDataset(src)
    assert len(ds) == 2 and ds[0][0].shape == (3, 8, 8)
    assert {n for n, _ in ds.report.skipped} == {f"big{i}.png" for i in range(3)}
    for i in range(2):
        (src / f"small{i}.png").unlink()
    _write(src / "wide.png", 16, 8)
    with pytest.raises(DatasetError, match=r"images are 3 at 10x10, 1 at 8x16; training needs"):
        ImageDataset(src)


def test_a_large_image_below_the_bomb_limit_warns_nothing(tmp_path):
    import warnings

    src = tmp_path / "s"
    _write(src / "a.png", 8, 8, mode="L")  # grey: the tool reads every header to know
    (src / "large.png").write_bytes(_png_claiming(10000, 10000))  # above Pillow's warning level
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = build_dataset(src, tmp_path / "d.zip", 8)
    assert report.written == 1 and report.skipped[0][0] == "large.png"


def test_a_zip_with_two_members_of_one_name_says_so(tmp_path):
    import warnings

    src = tmp_path / "s.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(src, "w") as z:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
        z.writestr("a.png", _png_bytes(10))
        z.writestr("a.png", _png_bytes(200))
        z.writestr("b.png", _png_bytes(90))
    report = build_dataset(src, tmp_path / "d.zip", 8)
    assert report.written == 2  # one image per name, not the last one twice
    assert report.skipped == [("a.png", "1 earlier copy in the zip under the same name, unread")]
    ds = ImageDataset(src)
    assert len(ds) == 2 and ds.report.skipped == report.skipped


def test_max_images_decides_grey_by_the_images_it_writes(tmp_path):
    src = tmp_path / "s"
    for i in range(2):
        _write(src / f"{i}.png", 8, 8, mode="L", value=40 * i)
    _write(src / "9-colour.png", 8, 8)  # sorts last: not among the first two
    build_dataset(src, tmp_path / "grey.zip", 8, max_images=2)
    assert ImageDataset(tmp_path / "grey.zip").num_channels == 1
    build_dataset(src, tmp_path / "rgb.zip", 8)
    assert ImageDataset(tmp_path / "rgb.zip").num_channels == 3
