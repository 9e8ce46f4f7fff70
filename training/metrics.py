"""Metrics of a generator against a training dataset: the glue between `stylegan2.metrics` and
`ImageDataset`, used by `stylegan2 metrics` and by the trainer at snapshots (`--metrics`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from stylegan2.input_files import file_problem
from stylegan2.metrics import MetricSpec, compute_metric, detector_path, parse_metric
from training.dataset import ImageDataset


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "stylegan2-explorer" / "metrics"


def check_metrics(
    names: Iterable[str],
    inception: str | None,
    vgg16: str | None,
    load: bool = False,
    num_reals: int | None = None,
) -> list[MetricSpec]:
    """Parse metric names and make sure their detector files were given and exist, so that a run
    fails at its start rather than at its first snapshot, hours later. `load` also loads each
    detector once (a foreign or damaged file is refused now); `num_reals`, the dataset's size,
    is checked against what a k-NN metric needs."""
    from stylegan2.metrics.runner import load_detector

    specs = [parse_metric(n) for n in names if n.strip()]
    loaded: set[str] = set()
    for spec in specs:
        path = detector_path(spec.kind, inception, vgg16)
        problem = file_problem(path) if path else None
        if problem:
            raise FileNotFoundError(f"{path}: {problem} (detector for {spec.name})")
        if load and path and path not in loaded:
            try:
                load_detector(spec.kind, path, torch.device("cpu"))
            except (ValueError, OSError, RuntimeError) as exc:  # (MetricWeightsError is one)
                raise ValueError(f"{spec.name}: {path} cannot be used ({exc})") from None
            loaded.add(path)
    if num_reals is not None:
        check_reals(specs, num_reals)
    return specs


def check_reals(specs: Iterable[MetricSpec], num_reals: int) -> None:
    """Refuse a k-NN metric on a dataset too small for its k nearest neighbours."""
    for spec in specs:
        if spec.kind in ("pr", "pxpr") and num_reals <= spec.k:
            raise ValueError(
                f"{spec.name} needs more than k={spec.k} training images; the dataset has "
                f"{num_reals}"
            )


def dataset_id(path: str | Path) -> str:
    p = Path(path).resolve()
    if p.is_file():
        st = p.stat()
        return f"{p}|{st.st_size}|{st.st_mtime_ns}"
    files = sorted(q for q in p.rglob("*") if q.is_file())
    h = hashlib.sha1()
    for q in files:
        st = q.stat()
        h.update(f"{q.relative_to(p)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return f"{p}|{h.hexdigest()}"


def real_batches(dataset: ImageDataset, batch: int = 32) -> Callable[[], Iterable[torch.Tensor]]:
    def batches() -> Iterable[torch.Tensor]:
        for start in range(0, len(dataset.names), batch):
            stop = min(start + batch, len(dataset.names))
            yield torch.stack([dataset[i][0] for i in range(start, stop)])

    return batches


def evaluate(
    G,
    data: str | Path,
    specs: list[MetricSpec],
    inception: str | None,
    vgg16: str | None,
    cache_dir: str | Path | None = None,
    batch: int = 32,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, float]:
    """Every metric in `specs` for G against the dataset's images (no x-flip)."""
    dataset = ImageDataset(data)
    data_id = dataset_id(data)
    out: dict[str, float] = {}
    detectors: dict[str, torch.nn.Module] = {}
    for spec in specs:
        path = detector_path(spec.kind, inception, vgg16)
        if spec.kind not in detectors:
            from stylegan2.metrics.runner import load_detector

            detectors[spec.kind] = load_detector(spec.kind, path, G.device)
        out.update(
            compute_metric(
                spec,
                G,
                real_batches(dataset, batch),
                data_id,
                path,
                cache_dir=cache_dir if cache_dir is not None else default_cache_dir(),
                batch=batch,
                progress=progress,
                detector=detectors[spec.kind],
            )
        )
    return out
