"""The catalogue of published networks and detector weights, and the step before every load:
a short name or URL becomes a cached local file, which then goes through the same safe loader as
any local file. All offline: catalogue URLs are pointed at a local 127.0.0.1 server."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import pickle
from pathlib import Path

import pytest
import torch

from stylegan2 import catalogue
from stylegan2.catalogue import (
    DETECTORS,
    NETWORKS,
    find_network,
    resolve_network,
    resolve_weights,
)
from stylegan2.checkpoints import CheckpointError, load_network, save_checkpoint
from stylegan2.cli import models
from stylegan2.cli.common import CLIError
from stylegan2.downloads import DownloadError, cache_path
from stylegan2.networks import z_from_seed
from tests.conftest import DATA, distinct_generator
from tests.http_fixture import cache_files

# These tests serve files from 127.0.0.1, so downloads are on (the suite turns them off).
pytestmark = pytest.mark.usefixtures("downloads_on")

ADA_FIXTURE = DATA / "sg2ada_tiny_snapshot.pkl"


def _point_network_at(monkeypatch, name: str, url: str) -> None:
    entries = tuple(dataclasses.replace(n, url=url) if n.name == name else n for n in NETWORKS)
    monkeypatch.setattr(catalogue, "NETWORKS", entries)


def _point_weights_at(monkeypatch, kind: str, url: str) -> None:
    table = dict(DETECTORS, **{kind: dataclasses.replace(DETECTORS[kind], url=url)})
    monkeypatch.setattr(catalogue, "DETECTORS", table)


# ---- the catalogue itself


def test_catalogue_holds_the_published_networks():
    names = [n.name for n in NETWORKS]
    assert len(names) == len(set(names))
    ada = {n.name for n in NETWORKS if n.group == "stylegan2-ada-pytorch"}
    assert ada == {"ffhq", "metfaces", "afhqcat", "afhqdog", "afhqwild", "brecahad", "cifar10"}
    tf = {n.name for n in NETWORKS if n.group == "stylegan2-tf"}
    assert tf == {f"stylegan2-{d}-config-f" for d in ("ffhq", "car", "cat", "church", "horse")}
    sg3 = [n for n in NETWORKS if n.group == "stylegan3"]
    assert {"stylegan2-ffhq-1024x1024", "stylegan2-cifar10-32x32"} <= {n.name for n in sg3}
    for n in NETWORKS:
        assert n.url.startswith("https://") and n.url.endswith(f"/{n.name}.pkl")
        assert "non-commercial" in n.licence
        assert n.resolution in (32, 256, 512, 1024) and n.size_mb > 0
        assert n.conditional == ("cifar10" in n.name)
    assert find_network("ffhq").url == (
        "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/ffhq.pkl"
    )
    assert find_network("FFHQ") is find_network("ffhq")
    assert find_network("stylegan2-cat-config-f").url == (
        "https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/stylegan2-cat-config-f.pkl"
    )
    assert find_network("stylegan2-ffhq-512x512").url == (
        "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan2/versions/1/files/"
        "stylegan2-ffhq-512x512.pkl"
    )


def test_detector_weights_are_nvidias_metrics_files():
    base = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics"
    assert DETECTORS["vgg16"].url == f"{base}/vgg16.pt"
    assert DETECTORS["inception"].url == f"{base}/inception-2015-12-05.pt"
    assert all("non-commercial" in d.licence for d in DETECTORS.values())


# ---- resolve_network


def test_a_local_path_stays_as_it_is(cache, tmp_path, monkeypatch):
    assert resolve_network(str(ADA_FIXTURE)) == str(ADA_FIXTURE)
    assert resolve_network(ADA_FIXTURE) == str(ADA_FIXTURE)
    (tmp_path / "ffhq").write_bytes(b"mine")  # a local file wins over the catalogue name
    monkeypatch.chdir(tmp_path)
    assert resolve_network("ffhq") == "ffhq"
    (tmp_path / "metfaces").mkdir()  # a folder does not hide the published network
    assert catalogue.network_url("metfaces") == find_network("metfaces").url
    missing = str(tmp_path / "nothing.pkl")
    assert resolve_network(missing) == missing  # left for the loader's own "no such file"
    assert cache_files(cache) == []


def test_a_near_miss_of_a_name_suggests_it(cache):
    with pytest.raises(DownloadError) as info:
        resolve_network("ffhg")
    assert "did you mean ffhq" in str(info.value) and "stylegan2 models" in str(info.value)


def test_a_catalogue_name_resolves_to_its_url(http_server, cache, monkeypatch):
    url = http_server.add("ffhq.pkl", ADA_FIXTURE.read_bytes())
    _point_network_at(monkeypatch, "ffhq", url)
    assert catalogue.pending_download("ffhq") == url
    path = resolve_network("ffhq")
    assert catalogue.pending_download("ffhq") is None
    assert catalogue.pending_download(url) is None and catalogue.pending_download(path) is None
    assert path == str(cache_path(url)) and Path(path).read_bytes() == ADA_FIXTURE.read_bytes()
    assert resolve_network("ffhq", offline=True) == path
    assert http_server.total_requests == 1


def test_an_uncached_name_offline_says_where_to_put_the_file(http_server, cache, monkeypatch):
    url = http_server.add("ffhq.pkl", b"x")
    _point_network_at(monkeypatch, "ffhq", url)
    with pytest.raises(DownloadError) as info:
        resolve_network("ffhq", offline=True)
    assert str(cache_path(url)) in str(info.value) and url in str(info.value)
    assert http_server.total_requests == 0


def _pixels(G, seed: int = 0) -> torch.Tensor:
    with torch.no_grad():
        return G(z_from_seed(seed, G.z_dim), truncation_psi=0.7, noise_mode="const")


def test_a_served_network_loads_like_the_local_file(http_server, cache, tmp_path):
    G = distinct_generator()
    local = save_checkpoint(tmp_path / "net.safetensors", G)
    url = http_server.add("net.safetensors", local.read_bytes())
    served = load_network(resolve_network(url))
    assert torch.equal(_pixels(served), _pixels(load_network(local)))

    ada_url = http_server.add("net.pkl", ADA_FIXTURE.read_bytes())
    ada = load_network(resolve_network(ada_url))
    assert torch.equal(_pixels(ada), _pixels(load_network(ADA_FIXTURE)))
    load_network(resolve_network(ada_url))
    assert http_server.total_requests == 2


class _Evil:
    """Pickles as a call to os.system (recorded as posix.system)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def test_a_hostile_pickle_by_url_is_refused_like_a_local_one(http_server, cache, tmp_path):
    marker = tmp_path / "pwned"
    # the module name makes the sniffer take it for an ada snapshot: the restricted unpickler runs
    payload = pickle.dumps({"kind": "torch_utils.persistence", "G_ema": _Evil(marker)}, protocol=2)
    url = http_server.add("ffhq.pkl", payload)
    path = resolve_network(url)
    with pytest.raises(CheckpointError) as served:
        load_network(path)
    local = tmp_path / "local.pkl"
    local.write_bytes(payload)
    with pytest.raises(CheckpointError) as mine:
        load_network(local)
    assert "system" in str(served.value) and "\n" not in str(served.value)
    hint = f"; it is the cached download of {url}: if that was damaged, delete it to fetch it again"
    assert str(served.value).replace(path, "F") == str(mine.value).replace(str(local), "F") + hint
    assert not marker.exists(), "the payload ran"


# ---- resolve_weights


def test_weights_given_as_a_path_or_url(http_server, cache, tmp_path):
    assert resolve_weights("vgg16", "/some/vgg16.pt", offline=True) == "/some/vgg16.pt"
    url = http_server.add("mine.pt", b"weights")
    got = resolve_weights("vgg16", url, offline=False)
    assert Path(got).read_bytes() == b"weights"
    assert resolve_weights("vgg16", url, offline=True) == got
    other = http_server.add("other.pt", b"w")
    with pytest.raises(DownloadError):  # asked for by URL: offline is an error, not a fallback
        resolve_weights("vgg16", other, offline=True)
    with pytest.raises(KeyError):
        resolve_weights("resnet", None, offline=True)


def test_published_weights_on_first_use(http_server, cache, monkeypatch):
    url = http_server.add("vgg16.pt", b"vgg16 weights")
    _point_weights_at(monkeypatch, "vgg16", url)
    assert resolve_weights("vgg16", None, offline=True) is None  # the caller's labelled fallback
    assert catalogue.cached_weights("vgg16") is None
    assert http_server.total_requests == 0
    got = resolve_weights("vgg16", None, offline=False)
    assert Path(got).read_bytes() == b"vgg16 weights"
    assert resolve_weights("vgg16", None, offline=True) == got
    assert resolve_weights("vgg16", None, offline=False) == got
    assert catalogue.cached_weights("vgg16") == Path(got)
    assert http_server.total_requests == 1


# ---- the command line


def _models(capsys, *argv: str) -> str:
    parser = argparse.ArgumentParser()
    models.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["models", *argv])
    assert args.func(args) == 0
    return capsys.readouterr().out


def test_models_lists_the_catalogue_with_real_urls(http_server, cache, monkeypatch, capsys):
    out = _models(capsys)
    for n in NETWORKS:
        assert n.url in out and n.name in out
    assert "non-commercial" in out and str(cache) in out
    url = http_server.add("metfaces.pkl", b"net")
    _point_network_at(monkeypatch, "metfaces", url)
    resolve_network("metfaces")
    rows = {
        line.split()[0]: line.split() for line in _models(capsys).splitlines() if line[:2] == "  "
    }
    assert rows["metfaces"][5] == "yes" and rows["ffhq"][5] == "no"  # "~364 MB" is two words
    assert rows["cifar10"][2] == "classes"


def test_models_runs_under_the_stylegan2_command(cache, capsys):
    from commands.main import main

    assert main(["models", "--cache-dir", str(cache)]) == 0
    assert find_network("metfaces").url in capsys.readouterr().out


def test_models_weights_shows_the_recorded_sha256(
    http_server, cache, monkeypatch, capsys, tmp_path
):
    url = http_server.add("vgg16.pt", b"vgg16 weights")
    _point_weights_at(monkeypatch, "vgg16", url)
    out = _models(capsys, "--weights")
    assert "cached:  no" in out and DETECTORS["inception"].url in out
    resolve_weights("vgg16", None, offline=False)
    out = _models(capsys, "--weights")
    digest = hashlib.sha256(b"vgg16 weights").hexdigest()
    assert f"sha256:  {digest} (recorded at download)" in out
    # a file put in the cache by hand: its hash is computed, and said to be
    other = cache.parent / "other-cache"
    hand = cache_path(DETECTORS["inception"].url, other)
    other.mkdir()
    hand.write_bytes(b"inception")
    out = _models(capsys, "--weights", "--cache-dir", str(other))
    assert hashlib.sha256(b"inception").hexdigest() in out and "computed now" in out


def test_cli_helpers_turn_failures_into_one_line(http_server, cache, capsys):
    url = http_server.url("missing")
    with pytest.raises(CLIError) as info:
        models.cli_network(url)
    assert "HTTP 404" in str(info.value) and str(cache_path(url)) in str(info.value)
    served = http_server.add("net.pkl", ADA_FIXTURE.read_bytes())
    assert Path(models.cli_network(served)).is_file()
    assert models.cli_weights("inception", None, offline=True) is None
    with pytest.raises(CLIError):
        models.cli_weights("vgg16", url)


def test_generate_by_url_twice_makes_one_request(http_server, cache, tmp_path):
    from commands.main import main

    url = http_server.add("net.pkl", ADA_FIXTURE.read_bytes())
    for out in ("a", "b"):
        argv = ["generate", "--network", url, "--seeds", "0-1", "--outdir", str(tmp_path / out)]
        assert main(argv) == 0
        assert (tmp_path / out / "seed0001.png").is_file()
    assert http_server.total_requests == 1


def test_a_published_name_works_wherever_a_network_is_expected(
    http_server, cache, monkeypatch, tmp_path
):
    from commands.main import main
    from stylegan2 import catalogue

    url = http_server.add("ffhq.pkl", ADA_FIXTURE.read_bytes())
    entry = catalogue.find_network("ffhq")
    monkeypatch.setattr(catalogue, "NETWORKS", (dataclasses.replace(entry, url=url),))
    out = tmp_path / "out"
    assert main(["generate", "--network", "ffhq", "--seeds", "0", "--outdir", str(out)]) == 0
    assert (out / "seed0000.png").is_file() and http_server.total_requests == 1


def test_offline_flag_and_environment_never_fetch(
    http_server, cache, tmp_path, capsys, monkeypatch
):
    from commands.main import main

    url = http_server.add("net.pkl", ADA_FIXTURE.read_bytes())
    argv = ["generate", "--network", url, "--seeds", "0", "--outdir", str(tmp_path), "--offline"]
    assert main(argv) == 2
    assert "download it by hand to" in capsys.readouterr().err
    monkeypatch.setenv("STYLEGAN2_OFFLINE", "1")
    assert main(argv[:-1]) == 2
    assert http_server.total_requests == 0


def test_positional_networks_take_urls_and_names_too(http_server, cache, capsys, tmp_path):
    from commands.main import main

    url = http_server.add("net.pkl", ADA_FIXTURE.read_bytes())
    assert main(["info", url]) == 0
    assert "16" in capsys.readouterr().out  # the fixture's resolution
    out = tmp_path / "net.safetensors"
    assert main(["convert", url, str(out)]) == 0 and out.is_file()
    assert http_server.total_requests == 1  # the second use came from the cache
    assert main(["info", str(ADA_FIXTURE)]) == 0  # a local path stays as it is
