"""The checkpoint formats we read, as their owners know them: the one list that the explorer's
welcome page and open dialog and the commands' help show. The file's contents, not its name,
decide how it is read (`sniff.py`); the suffixes here only help people find their files."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownFormat:
    name: str  # CheckpointContents.format
    label: str  # how its owners call it
    suffixes: tuple[str, ...]


FORMATS = (
    KnownFormat("ada-pkl", "NVIDIA stylegan2-ada-pytorch", (".pkl",)),
    KnownFormat("tf-pkl", "TensorFlow StyleGAN2", (".pkl",)),
    KnownFormat("rosinality-pt", "rosinality", (".pt", ".pth")),
    KnownFormat("native", "our", (".safetensors",)),
)

#: every suffix a network file usually has, in the order above
NETWORK_SUFFIXES = tuple(dict.fromkeys(s for f in FORMATS for s in f.suffixes))


def suffixes_text() -> str:
    """'.pkl, .pt, .pth, .safetensors': for help texts."""
    return ", ".join(NETWORK_SUFFIXES)


def formats_sentence(code: tuple[str, str] = ("", "")) -> str:
    """'NVIDIA stylegan2-ada-pytorch .pkl, TensorFlow StyleGAN2 .pkl, rosinality .pt or our
    .safetensors'; `code` wraps each suffix (HTML's ('<tt>', '</tt>'))."""
    a, b = code
    parts = [f"{f.label} {a}{f.suffixes[0]}{b}" for f in FORMATS]
    return ", ".join(parts[:-1]) + " or " + parts[-1]
