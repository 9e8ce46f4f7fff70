"""Tell checkpoint formats apart by their first bytes, and route a file to its importer.

Sniffing never unpickles: it looks at magic numbers, zip member names, and, for pickles, which of
the two known module names appears first in the opening megabytes.
"""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

from stylegan2.archive_errors import ARCHIVE_ERRORS
from stylegan2.checkpoints.common import CheckpointContents, CheckpointError, named_path
from stylegan2.checkpoints.safe_unpickle import check_file

SCAN_BYTES = 4 * 1024**2
ZIP_MAGIC = b"PK\x03\x04"
# A legacy (pre-1.6, non-zip) torch.save starts with protocol 2 and this magic number.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
_ADA_MARKER = b"torch_utils.persistence"
_TF_MARKER = b"dnnlib.tflib.network"

EXPECTED = (
    "expected a stylegan2-ada-pytorch .pkl, a TensorFlow StyleGAN2 .pkl, "
    "a rosinality .pt or one of our .safetensors checkpoints"
)


def sniff_format(path: str | os.PathLike[str]) -> str:
    """One of 'ada-pkl', 'tf-pkl', 'pickle' (some other pickle), 'torch-zip', 'torch-legacy',
    'zip' (not a torch archive), 'damaged-zip', 'safetensors', 'damaged-safetensors' (a header
    longer than the file: cut short), 'directory', 'special' (a FIFO or device: reading it
    could block forever) or 'unknown'."""
    p = Path(path)
    if p.is_dir():
        return "directory"
    if not p.exists():
        raise CheckpointError(f"{p}: no such file")
    if not p.is_file():
        return "special"
    with p.open("rb") as f:
        head = f.read(SCAN_BYTES)
    if head.startswith(ZIP_MAGIC):
        return _sniff_zip(p)
    if head.startswith(TORCH_LEGACY_MAGIC):
        return "torch-legacy"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        ada, tf = head.find(_ADA_MARKER), head.find(_TF_MARKER)
        if ada >= 0 and (tf < 0 or ada < tf):
            return "ada-pkl"
        if tf >= 0:
            return "tf-pkl"
        return "pickle"
    size = p.stat().st_size
    if _looks_like_safetensors(head, size):
        return "safetensors"
    if _looks_like_safetensors(head, 1 << 40):
        return "damaged-safetensors"
    return "unknown"


def _sniff_zip(p: Path) -> str:
    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
    except (*ARCHIVE_ERRORS, ValueError):
        return "damaged-zip"
    # torch.save archives hold '<name>/data.pkl' next to '<name>/data/<storage>' members.
    if any(n.endswith("/data.pkl") or n == "data.pkl" for n in names):
        return "torch-zip"
    return "zip"


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n <= size - 8 and head[8:9] == b"{"


def read_checkpoint(path: str | os.PathLike[str]) -> CheckpointContents:
    """Read any third-party checkpoint we support into plain data (configs + state dicts)."""
    p = named_path(path)
    fmt = sniff_format(p)
    if fmt == "directory":
        raise CheckpointError(f"{p} is a directory, not a checkpoint file ({EXPECTED})")
    if fmt == "special":
        raise CheckpointError(f"{p} is not a regular file (a pipe or a device?)")
    check_file(p)
    if fmt == "ada-pkl":
        from stylegan2.checkpoints.ada_pkl import read_ada_pickle

        return read_ada_pickle(p)
    if fmt == "tf-pkl":
        from stylegan2.checkpoints.tf_pkl import read_tf_pickle

        return read_tf_pickle(p)
    if fmt in ("torch-zip", "torch-legacy"):
        from stylegan2.checkpoints.rosinality import read_rosinality

        return read_rosinality(p)
    if fmt == "safetensors":
        from stylegan2.checkpoints.native import read_header

        read_header(p)  # a header too deep or too long to read says so
        raise CheckpointError(f"{p} is a safetensors file but not one of our checkpoints")
    if fmt == "zip":
        raise CheckpointError(f"{p} is a zip archive but not a torch checkpoint")
    if fmt == "damaged-zip":
        raise CheckpointError(
            f"{p}: damaged checkpoint (starts as a zip / torch archive, but its directory is "
            "missing or broken: a truncated download or copy?)"
        )
    if fmt == "damaged-safetensors":
        raise CheckpointError(
            f"{p}: damaged checkpoint (a safetensors header longer than the file: cut short?)"
        )
    if fmt == "pickle":
        raise CheckpointError(
            f"{p} is a Python pickle but not a StyleGAN2 network pickle we recognise ({EXPECTED})"
        )
    raise CheckpointError(f"{p} is not a StyleGAN2 checkpoint we recognise ({EXPECTED})")
