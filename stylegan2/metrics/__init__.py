"""Quality metrics against real images: FID (Inception-v3 pool3) and k-NN precision/recall
(VGG16 fc2), with detector weights the user supplies."""

from stylegan2.metrics.inception import MetricWeightsError
from stylegan2.metrics.runner import MetricSpec, compute_metric, detector_path, parse_metric

__all__ = ["MetricSpec", "MetricWeightsError", "compute_metric", "detector_path", "parse_metric"]
