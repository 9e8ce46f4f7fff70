"""Shared fixtures: tiny networks and the golden reference data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may reach an outside address: published networks and detector weights are never
# fetched (tests of downloads turn this off and serve files from 127.0.0.1).
os.environ["STYLEGAN2_OFFLINE"] = "1"

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _keep_thread_count():
    # Commands set torch's thread count from the machine's load; later tests must not inherit it.
    threads = torch.get_num_threads()
    yield
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


@pytest.fixture
def data_dir() -> Path:
    return DATA


def tiny_config(**synthesis):
    from stylegan2.config import GeneratorConfig, MappingConfig, SynthesisConfig

    return GeneratorConfig(
        z_dim=16,
        w_dim=16,
        img_resolution=16,
        mapping=MappingConfig(num_layers=2),
        synthesis=SynthesisConfig(channel_base=128, channel_max=16, **synthesis),
    )


def micro_config():
    """The smallest useful generator: 8 px, 8 channels (fuzz and fault tests, where only the
    file matters)."""
    from stylegan2.config import GeneratorConfig, MappingConfig, SynthesisConfig

    return GeneratorConfig(
        z_dim=8,
        w_dim=8,
        img_resolution=8,
        mapping=MappingConfig(num_layers=2),
        synthesis=SynthesisConfig(channel_base=64, channel_max=8),
    )


def distinct_generator(seed: int = 3):
    """A tiny random generator whose seeds map to clearly different ws (mapping lr_multiplier 1;
    the fixture networks' ws barely move), so that every control visibly changes pixels."""
    import dataclasses

    from stylegan2.config import MappingConfig
    from stylegan2.networks import Generator

    cfg = dataclasses.replace(tiny_config(), mapping=MappingConfig(num_layers=2, lr_multiplier=1.0))
    torch.manual_seed(0)
    return randomize_(Generator(cfg), seed=seed).eval()


def randomize_(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Random values everywhere (zero-initialised noise strengths would hide bugs)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in list(module.named_parameters()) + list(module.named_buffers()):
            if p.is_floating_point() and not name.endswith("resample_filter"):
                scale = 0.3 if "noise_strength" in name else 0.5
                p.copy_(torch.randn(p.shape, generator=gen) * scale)
    return module


def pytest_collection_modifyitems(config, items):
    """GPU tests run wherever CUDA exists and are skipped (visibly) elsewhere."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


# Serving files over HTTP (tests of downloads): see tests/http_fixture.py.
@pytest.fixture
def downloads_on(monkeypatch):
    """Downloads on for a test that serves its files from 127.0.0.1, and only from there: a
    request for any other host fails the test instead of leaving the machine."""
    from urllib.parse import urlsplit

    from stylegan2 import downloads

    monkeypatch.delenv("STYLEGAN2_OFFLINE", raising=False)
    real_opener = downloads._opener

    class LocalOnly:
        def __init__(self) -> None:
            self.inner = real_opener()

        def open(self, request, *args, **kwargs):
            url = request.full_url if hasattr(request, "full_url") else str(request)
            host = urlsplit(url).hostname
            # .invalid is reserved: it never resolves (the DNS-failure test uses it)
            local = host in ("127.0.0.1", "localhost") or str(host).endswith(".invalid")
            assert local, f"a test tried to reach {url}"
            return self.inner.open(request, *args, **kwargs)

    monkeypatch.setattr(downloads, "_opener", LocalOnly)


@pytest.fixture
def http_server(tmp_path):
    from tests.http_fixture import local_server

    with local_server(tmp_path) as server:
        yield server


@pytest.fixture
def cache(tmp_path, monkeypatch, downloads_on):
    """An empty download cache that every default lookup uses (never the user's own), with
    downloads on, from 127.0.0.1 only."""
    from tests.http_fixture import isolated_cache

    return isolated_cache(tmp_path, monkeypatch)
