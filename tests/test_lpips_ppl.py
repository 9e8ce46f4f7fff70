"""LPIPS-VGG16 v0.1 against its formula with a random trunk; trunk readers; PPL protocol."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stylegan2.lpips import (
    LPIPS,
    VGG_CHANNELS,
    VGG_CONV_INDICES,
    LPIPSError,
    PixelDistance,
    bundled_lins,
    load_distance,
    read_vgg16_trunk,
)
from stylegan2.ppl import filtered_mean, slerp


def _random_vgg_state(seed=0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    sd, c_in = {}, 3
    for idx, c in zip(VGG_CONV_INDICES, VGG_CHANNELS, strict=True):
        sd[f"features.{idx}.weight"] = (
            torch.randn(c, c_in, 3, 3, generator=g) * (2 / (9 * c_in)) ** 0.5
        )
        sd[f"features.{idx}.bias"] = torch.randn(c, generator=g) * 0.1
        c_in = c
    return sd


def _reference_lpips(sd, lins, a, b):
    """The published definition, written out independently: torchvision's vgg16.features layout,
    slices [0:4] [4:9] [9:16] [16:23] [23:30], channel unit-normalisation, squared difference,
    1x1 linear layer, spatial mean, sum over layers."""
    layers = []
    c_in = 3
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c_in, v, 3, padding=1), nn.ReLU()]
            c_in = v
    features = nn.Sequential(*layers)
    features.load_state_dict({k.removeprefix("features."): v for k, v in sd.items()})
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
    bounds = [(0, 4), (4, 9), (9, 16), (16, 23), (23, 30)]

    def taps(x):
        x = (x - shift) / scale
        out = []
        for lo, hi in bounds:
            x = features[lo:hi](x)
            out.append(x)
        return out

    total = 0
    for fa, fb, lin in zip(taps(a), taps(b), lins, strict=True):
        na = fa / (torch.sqrt(torch.sum(fa**2, dim=1, keepdim=True)) + 1e-10)
        nb = fb / (torch.sqrt(torch.sum(fb**2, dim=1, keepdim=True)) + 1e-10)
        total = total + F.conv2d((na - nb) ** 2, lin.view(1, -1, 1, 1)).mean(dim=[2, 3])
    return total.flatten()


@pytest.mark.slow
def test_lpips_matches_the_formula_with_a_random_trunk(tmp_path):
    sd = _random_vgg_state()
    torch.save(sd, tmp_path / "vgg16.pth")
    model = load_distance(tmp_path / "vgg16.pth")
    assert model.name.startswith("LPIPS")
    a, b = torch.rand(3, 3, 48, 48) * 2 - 1, torch.rand(3, 3, 48, 48) * 2 - 1
    with torch.no_grad():
        got = model(a, b)
        ref = _reference_lpips(sd, bundled_lins(), a, b)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)
    assert torch.all(model(a, a) == 0) and torch.allclose(model(a, b), model(b, a))


def test_bundled_lins_are_the_published_v01_weights():
    lins = bundled_lins()
    assert [len(x) for x in lins] == [64, 128, 256, 512, 512]
    assert all(bool((x > 0).all()) for x in lins)


def test_nvidia_torchscript_trunk_gives_the_same_convs(tmp_path):
    sd = _random_vgg_state(1)

    class Conv(nn.Module):
        def __init__(self, w, b):
            super().__init__()
            self.weight = nn.Parameter(w)
            self.bias = nn.Parameter(b)

        def forward(self, x):
            return F.relu(F.conv2d(x, self.weight, self.bias, padding=1))

    class Layers(nn.Module):
        def __init__(self):
            super().__init__()
            for i, idx in enumerate(VGG_CONV_INDICES, start=1):
                setattr(
                    self, f"conv{i}", Conv(sd[f"features.{idx}.weight"], sd[f"features.{idx}.bias"])
                )

        def forward(self, x):
            return self.conv1(x)

    class VGG(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = Layers()

        def forward(self, x):
            return self.layers(x)

    torch.jit.script(VGG()).save(str(tmp_path / "vgg16.pt"))
    convs = read_vgg16_trunk(tmp_path / "vgg16.pt")
    for (w, b), idx in zip(convs, VGG_CONV_INDICES, strict=True):
        assert torch.equal(w, sd[f"features.{idx}.weight"]) and torch.equal(
            b, sd[f"features.{idx}.bias"]
        )


def test_bad_trunk_files(tmp_path):
    (tmp_path / "x.pth").write_bytes(b"nonsense")
    with pytest.raises(LPIPSError):
        read_vgg16_trunk(tmp_path / "x.pth")
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "partial.pth")
    with pytest.raises(LPIPSError, match="missing"):
        read_vgg16_trunk(tmp_path / "partial.pth")
    with pytest.raises(LPIPSError, match="no such file"):
        read_vgg16_trunk(tmp_path / "missing.pth")


def test_fallback_is_labelled():
    d = load_distance(None)
    assert isinstance(d, PixelDistance) and "not LPIPS" in d.name
    with pytest.raises(LPIPSError):
        LPIPS([], [])


def test_slerp_and_percentile_filter():
    a, b = torch.randn(4, 8), torch.randn(4, 8)
    t0 = torch.zeros(4, 1)
    torch.testing.assert_close(slerp(a, b, t0), a / a.norm(dim=1, keepdim=True))
    torch.testing.assert_close(
        slerp(a, b, t0 + 1), b / b.norm(dim=1, keepdim=True), atol=1e-5, rtol=0
    )
    for t in (0.0, 0.3, 1.0):  # equal ends: that point, not NaN
        got = slerp(a, a.clone(), t0 + t)
        torch.testing.assert_close(got, a / a.norm(dim=1, keepdim=True), atol=1e-4, rtol=0)
    ones = torch.ones(1, 4)  # a.b rounds to exactly 1: the direction is exactly zero
    torch.testing.assert_close(slerp(ones, ones, t0[:1] + 0.5), ones / 2)
    d = np.arange(1000, dtype=np.float64)
    d[0], d[-1] = -1e9, 1e9
    assert filtered_mean(d) == pytest.approx(np.mean(np.arange(10, 990)))


def test_ppl_command(capsys):
    from stylegan2.cli.main import main
    from tests.conftest import DATA

    rc = main(
        [
            "ppl",
            "--network",
            str(DATA / "sg2ada_tiny_snapshot.pkl"),
            "--samples",
            "16",
            "--batch",
            "8",
            "--space",
            "z",
            "--sampling",
            "full",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert (
        out["metric"] == "ppl_zfull (no crop)"
        and "not LPIPS" in out["distance"]
        and out["value"] >= 0
    )


def test_ppl_default_finishes_quickly_and_full_is_the_papers(capsys):
    from commands.main import main
    from stylegan2.cli.ppl import FULL_SAMPLES, QUICK_SAMPLES
    from tests.conftest import DATA

    assert (QUICK_SAMPLES, FULL_SAMPLES) == (1000, 50_000)
    with pytest.raises(SystemExit):
        main(["ppl", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "default 1000" in help_text and "50,000 samples" in help_text
    net = str(DATA / "sg2ada_tiny_snapshot.pkl")
    assert main(["ppl", "--network", net, "--batch", "100", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == QUICK_SAMPLES
