"""Our safetensors checkpoint format: bit-exact round trips and safe failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from stylegan2.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from stylegan2.config import DiscriminatorConfig
from stylegan2.networks import Discriminator, Generator
from tests.conftest import randomize_, tiny_config


def _pair(norm: str = "demod"):
    G = randomize_(Generator(tiny_config(normalization=norm)), 1)
    D = randomize_(
        Discriminator(DiscriminatorConfig(img_resolution=16, channel_base=128, channel_max=16)), 2
    )
    return G, D


@pytest.mark.parametrize("norm", ["demod", "adain"])
def test_round_trip_is_bit_exact(tmp_path, norm):
    G, D = _pair(norm)
    path = save_checkpoint(tmp_path / "net.safetensors", G, G=G, D=D, card={"dataset": "x"})
    ck = load_checkpoint(path)
    assert ck.format == "native" and ck.G_ema.cfg == G.cfg and ck.D.cfg == D.cfg
    for a, b in ((G, ck.G_ema), (G, ck.G), (D, ck.D)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), k
    assert ck.metadata["card"] == {"dataset": "x"}
    assert not list(tmp_path.glob("*.tmp"))


def test_fp16_storage_loads_as_float32(tmp_path):
    G, _ = _pair()
    ck = load_checkpoint(save_checkpoint(tmp_path / "h.safetensors", G, dtype=torch.float16))
    w = ck.G_ema.synthesis.b8.conv0.weight
    assert w.dtype == torch.float32
    torch.testing.assert_close(w, G.synthesis.b8.conv0.weight.half().float(), atol=0, rtol=0)
    full = save_checkpoint(tmp_path / "f.safetensors", G).stat().st_size
    half = (tmp_path / "h.safetensors").stat().st_size
    tensor_bytes = sum(t.numel() * 2 for t in G.state_dict().values())
    assert abs((full - half) - tensor_bytes) < 256  # only the header offsets differ


def test_unwritable_destination_is_a_clear_error_and_leaves_nothing(tmp_path):
    G, _ = _pair()
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(CheckpointError, match="cannot write"):
            save_checkpoint(ro / "x.safetensors", G)
    finally:
        os.chmod(ro, 0o700)
    with pytest.raises(CheckpointError, match="cannot write"):
        save_checkpoint(tmp_path / "missing-dir" / "x.safetensors", G)


def test_damaged_native_file(tmp_path):
    G, _ = _pair()
    path = save_checkpoint(tmp_path / "n.safetensors", G)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(bad)
        assert "\n" not in str(info.value)


def test_shape_mismatch_is_refused_whole(tmp_path):
    """A config that disagrees with the tensors: one line naming the tensor, no network."""
    import json

    from safetensors.torch import load_file, save_file

    G, _ = _pair()
    path = save_checkpoint(tmp_path / "n.safetensors", G)
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        meta = json.loads(f.read(n))["__metadata__"]
    cfg = json.loads(meta["G_ema_config"])
    cfg["synthesis"]["channel_max"] = 8
    meta["G_ema_config"] = json.dumps(cfg)
    save_file(load_file(str(path)), str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="wrong shape for synthesis"):
        load_checkpoint(path)


def test_saved_file_permissions_and_missing_folder(tmp_path):
    import os
    import stat

    import pytest

    from stylegan2.checkpoints import CheckpointError, save_checkpoint
    from stylegan2.networks import Generator
    from tests.conftest import tiny_config

    G = Generator(tiny_config())
    old = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "g.safetensors", G)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable by others, like any new file
    with pytest.raises(CheckpointError, match="cannot write"):
        save_checkpoint(tmp_path / "no" / "such" / "g.safetensors", G)


def _rewrite_metadata(path, **changes):
    import json

    from safetensors.torch import load_file, save_file

    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        meta = json.loads(f.read(n))["__metadata__"]
    meta.update(changes)
    save_file(load_file(str(path)), str(path), metadata=meta)


def test_damaged_metadata_fields(tmp_path):
    """A damaged card still loads (it is documentation); a bad version or extra is an error."""
    G, _ = _pair()
    path = save_checkpoint(tmp_path / "n.safetensors", G)
    _rewrite_metadata(path, card="nope{")
    ckpt = load_checkpoint(path)
    assert "damaged card metadata" in ckpt.metadata["card"]["damaged_card"]
    torch.testing.assert_close(ckpt.G_ema.state_dict(), G.state_dict())
    for field, value, match in (
        ("format_version", "x1", "format_version 'x1'"),
        ("extra", "[1", "damaged extra metadata"),
        ("extra", "[1]", "not a JSON object"),
    ):
        bad = save_checkpoint(tmp_path / f"{field}.safetensors", G)
        _rewrite_metadata(bad, **{field: value})
        with pytest.raises(CheckpointError, match=match) as info:
            load_checkpoint(bad)
        assert "\n" not in str(info.value)


def test_truncated_files_are_called_damaged(tmp_path):
    """Cut inside a safetensors header or a torch archive: 'damaged', not 'not recognised'."""
    G, _ = _pair()
    native = save_checkpoint(tmp_path / "n.safetensors", G).read_bytes()
    archive = tmp_path / "ros.pt"
    torch.save({"g_ema": {"w": torch.zeros(1000)}}, archive)
    for name, data in (("cut.safetensors", native[:200]), ("cut.pt", archive.read_bytes()[:900])):
        bad = tmp_path / name
        bad.write_bytes(data)
        with pytest.raises(CheckpointError, match="damaged checkpoint"):
            load_checkpoint(bad)


def test_a_file_name_that_is_not_utf8_opens(tmp_path):
    """A name in another system's encoding (Latin-1 bytes here) is a valid Linux name that
    safetensors refuses to open by name; the checkpoint opens all the same."""
    import shutil

    G, _ = _pair()
    path = save_checkpoint(tmp_path / "n.safetensors", G)
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.safetensors"))
    shutil.copy(path, odd)
    loaded = load_checkpoint(odd).G_ema
    for k, v in G.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
