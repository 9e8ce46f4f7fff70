"""SeFa / PCA directions: orthonormal and sorted, layer-limited edits, files, CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylegan2.cli.main import main
from stylegan2.directions import Directions, pca, sefa
from stylegan2.render import Latent, Renderer, RenderRequest
from tests.conftest import distinct_generator


@pytest.fixture(scope="module")
def G():
    return distinct_generator()


def test_sefa_orthonormal_and_sorted(G):
    d = sefa(G, (0, 2), top=8)
    v = torch.from_numpy(d.vectors).double()
    torch.testing.assert_close(v @ v.T, torch.eye(8, dtype=torch.float64), atol=1e-5, rtol=0)
    assert np.all(np.diff(d.scores) <= 1e-9) and d.layers == (0, 2)
    assert not np.allclose(sefa(G, (3, 5)).vectors[0], d.vectors[0])


def test_pca_components_are_orthogonal_and_scaled(G):
    d = pca(G, num_samples=2000, top=4, batch=500)
    v = torch.from_numpy(d.vectors).double()
    unit = v / v.norm(dim=1, keepdim=True)
    torch.testing.assert_close(unit @ unit.T, torch.eye(4, dtype=torch.float64), atol=1e-4, rtol=0)
    torch.testing.assert_close(
        v.norm(dim=1), torch.from_numpy(d.scores).double(), atol=1e-4, rtol=1e-4
    )
    assert np.all(np.diff(d.scores) <= 0)


def test_edit_changes_only_the_chosen_layers(G):
    d = sefa(G, (1, 3), top=2)
    r = Renderer(G)
    base = r.request_ws(RenderRequest(latent=Latent.from_seed(4)))[0]
    moved = r.request_ws(
        RenderRequest(latent=Latent.from_seed(4), w_offset=d.offset(0, 3.0, G.num_ws))
    )[0]
    changed = [i for i in range(G.num_ws) if not torch.equal(base[i], moved[i])]
    assert changed == [1, 2, 3]
    torch.testing.assert_close(
        moved[2] - base[2], 3.0 * torch.from_numpy(d.vectors[0]), atol=1e-5, rtol=0
    )


def test_file_round_trip(tmp_path, G):
    d = sefa(G, (0, 5), top=3)
    d.save(tmp_path / "d.npz")
    e = Directions.load(tmp_path / "d.npz")
    assert np.array_equal(e.vectors, d.vectors) and e.layers == d.layers and e.names == d.names
    # Saved under exactly the name chosen: no '.npz' added behind the user's back.
    (tmp_path / "smile.npz").write_bytes(b"keep")
    d.save(tmp_path / "smile")
    assert (tmp_path / "smile.npz").read_bytes() == b"keep"
    assert Directions.load(tmp_path / "smile").names == d.names
    (tmp_path / "bad.npz").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a directions file"):
        Directions.load(tmp_path / "bad.npz")


def test_cli(tmp_path, G):
    from PIL import Image

    from stylegan2.checkpoints import save_checkpoint

    net = str(save_checkpoint(tmp_path / "g.safetensors", G))
    assert (
        main(
            [
                "directions",
                "--network",
                net,
                "--method",
                "sefa",
                "--layers",
                "0-3",
                "--top",
                "3",
                "--out",
                str(tmp_path / "d.npz"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "edit",
                "--network",
                net,
                "--seeds",
                "0-1",
                "--direction",
                str(tmp_path / "d.npz"),
                "--strengths=-4,0,4",
                "--out",
                str(tmp_path / "e.png"),
            ]
        )
        == 0
    )
    grid = np.asarray(Image.open(tmp_path / "e.png"))
    assert grid.shape == (32, 48, 3)
    assert not np.array_equal(grid[:16, :16], grid[:16, 16:32])
    assert (
        main(
            [
                "directions",
                "--network",
                net,
                "--method",
                "pca",
                "--samples",
                "500",
                "--layers",
                "0-9",
                "--out",
                str(tmp_path / "p.npz"),
            ]
        )
        == 2
    )


def test_a_file_numpy_would_unpickle_is_refused_without_advice_to_unpickle(tmp_path):
    """numpy reads a file that is not an array as a pickle and suggests allow_pickle=True; the
    message says this program never loads pickles instead."""
    from stylegan2.latents import LatentFileError, load_w

    text = tmp_path / "d.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="never loads") as exc:
        Directions.load(text)
    assert "allow_pickle" not in str(exc.value)
    np.savez(tmp_path / "objects.npz", vectors=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="never loads"):
        Directions.load(tmp_path / "objects.npz")
    text.write_text("hello, this is not an array")
    with pytest.raises(LatentFileError) as exc:
        load_w(text, 2, 4)
    assert "allow_pickle" not in str(exc.value)


def test_label_directions_point_from_one_group_to_the_other(tmp_path):
    from stylegan2.directions import from_labels

    rng = np.random.default_rng(0)
    w = rng.normal(size=(2000, 8))
    has = rng.random(2000) < 0.3
    shift = np.array([3.0, 0, 0, 0, 0, 0, 0, 0])
    w[has] += shift  # the group with the attribute sits 3 sigma along axis 0
    faint = rng.random(2000) < 0.5  # a label unrelated to w
    rare = np.zeros(2000, bool)
    rare[:5] = True  # too few to fit
    d = from_labels(w, {"faint": faint, "shifted": has, "rare": rare}, (1, 4))
    assert d.names == ["shifted", "faint"] and d.method == "labels" and d.layers == (1, 4)
    assert np.allclose(d.vectors[0], shift, atol=0.15)  # strength 1: mean to mean
    assert 2.7 < d.scores[0] < 3.3 and d.scores[1] < 0.5
    d.save(tmp_path / "d.npz")
    back = Directions.load(tmp_path / "d.npz")
    assert back.names == d.names and back.method == "labels"
    with pytest.raises(ValueError, match="no label has 20 or more"):
        from_labels(w, {"rare": rare}, (0, 0))
    with pytest.raises(ValueError, match=r"x: \[3\] labels for 2000"):
        from_labels(w, {"x": np.ones(3, bool)}, (0, 0))
