"""Named metrics as NVIDIA's trainer reports them (`fid50k_full`, `pr50k3`, …), plus `pxpr<N>k3`
(precision/recall in 32x32 pixel space, no weights needed; see stylegan2.metrics.pixels),
computed for a generator against real images: features of the reals (cached per dataset and
detector), features of generated images (no truncation, random noise, random labels), then FID or
precision/recall. The real images come as an iterable of uint8 [N, C, H, W] batches so that the
library does not depend on the trainer's dataset class."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch

from stylegan2.metrics.fid import FeatureStats, StatsAccumulator, frechet_distance
from stylegan2.metrics.inception import MetricWeightsError
from stylegan2.metrics.precision_recall import precision_recall
from stylegan2.networks import Generator
from stylegan2.render import to_uint8
from stylegan2.safe_writes import atomic_path

log = logging.getLogger(__name__)
# Every kind has its own branch in load_detector and compute_metric, and its weights (if any)
# in DETECTOR_NEEDS; a kind without a branch is refused there rather than computed as another.
KINDS = ("fid", "pr", "pxpr")
#: generated images one metric may ask for (fid50k is the paper's): 10^7, like other counts
MAX_METRIC_IMAGES = 10_000_000
_NAME = re.compile(rf"^({'|'.join(KINDS)})(\d+)(k?)(3)?(_full)?$")


@dataclass(frozen=True)
class DetectorNeed:
    """The weights file a metric kind's features come from."""

    weights: str  # its name in stylegan2.catalogue.DETECTORS, and the option's dest
    flag: str  # the option that names the file
    files: str  # which files it takes, for the message when none is given


#: metric kind -> the detector weights it needs (None: none, pixel space)
DETECTOR_NEEDS: dict[str, DetectorNeed | None] = {
    "pxpr": None,
    "fid": DetectorNeed(
        "inception",
        "--inception",
        "inception-2015-12-05.pt (NVIDIA) or pt_inception-2015-12-05-*.pth",
    ),
    "pr": DetectorNeed("vgg16", "--vgg16", "vgg16.pt (NVIDIA) or torchvision's vgg16-397923af.pth"),
}


def _unknown(kind: str) -> ValueError:
    return ValueError(f"no computation for metric kind {kind!r} (known: {', '.join(KINDS)})")


@dataclass(frozen=True)
class MetricSpec:
    name: str
    kind: str  # 'fid', 'pr' or 'pxpr'
    num_gen: int
    max_real: int | None  # None: every real image (the `_full` variants)
    k: int = 3


def parse_metric(name: str) -> MetricSpec:
    """'fid50k_full' -> 50k generated vs all reals; 'pr50k3' -> 50k vs 50k, k = 3; smaller counts
    ('fid1k', or 'fid200' images) work the same way for quick looks; 'pxpr1k3' is 'pr1k3' in
    pixel space."""
    m = _NAME.match(name.strip())
    knn = m is not None and m.group(1) in ("pr", "pxpr")
    if not m or knn != (m.group(4) == "3") or (knn and not m.group(3)):
        raise ValueError(
            f"unknown metric {name!r}: use fid<N>k[_full], pr<N>k3[_full] or pxpr<N>k3[_full], "
            "e.g. fid50k_full"
        )
    kind, n = m.group(1), int(m.group(2)) * (1000 if m.group(3) else 1)
    if not 1 <= n <= MAX_METRIC_IMAGES:
        raise ValueError(f"{name}: the image count must be 1 to {MAX_METRIC_IMAGES:,}, got {n:,}")
    full = m.group(5) is not None
    max_real = (None if full else n) if kind == "fid" else (200_000 if full else n)
    return MetricSpec(name, kind, n, max_real)


def detector_path(kind: str, inception: str | None, vgg16: str | None) -> str:
    """The detector weights file of a metric kind ('' for pixel space, which needs none)."""
    if kind not in KINDS or kind not in DETECTOR_NEEDS:
        raise _unknown(kind)
    need = DETECTOR_NEEDS[kind]
    if need is None:
        return ""
    path = {"inception": inception, "vgg16": vgg16}[need.weights]
    if not path:
        raise MetricWeightsError(
            f"{kind} needs detector weights: pass {need.flag} with a copy of {need.files} "
            "(pxpr<N>k3 measures precision/recall in pixel space without any)"
        )
    return path


def load_detector(kind: str, path: str, device: torch.device) -> torch.nn.Module:
    from stylegan2.metrics.inception import load_inception
    from stylegan2.metrics.pixels import PixelFeatures
    from stylegan2.metrics.vgg import load_vgg16

    if kind == "pxpr":
        return PixelFeatures().to(device)
    if kind == "fid":
        return load_inception(path, device)
    if kind == "pr":
        return load_vgg16(path, device)
    raise _unknown(kind)


def _rgb(images: torch.Tensor) -> torch.Tensor:
    if images.shape[1] == 1:
        return images.expand(-1, 3, -1, -1)
    if images.shape[1] != 3:
        raise ValueError(f"metrics need RGB or grayscale images, got {images.shape[1]} channels")
    return images


@torch.no_grad()
def features_of(
    detector: torch.nn.Module,
    batches: Iterable[torch.Tensor],
    limit: int | None,
    device: torch.device,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    out, n = [], 0
    for images in batches:
        if limit is not None and n >= limit:
            break
        if limit is not None:
            images = images[: limit - n]
        out.append(detector(_rgb(images).to(device)).float().cpu())
        n += len(images)
        if progress:
            progress(len(images))
    if not out:
        raise ValueError("no real images to compare with")
    if limit is not None and n < limit:
        log.warning("only %d real images (the metric asks for %d): all of them are used", n, limit)
    return torch.cat(out)


def generated_batches(G: Generator, num: int, batch: int, seed: int = 0) -> Iterable[torch.Tensor]:
    """uint8 images of G: no truncation, random noise, uniformly random classes."""
    gen = torch.Generator().manual_seed(seed)
    done = 0
    while done < num:
        n = min(batch, num - done)
        z = torch.randn([n, G.z_dim], generator=gen).to(G.device)
        c = None
        if G.c_dim:
            idx = torch.randint(G.c_dim, [n], generator=gen)
            c = torch.nn.functional.one_hot(idx, G.c_dim).float().to(G.device)
        with torch.no_grad():
            img = G(z, c, noise_mode="random", noise_generator=gen, update_w_avg=False)
        yield torch.from_numpy(to_uint8(img)).permute(0, 3, 1, 2)
        done += n


def cache_key(dataset_id: str, detector_file: str, spec: MetricSpec) -> str:
    if detector_file:
        p = Path(detector_file)
        st = p.stat()
        detector = f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    else:
        detector = "no weights"
    raw = f"{dataset_id}|{detector}|{spec.kind}|{spec.max_real}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def compute_metric(
    spec: MetricSpec,
    G: Generator,
    real_batches: Callable[[], Iterable[torch.Tensor]],
    dataset_id: str,
    detector_file: str,
    cache_dir: str | Path | None = None,
    batch: int = 32,
    progress: Callable[[str, int, int], None] | None = None,
    detector: torch.nn.Module | None = None,
) -> dict[str, float]:
    """{'fid50k_full': value} or {'pr50k3_precision': p, 'pr50k3_recall': r}."""
    device = G.device
    detector = detector or load_detector(spec.kind, detector_file, device)
    cache = None
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        cache = Path(cache_dir) / f"{spec.kind}-{cache_key(dataset_id, detector_file, spec)}"

    def tick(stage: str, total: int) -> Callable[[int], None]:
        done = [0]

        def f(n: int) -> None:
            done[0] += n
            if progress:
                progress(stage, done[0], total)

        return f

    real_total = spec.max_real or 0
    if spec.kind == "fid":
        real_file = cache.with_suffix(".npz") if cache else None
        real_stats = _load_cached(real_file, FeatureStats.load)
        if real_stats is None:
            acc = StatsAccumulator(2048)
            acc.add(
                features_of(
                    detector, real_batches(), spec.max_real, device, tick("reals", real_total)
                ).numpy()
            )
            real_stats = acc.stats()
            if real_file is not None:
                _save_atomic(real_file, real_stats.save)
        acc = StatsAccumulator(2048)
        gen_tick = tick("generated", spec.num_gen)
        for images in generated_batches(G, spec.num_gen, batch):
            with torch.no_grad():
                acc.add(detector(_rgb(images).to(device)).float().cpu().numpy())
            gen_tick(len(images))
        return {spec.name: frechet_distance(acc.stats(), real_stats)}
    if spec.kind not in ("pr", "pxpr"):  # k-NN precision and recall from here on
        raise _unknown(spec.kind)
    real_file = cache.with_suffix(".pt") if cache else None
    real = _load_cached(real_file, lambda p: torch.load(p, weights_only=True))
    if real is None:
        real = features_of(
            detector, real_batches(), spec.max_real, device, tick("reals", real_total)
        )
        real = real.half()  # NVIDIA keeps these features in fp16
        if real_file is not None:
            _save_atomic(real_file, lambda p, t=real: torch.save(t, p))
    fake = features_of(
        detector,
        generated_batches(G, spec.num_gen, batch),
        None,
        device,
        tick("generated", spec.num_gen),
    ).half()
    p, r = precision_recall(real.float(), fake.float(), spec.k)
    out = {f"{spec.name}_precision": p, f"{spec.name}_recall": r}
    if spec.kind == "pxpr":
        from stylegan2.metrics.pixels import mean_pairwise_difference

        out[f"{spec.name}_diversity"] = mean_pairwise_difference(fake)
        out[f"{spec.name}_real_diversity"] = mean_pairwise_difference(real)
        out[f"{spec.name}_reals"] = len(real)  # fewer than asked when the dataset is smaller
    return out


def _load_cached(path: Path | None, load: Callable):
    """A cached file's contents, or None (absent, or damaged: then it is removed)."""
    if path is None or not path.is_file():
        return None
    try:
        return load(path)
    except Exception as exc:  # a truncated cache must not fail every later run
        log.warning("%s: unreadable cache (%s), recomputing", path, type(exc).__name__)
        path.unlink(missing_ok=True)
        return None


def _save_atomic(path: Path, save: Callable) -> None:
    """Under a temporary name of this writer's own (two runs may fill one cache entry at once;
    a shared name made the slower one fail); the suffix stays last for np.savez."""
    with atomic_path(path, suffix=path.suffix) as tmp:
        save(tmp)
