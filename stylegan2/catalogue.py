"""Published StyleGAN2 networks and the detector weights NVIDIA's metrics use, by short name, and
the one step every command takes before loading: a local path, an http(s) URL or a short name
becomes a local file (`resolve_network`, `resolve_weights`).

A network's short name is its published file name without `.pkl`: `ffhq`, `metfaces`, …
(stylegan2-ada-pytorch), `stylegan2-ffhq-config-f`, … (the TensorFlow StyleGAN2 release) and
`stylegan2-ffhq-1024x1024`, … (the StyleGAN2 networks published with StyleGAN3). The URLs are
the ones those projects' READMEs and metrics code give. Sizes are approximate (estimated from
the architecture: G, D and G_ema in 32-bit floats). NVIDIA's networks and weights are under
NVIDIA's non-commercial licences; each entry says which.
"""

from __future__ import annotations

import difflib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from stylegan2.downloads import (
    DEFAULT_TIMEOUT,
    Cancel,
    DownloadCancelled,
    DownloadError,
    Progress,
    cached,
    download,
    is_url,
    offline_mode,
)

log = logging.getLogger(__name__)

_ADA = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained"
_TF = "https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks"
_NGC = "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan2/versions/1/files"

_ADA_LICENCE = "NVIDIA Source Code License (stylegan2-ada-pytorch): non-commercial use only"
_TF_LICENCE = "NVIDIA Source Code License-NC (StyleGAN2): non-commercial use only"
_SG3_LICENCE = "NVIDIA Source Code License (StyleGAN3): non-commercial use only"

_ADA_SOURCE = (
    "NVlabs/stylegan2-ada-pytorch; Karras et al., Training Generative Adversarial Networks "
    "with Limited Data, NeurIPS 2020, arXiv:2006.06676"
)
_TF_SOURCE = (
    "NVlabs/stylegan2 (TensorFlow), config F; Karras et al., Analyzing and Improving the Image "
    "Quality of StyleGAN, CVPR 2020, arXiv:1912.04958"
)
_SG3_SOURCE = (
    "NVlabs/stylegan3 (StyleGAN2 networks published with it); Karras et al., Alias-Free "
    "Generative Adversarial Networks, NeurIPS 2021, arXiv:2106.12423"
)


@dataclass(frozen=True)
class PublishedNetwork:
    """One published generator checkpoint."""

    name: str  # the short name accepted wherever a network is expected
    url: str
    resolution: int  # the generator's output side in pixels
    conditional: bool  # takes a class label
    size_mb: int  # approximate download size in MiB
    licence: str
    source: str  # repository and paper
    description: str  # dataset and training, in a few words
    group: str  # "stylegan2-ada-pytorch", "stylegan2-tf" or "stylegan3"


@dataclass(frozen=True)
class DetectorWeights:
    """Weights of a feature detector the metrics use, published by NVIDIA as TorchScript."""

    kind: str  # "vgg16" or "inception"
    url: str
    size_mb: int  # approximate
    licence: str
    source: str
    used_for: str


def _ada(name: str, res: int, size: int, what: str, conditional: bool = False) -> PublishedNetwork:
    return PublishedNetwork(
        name,
        f"{_ADA}/{name}.pkl",
        res,
        conditional,
        size,
        _ADA_LICENCE,
        _ADA_SOURCE,
        what,
        "stylegan2-ada-pytorch",
    )


def _tf(dataset: str, res: int, size: int, what: str) -> PublishedNetwork:
    name = f"stylegan2-{dataset}-config-f"
    return PublishedNetwork(
        name, f"{_TF}/{name}.pkl", res, False, size, _TF_LICENCE, _TF_SOURCE, what, "stylegan2-tf"
    )


def _sg3(dataset: str, res: int, size: int, what: str, cond: bool = False) -> PublishedNetwork:
    name = f"stylegan2-{dataset}-{res}x{res}"
    return PublishedNetwork(
        name, f"{_NGC}/{name}.pkl", res, cond, size, _SG3_LICENCE, _SG3_SOURCE, what, "stylegan3"
    )


NETWORKS: tuple[PublishedNetwork, ...] = (
    _ada("ffhq", 1024, 364, "FFHQ faces, trained with the original StyleGAN2 config"),
    _ada("metfaces", 1024, 364, "MetFaces art portraits, transfer learning from FFHQ with ADA"),
    _ada("afhqcat", 512, 347, "AFHQ cats, trained from scratch with ADA"),
    _ada("afhqdog", 512, 347, "AFHQ dogs, trained from scratch with ADA"),
    _ada("afhqwild", 512, 347, "AFHQ wild animals, trained from scratch with ADA"),
    _ada("brecahad", 512, 347, "BreCaHAD histopathology crops, trained from scratch with ADA"),
    _ada("cifar10", 32, 245, "CIFAR-10, 10 classes", conditional=True),
    _tf("ffhq", 1024, 364, "FFHQ faces"),
    _tf("car", 512, 347, "LSUN Car (512x384 images in a 512x512 frame)"),
    _tf("cat", 256, 341, "LSUN Cat"),
    _tf("church", 256, 341, "LSUN Church (outdoor)"),
    _tf("horse", 256, 341, "LSUN Horse"),
    _sg3("ffhq", 1024, 364, "FFHQ faces"),
    _sg3("ffhq", 512, 347, "FFHQ faces"),
    _sg3("ffhq", 256, 282, "FFHQ faces"),
    _sg3("ffhqu", 1024, 364, "FFHQ-U (unaligned faces)"),
    _sg3("ffhqu", 256, 282, "FFHQ-U (unaligned faces)"),
    _sg3("metfaces", 1024, 364, "MetFaces art portraits"),
    _sg3("metfacesu", 1024, 364, "MetFaces-U (unaligned portraits)"),
    _sg3("afhqv2", 512, 347, "AFHQv2, cats, dogs and wild animals together"),
    _sg3("afhqcat", 512, 347, "AFHQ cats"),
    _sg3("afhqdog", 512, 347, "AFHQ dogs"),
    _sg3("afhqwild", 512, 347, "AFHQ wild animals"),
    _sg3("brecahad", 512, 347, "BreCaHAD histopathology crops"),
    _sg3("cifar10", 32, 245, "CIFAR-10, 10 classes", cond=True),
    _sg3("celebahq", 256, 282, "CelebA-HQ faces"),
    _sg3("lsundog", 256, 282, "LSUN Dog"),
)

_METRICS = f"{_ADA}/metrics"
_METRICS_SOURCE = "NVlabs/stylegan2-ada-pytorch metrics (TorchScript ports)"

DETECTORS: dict[str, DetectorWeights] = {
    "vgg16": DetectorWeights(
        "vgg16",
        f"{_METRICS}/vgg16.pt",
        528,
        _ADA_LICENCE,
        f"{_METRICS_SOURCE}; VGG16 (Simonyan & Zisserman) with LPIPS heads (Zhang et al. 2018)",
        "LPIPS (ppl, project, detect, the Path tab's live PPL) and precision/recall",
    ),
    "inception": DetectorWeights(
        "inception",
        f"{_METRICS}/inception-2015-12-05.pt",
        91,
        _ADA_LICENCE,
        f"{_METRICS_SOURCE}; TensorFlow's Inception v3 graph of 2015-12-05",
        "FID (stylegan2 metrics, bundle)",
    ),
}


def find_network(name: str) -> PublishedNetwork | None:
    """The catalogue entry called `name` (case-insensitive), or None."""
    key = name.strip().lower()
    return next((n for n in NETWORKS if n.name == key), None)


def similar_names(name: str, n: int = 3) -> list[str]:
    return difflib.get_close_matches(name.strip().lower(), [e.name for e in NETWORKS], n, 0.75)


def network_url(arg: str | os.PathLike[str]) -> str | None:
    """The URL a network argument stands for (itself, or a short name's), or None for a local
    file or anything else. A local file wins over a short name of the same spelling; a folder
    does not (a dataset folder called `ffhq` beside you does not hide the network)."""
    text = os.fspath(arg)
    if is_url(text):
        return text
    if Path(text).expanduser().is_file():
        return None
    entry = find_network(text)
    return entry.url if entry is not None else None


def pending_download(
    arg: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> str | None:
    """The URL `resolve_network(arg)` would fetch now, or None when it needs no network (a local
    path, or a URL or name already cached): for a caller that asks or shows progress first."""
    url = network_url(arg)
    return url if url is not None and cached(url, cache_dir) is None else None


def resolve_network(
    arg: str | os.PathLike[str],
    *,
    offline: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """A local file to hand to `load_network` for what the user gave as a network: a local
    file stays as it is; an http(s) URL or a catalogue short name becomes the cached download
    (fetched now unless cached). Anything else is returned unchanged for the loader to refuse,
    except a near-miss of a short name, which is refused here with the suggestion.

    Raises DownloadError (DownloadCancelled on cancel); with `offline`, a URL or name that is
    not cached is a DownloadError that says where to put the file.
    """
    text = os.fspath(arg)
    url = network_url(text)
    if url is not None:
        fetched = download(url, cache_dir=cache_dir, offline=offline, progress=progress,
                           cancel=cancel, timeout=timeout)  # fmt: skip
        return str(fetched)
    if not any(sep in text for sep in ("/", os.sep, ".")) and not Path(text).exists():
        close = similar_names(text)
        if close:
            raise DownloadError(
                f"{text}: no such file, and no published network of that name "
                f"(did you mean {' or '.join(close)}? `stylegan2 models` lists them)"
            )
    return text


def resolve_weights(
    kind: str,
    given: str | os.PathLike[str] | None,
    *,
    offline: bool,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> str | None:
    """The detector weights file to use for `kind` ("vgg16" or "inception"): the path given;
    a URL given, downloaded (a DownloadError when offline and not cached); with nothing given,
    the cached copy of NVIDIA's published file, else (unless `offline`) a download of it, else
    None, so the caller can keep its labelled fallback.

    Raises KeyError for an unknown kind, DownloadError (DownloadCancelled) for a failed fetch.
    """
    entry = DETECTORS[kind]
    text = os.fspath(given) if given is not None else None
    if text is not None and not is_url(text):
        return text
    url = text if text is not None else entry.url
    if text is None and cached(url, cache_dir) is None and offline_mode(offline):
        return None
    try:
        fetched = download(url, cache_dir=cache_dir, offline=offline, progress=progress,
                           cancel=cancel, timeout=timeout)  # fmt: skip
    except DownloadCancelled:
        raise
    except DownloadError as exc:
        if text is not None:
            raise  # the user named this file: failing to get it is an error
        # Fetched unasked: without it the caller keeps its labelled fallback.
        log.warning("%s; using the fallback instead", exc)
        return None
    return str(fetched)


def cached_weights(kind: str, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The cached copy of NVIDIA's published weights for `kind`, or None (never fetches): for a
    caller that asks before downloading."""
    return cached(DETECTORS[kind].url, cache_dir)
