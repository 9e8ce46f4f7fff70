"""A probe that reads the procedural faces' drawn factors (training/faces.py) back from an image.

The faces dataset stores every image's factors, so a small classifier trained on it can say what
a generator drew: which hair style, eyes, mouth, glasses, skin tone. That turns two questions
about a model of these faces into numbers: which factors (and which of their values) its samples
cover, and which factors each band of ws controls when styles are mixed. The probe's accuracy on
fresh faces it never saw says how far each answer can be trusted; factors it cannot read at the
dataset's resolution (tiny irises, say) show up there as accuracies near chance.

Only the categorical factors are read (continuous ones, such as tilt or smile, are not). Colours
are read as the palette entry they were jittered from (replayed from the dataset's seed: jitter
can carry a colour nearer to a neighbouring entry).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from training.faces import (
    BROW_STYLES,
    EYE_STYLES,
    GLASSES,
    HAIR_COLOURS,
    HAIR_STYLES,
    MOUTH_STYLES,
    NOSE_STYLES,
    PATTERNS,
    SKIN_TONES,
    replay_palette,
)

#: factor -> its values' names, in class order
CATEGORIES: dict[str, tuple[str, ...]] = {
    "hair": HAIR_STYLES,
    "ears": ("no", "yes"),
    "eyes": EYE_STYLES,
    "brows": BROW_STYLES,
    "mouth": MOUTH_STYLES,
    "nose": NOSE_STYLES,
    "glasses": GLASSES,
    "skin": tuple(f"tone {i}" for i in range(len(SKIN_TONES))),
    "hair colour": tuple(f"colour {i}" for i in range(len(HAIR_COLOURS))),
    "iris": ("brown", "blue", "green"),  # training/faces.py's IRIS_COLOURS
    "pattern": PATTERNS,
    "freckles": ("no", "yes"),
    "blush": ("no", "yes"),
}
FORMAT = "stylegan2-explorer face probe"


def factor_classes(f: dict, palette: dict[str, int]) -> dict[str, int]:
    """One face's factors (as `sample_factors` drew them) and the palette entries of its
    colours (`replay_palette`) -> class index per CATEGORIES entry."""
    try:
        return {
            "hair": HAIR_STYLES.index(f["hair"]),
            "ears": int(bool(f["ears"])),
            "eyes": EYE_STYLES.index(f["eyes"]),
            "brows": BROW_STYLES.index(f["brows"]),
            "mouth": MOUTH_STYLES.index(f["mouth"]),
            "nose": NOSE_STYLES.index(f["nose"]),
            "glasses": GLASSES.index(f["glasses"]),
            "skin": palette["skin"],
            "hair colour": palette["hair_rgb"],
            "iris": palette["iris"],
            "pattern": PATTERNS.index(f["pattern"]),
            "freckles": int(bool(f["freckles"])),
            "blush": int(bool(f["blush"])),
        }
    except (KeyError, ValueError) as e:
        raise ValueError(f"factors unlike those training/faces.py draws ({e})") from None


def faces_meta(path: str | Path) -> dict:
    """A faces dataset zip's dataset.json, checked to hold factors and the faces seed."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            meta = json.loads(z.read("dataset.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a procedural faces dataset zip ({e})") from None
    if not isinstance(meta, dict) or not meta.get("factors"):
        raise ValueError(f"{path}: not a procedural faces dataset (no factors in dataset.json)")
    if not isinstance(meta.get("faces_seed"), int):
        raise ValueError(f"{path}: its dataset.json names no faces_seed")
    return meta


def load_faces(path: str | Path, limit: int | None = None) -> tuple[torch.Tensor, dict]:
    """A faces dataset zip -> (uint8 [N, 3, R, R] images, {factor: int64 [N] classes})."""
    from training.dataset import ImageDataset

    meta = faces_meta(path)
    factors, seed = meta["factors"], meta["faces_seed"]
    ds = ImageDataset(path)
    if len(ds) != len(factors):
        raise ValueError(f"{path}: {len(ds)} images but factors for {len(factors)}")
    n = len(ds) if limit is None else min(limit, len(ds))
    images = torch.stack([ds[i][0] for i in range(n)])
    classes = []
    for name in ds.names[:n]:
        # The zip numbers its images in the order their factors are listed (img00000012.png).
        stem = Path(name).stem
        if not (stem.startswith("img") and stem[3:].isdigit()) or int(stem[3:]) >= len(factors):
            raise ValueError(f"{path}: {name} is not one of the faces dataset's images")
        i = int(stem[3:])
        drawn, palette = replay_palette(seed, i)
        if drawn != factors[i]:
            raise ValueError(
                f"{path}: face {i}'s factors differ from what training/faces.py draws for seed "
                f"{seed} now (a dataset from another version of it?)"
            )
        classes.append(factor_classes(factors[i], palette))
    return images, {k: torch.tensor([c[k] for c in classes]) for k in CATEGORIES}


class FaceProbe(nn.Module):
    """uint8 [N, 3, R, R] -> {factor: logits [N, classes]}: four strided convolutions, one head
    per factor."""

    def __init__(self, resolution: int = 64, width: int = 32) -> None:
        super().__init__()
        self.resolution = resolution
        self.width = width
        chans = [3, width, 2 * width, 4 * width, 4 * width]
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in itertools.pairwise(chans)
        )
        side = max(resolution // 16, 1)
        self.fc = nn.Linear(chans[-1] * side * side, 8 * width)
        self.heads = nn.ModuleDict(
            {k.replace(" ", "_"): nn.Linear(8 * width, len(v)) for k, v in CATEGORIES.items()}
        )

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x = images.float() / 127.5 - 1
        if x.shape[-1] != self.resolution:
            x = F.interpolate(x, size=self.resolution, mode="area")
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        x = F.leaky_relu(self.fc(x.flatten(1)), 0.2)
        return {k: self.heads[k.replace(" ", "_")](x) for k in CATEGORIES}

    @torch.no_grad()
    def logits(self, images: torch.Tensor, batch: int = 256) -> dict[str, torch.Tensor]:
        """Per factor, [N, values] scores for uint8 images, in batches."""
        self.eval()
        outs = [self(images[i : i + batch]) for i in range(0, len(images), batch)]
        return {k: torch.cat([o[k] for o in outs]) for k in CATEGORIES}

    def predict(self, images: torch.Tensor, batch: int = 256) -> dict[str, torch.Tensor]:
        """Class index per factor for uint8 images."""
        return {k: v.argmax(1) for k, v in self.logits(images, batch).items()}

    def confidence(self, images: torch.Tensor, batch: int = 256) -> dict[str, float]:
        """Mean probability of the value read, per factor: lower on a model's samples than on
        real faces where the samples look unlike anything the probe was trained on."""
        return {
            k: float(v.softmax(1).max(1).values.mean())
            for k, v in self.logits(images, batch).items()
        }


def train_probe(
    images: torch.Tensor,
    classes: dict[str, torch.Tensor],
    epochs: int = 6,
    batch: int = 64,
    seed: int = 0,
    width: int = 32,
    log: Callable[[str], None] | None = None,
) -> FaceProbe:
    """Fit a probe to faces and their classes; images are mirrored at random, as the models saw
    them (mirroring changes none of the categorical factors)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():  # the weights' draw, without moving the caller's generator
        torch.manual_seed(seed)
        probe = FaceProbe(images.shape[-1], width)
    opt = torch.optim.Adam(probe.parameters())  # OneCycleLR sets the rate
    steps = epochs * max(len(images) // batch, 1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    probe.train()
    step = 0
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, max(len(images) - batch + 1, 1), batch):
            idx = order[i : i + batch]
            x = images[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            out = probe(x)
            loss = sum(F.cross_entropy(out[k], classes[k][idx]) for k in CATEGORIES)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step < steps - 1:
                sched.step()
            step += 1
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        if log is not None:
            log(f"probe epoch {epoch + 1}/{epochs}: loss {total / max(seen, 1):.3f}")
    return probe.eval()


def accuracy(
    probe: FaceProbe, images: torch.Tensor, classes: dict[str, torch.Tensor]
) -> dict[str, float]:
    """Share of images whose factor the probe reads right, per factor."""
    pred = probe.predict(images)
    return {k: float((pred[k] == classes[k]).float().mean()) for k in CATEGORIES}


def save_probe(probe: FaceProbe, path: str | Path, note: str = "") -> None:
    meta = {
        "format": FORMAT,
        "resolution": str(probe.resolution),
        "width": str(probe.width),
        "categories": json.dumps(CATEGORIES),
        "note": note,
    }
    save_file({k: v.contiguous() for k, v in probe.state_dict().items()}, str(path), meta)


def load_probe(path: str | Path) -> FaceProbe:
    """A probe saved by `save_probe` (weights only: nothing in the file is executed)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: not a face probe")
        if json.loads(meta["categories"]) != {k: list(v) for k, v in CATEGORIES.items()}:
            raise ValueError(f"{path}: a probe of other factors than training/faces.py draws now")
        probe = FaceProbe(int(meta["resolution"]), int(meta["width"]))
        probe.load_state_dict(load_file(str(path)))
    except (SafetensorError, KeyError, RuntimeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable face probe ({e})") from None
    return probe.eval()


__all__ = [
    "CATEGORIES",
    "FaceProbe",
    "accuracy",
    "faces_meta",
    "factor_classes",
    "load_faces",
    "load_probe",
    "save_probe",
    "train_probe",
]
