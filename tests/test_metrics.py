"""FID and precision/recall: formulas against direct computations, the Inception port's loaders
(state dict and a TorchScript archive read as data), caching, and clear errors without weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from stylegan2.metrics import MetricSpec, MetricWeightsError, compute_metric, parse_metric
from stylegan2.metrics.fid import StatsAccumulator, frechet_distance
from stylegan2.metrics.inception import FIDInception, load_inception, resize_bilinear_tf1
from stylegan2.metrics.precision_recall import precision_recall
from tests.conftest import distinct_generator


def test_metric_names():
    assert parse_metric("fid50k_full") == MetricSpec("fid50k_full", "fid", 50_000, None)
    assert parse_metric("fid50k").max_real == 50_000
    assert parse_metric("pr50k3_full") == MetricSpec("pr50k3_full", "pr", 50_000, 200_000)
    assert parse_metric("fid1k").num_gen == 1000 and parse_metric("fid200").num_gen == 200
    for bad in ("fid", "pr50k", "fid50k3", "kid50k"):
        with pytest.raises(ValueError, match="unknown metric"):
            parse_metric(bad)
    for bad in ("pxpr0k3", "fid0", "pxpr99999999999k3", "fid10001k"):
        with pytest.raises(ValueError, match="image count must be 1 to 10,000,000"):
            parse_metric(bad)


def test_metrics_cli_refuses_no_metric_and_too_few_reals_before_any_work(tmp_path, capsys):
    from commands.main import main
    from tests.training.conftest import make_images
    from training.dataset_tool import build_dataset

    make_images(tmp_path / "src", n=3, seed=1)
    build_dataset(tmp_path / "src", tmp_path / "d.zip", 16)
    missing = str(tmp_path / "no-network.safetensors")  # never opened: refused before
    common = ["metrics", "--network", missing, "--data", str(tmp_path / "d.zip")]
    assert main([*common, "--metrics", ","]) == 2
    assert "names no metric" in capsys.readouterr().err
    assert main([*common, "--metrics", "pxpr3k3"]) == 2
    assert "needs more than k=3 training images; the dataset has 3" in capsys.readouterr().err


def test_fid_formula_against_direct_computation():
    rs = np.random.RandomState(0)
    a = rs.randn(400, 6) @ rs.randn(6, 6)
    b = rs.randn(300, 6) @ rs.randn(6, 6) + 0.5
    acc_a, acc_b = StatsAccumulator(6), StatsAccumulator(6)
    for chunk in np.array_split(a, 7):
        acc_a.add(chunk)
    acc_b.add(b)
    sa, sb = acc_a.stats(), acc_b.stats()
    np.testing.assert_allclose(sa.sigma, np.cov(a, rowvar=False, ddof=0), rtol=1e-10, atol=1e-12)
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False, ddof=0), np.cov(b, rowvar=False, ddof=0)
    # tr sqrtm(A B) = sum of the square roots of the eigenvalues of A B (a general eigensolve
    # here; the implementation uses two symmetric ones).
    tr_sqrt = np.sqrt(np.linalg.eigvals(ca @ cb).real.clip(0)).sum()
    ref = ((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * tr_sqrt
    assert frechet_distance(sa, sb) == pytest.approx(ref, rel=1e-9)
    assert abs(frechet_distance(sa, sa)) < 1e-8


def _brute_pr(real, fake, k):
    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(d, axis=1)[:, k]

    def inside(p, m, r):
        d = np.linalg.norm(p[:, None] - m[None], axis=-1)
        return (d <= r[None]).any(1).mean()

    return inside(fake, real, radii(real)), inside(real, fake, radii(fake))


def test_precision_recall_against_brute_force():
    rs = np.random.RandomState(1)
    real = rs.randn(60, 5)
    fake = np.concatenate([rs.randn(30, 5), rs.randn(30, 5) + 6])  # half off the real manifold
    p, r = precision_recall(torch.tensor(real), torch.tensor(fake), k=3, batch=17)
    bp, br = _brute_pr(real, fake, 3)
    assert p == pytest.approx(bp) and r == pytest.approx(br)
    assert 0.4 < p < 0.6 and r > 0.9


def test_tf1_bilinear_resize():
    x = torch.arange(2 * 3 * 5 * 4, dtype=torch.float32).reshape(2, 3, 5, 4)
    out = resize_bilinear_tf1(x, 7)
    ref = np.zeros((2, 3, 7, 7))
    xn = x.numpy()
    for i in range(7):
        for j in range(7):
            y, xx = i * 5 / 7, j * 4 / 7  # TF1: no half-pixel offset
            y0, x0 = int(np.floor(y)), int(np.floor(xx))
            y1, x1 = min(y0 + 1, 4), min(x0 + 1, 3)
            fy, fx = y - y0, xx - x0
            top = xn[..., y0, x0] * (1 - fx) + xn[..., y0, x1] * fx
            bot = xn[..., y1, x0] * (1 - fx) + xn[..., y1, x1] * fx
            ref[..., i, j] = top * (1 - fy) + bot * fy
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-4)


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    return make_inception_file(tmp_path_factory.mktemp("det") / "pt_inception.pth")


def make_inception_file(path):
    """A random-weight Inception saved the way pytorch-fid ships its weights (with fc)."""
    torch.manual_seed(0)
    net = FIDInception()
    with torch.no_grad():
        for name, b in net.named_buffers():
            if "running_var" in name:
                b.uniform_(0.5, 1.5)
            elif "running_mean" in name:
                b.normal_(0, 0.1)
        for name, p in net.named_parameters():
            if name.endswith("bn.bias"):
                p.normal_(0, 0.1)
    sd = {k: v for k, v in net.state_dict().items() if "num_batches" not in k}
    sd["fc.weight"] = torch.randn(1008, 2048)
    sd["fc.bias"] = torch.zeros(1008)
    torch.save(sd, path)
    return path, net.eval()


@pytest.mark.slow
def test_inception_state_dict_loads_and_gives_pool3(inception_file):
    path, ref = inception_file
    net = load_inception(path)
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    feats = net(images)
    assert feats.shape == (2, 2048) and torch.isfinite(feats).all()
    torch.testing.assert_close(feats, ref(images))
    with pytest.raises(ValueError, match="uint8"):
        net(images.float())


class _TFConv(nn.Module):
    """A TF-style layer: conv weight then batch-norm vectors named beta / moving mean / var."""

    def __init__(self, w, beta, mean, var) -> None:
        super().__init__()
        self.weight = nn.Parameter(w.clone())
        self.beta = nn.Parameter(beta.clone())
        self.register_buffer("moving_mean", mean.clone())
        self.register_buffer("moving_variance", var.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@pytest.mark.slow
def test_inception_torchscript_archive_mapped_by_order(inception_file, tmp_path):
    _, ref = inception_file
    sd = ref.state_dict()
    prefixes = [k[: -len(".conv.weight")] for k in sd if k.endswith(".conv.weight")]
    layers = nn.Sequential(
        *[
            _TFConv(
                sd[f"{p}.conv.weight"],
                sd[f"{p}.bn.bias"],
                sd[f"{p}.bn.running_mean"],
                sd[f"{p}.bn.running_var"],
            )
            for p in prefixes
        ]
    )
    path = tmp_path / "inception-2015-12-05.pt"
    torch.jit.save(torch.jit.script(layers), str(path))
    net = load_inception(path)
    images = torch.randint(0, 256, (2, 3, 40, 40), dtype=torch.uint8)
    torch.testing.assert_close(net(images), ref(images))
    # One layer short: refused with a message, not a half-loaded network.
    torch.jit.save(torch.jit.script(nn.Sequential(*list(layers)[:-1])), str(path))
    with pytest.raises(MetricWeightsError, match="conv layers"):
        load_inception(path)


def test_bad_weight_files(tmp_path):
    with pytest.raises(MetricWeightsError, match="no such file"):
        load_inception(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(MetricWeightsError, match="not an Inception"):
        load_inception(junk)
    wrong = tmp_path / "wrong.pth"
    torch.save({"Conv2d_1a_3x3.conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(MetricWeightsError, match=r"missing|shape"):
        load_inception(wrong)


@pytest.mark.slow  # a real Inception-v3 forward: seconds per batch on a CPU
def test_fid_end_to_end_with_cache(inception_file, tmp_path):
    path, _ = inception_file
    G = distinct_generator()
    calls = []

    def reals():
        calls.append(1)
        gen = torch.Generator().manual_seed(5)
        yield torch.randint(0, 256, (3, 3, 16, 16), dtype=torch.uint8, generator=gen)

    spec = MetricSpec("fid5", "fid", num_gen=3, max_real=None)
    a = compute_metric(spec, G, reals, "reals-v1", str(path), cache_dir=tmp_path, batch=3)
    b = compute_metric(spec, G, reals, "reals-v1", str(path), cache_dir=tmp_path, batch=3)
    assert len(calls) == 1  # the second call used the cached real statistics
    assert a == b and np.isfinite(a["fid5"]) and a["fid5"] > 0


def test_metrics_cli_and_trainer_need_weights(tmp_path, capsys):
    from commands.main import main
    from training.cli import main as train_main

    rc = main(["metrics", "--network", "x.safetensors", "--data", str(tmp_path)])
    assert rc == 2 and "--inception" in capsys.readouterr().err
    rc = train_main(["--data", str(tmp_path), "--outdir", str(tmp_path), "--metrics", "pr50k3"])
    assert rc == 2 and "--vgg16" in capsys.readouterr().err


def test_vgg16_file_needs_its_classifier(tmp_path):
    from stylegan2.lpips import VGG_CONV_INDICES
    from stylegan2.metrics.vgg import load_vgg16

    sd = {}
    for i in VGG_CONV_INDICES:  # shapes do not matter before the classifier check
        sd[f"features.{i}.weight"], sd[f"features.{i}.bias"] = torch.zeros(1), torch.zeros(1)
    trunk_only = tmp_path / "trunk.pth"
    torch.save(sd, trunk_only)
    with pytest.raises(MetricWeightsError, match=r"classifier\.0\.weight"):
        load_vgg16(trunk_only)
    sd.update({f"classifier.{i}.{p}": torch.zeros(3) for i in (0, 3) for p in ("weight", "bias")})
    torch.save(sd, tmp_path / "small.pth")
    with pytest.raises(MetricWeightsError, match="fc layer of shape"):
        load_vgg16(tmp_path / "small.pth")
    del sd["features.0.bias"]
    torch.save(sd, tmp_path / "broken.pth")
    with pytest.raises(MetricWeightsError, match=r"features\.0\.bias"):
        load_vgg16(tmp_path / "broken.pth")


def test_pixel_precision_recall_needs_no_weights_and_sees_coverage(tmp_path):
    from stylegan2.metrics.pixels import PixelFeatures, mean_pairwise_difference

    assert parse_metric("pxpr1k3") == MetricSpec("pxpr1k3", "pxpr", 1000, 1000)
    with pytest.raises(ValueError, match="pxpr"):
        parse_metric("pxpr1k")
    feats = PixelFeatures(4)(torch.full((2, 3, 8, 8), 255, dtype=torch.uint8))
    assert feats.shape == (2, 48) and torch.all(feats == 1)
    two = torch.stack([torch.zeros(48), torch.ones(48)])
    assert mean_pairwise_difference(two) == pytest.approx(255)

    G = distinct_generator()

    def fakes_of(n):  # what G draws, as a dataset would hold it
        from stylegan2.metrics.runner import generated_batches

        return list(generated_batches(G, n, 8))

    same = fakes_of(24)
    spec = MetricSpec("pxpr24", "pxpr", num_gen=24, max_real=24)
    out = compute_metric(spec, G, lambda: iter(same), "own", "", cache_dir=tmp_path, batch=8)
    assert out["pxpr24_precision"] == 1.0 and out["pxpr24_recall"] == 1.0  # reals are its fakes
    assert out["pxpr24_reals"] == 24
    assert out["pxpr24_diversity"] == pytest.approx(out["pxpr24_real_diversity"], rel=1e-2)
    grey = [torch.full((8, 3, 16, 16), 128, dtype=torch.uint8) for _ in range(3)]
    out = compute_metric(spec, G, lambda: iter(grey), "grey", "", cache_dir=tmp_path, batch=8)
    assert out["pxpr24_precision"] == 0.0  # no fake is grey, and the grey manifold has radius 0
    assert out["pxpr24_real_diversity"] == 0.0


def test_a_metric_kind_without_its_own_computation_is_refused(monkeypatch):
    from stylegan2.metrics import runner

    # A kind added to the names alone must not be computed as precision/recall.
    monkeypatch.setattr(runner, "KINDS", (*runner.KINDS, "kid"))
    with pytest.raises(ValueError, match="no computation for metric kind 'kid'"):
        runner.detector_path("kid", "inception.pt", "vgg16.pt")
    with pytest.raises(ValueError, match="'kid'"):
        runner.load_detector("kid", "vgg16.pt", torch.device("cpu"))
    spec = MetricSpec("kid10", "kid", 10, 10)
    with pytest.raises(ValueError, match="'kid'"):
        compute_metric(spec, distinct_generator(), lambda: [], "d", "", detector=nn.Identity())
