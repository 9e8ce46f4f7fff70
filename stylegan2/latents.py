"""Reading and writing latents: `.npy` / `.npz` files of w or ws, including NVIDIA's
`projected_w.npz` layout (key 'w', shape [1, num_ws, w_dim])."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from stylegan2.archive_errors import ARCHIVE_ERRORS, numpy_load_message
from stylegan2.input_files import file_problem
from stylegan2.safe_writes import atomic_path, remove_stale_temps


class LatentFileError(ValueError):
    pass


#: leading batch entries a latent file may carry (the first is used)
MAX_BATCH = 1024


def _check_npy(f: BinaryIO, stored: int, limit: int, name: str) -> None:
    """Read a .npy header and refuse, before numpy allocates it, an array that the bytes after
    the header cannot hold or that is far larger than any latent."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise LatentFileError(f"{name}: not a readable .npy/.npz file ({exc})") from None
    if dtype.hasobject:
        raise LatentFileError(f"{name}: holds Python objects, not numbers (refused)")
    count = math.prod(shape)
    if count > limit:
        raise LatentFileError(
            f"{name}: an array of shape {list(shape)} is larger than any latent "
            f"(at most {limit:,} values)"
        )
    if count * dtype.itemsize > stored - f.tell():
        raise LatentFileError(f"{name}: its header states more data than the file holds")


def _check_latent_file(path: Path, limit: int) -> None:
    problem = file_problem(path)
    if problem:
        raise LatentFileError(f"{path.name}: {problem}")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    if info.filename.endswith(".npy"):
                        with z.open(info) as f:
                            _check_npy(f, info.file_size, limit, f"{path.name}:{info.filename}")
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise LatentFileError(f"{path.name}: not a readable .npz file ({exc})") from None
    else:
        with path.open("rb") as f:
            _check_npy(f, path.stat().st_size, limit, path.name)


def load_w(path: str | Path, num_ws: int, w_dim: int) -> np.ndarray:
    """A w [w_dim] or ws [num_ws, w_dim] (float32) from .npy or .npz; extra leading batch
    dimensions take the first entry. Object arrays are refused (no pickles), and so is any
    array whose header states more than the file holds or than MAX_BATCH latents."""
    path = Path(path)
    _check_latent_file(path, MAX_BATCH * max(num_ws, 1) * w_dim)
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                files = data.files
                key = "w" if "w" in files else (files[0] if len(files) == 1 else None)
                if key is None:
                    raise LatentFileError(f"{path.name}: no 'w' array among {files[:20]}")
                arr = data[key]  # (a member is read, and can fail, only here)
        else:
            arr = data
    except LatentFileError:
        raise
    except (*ARCHIVE_ERRORS, ValueError, KeyError, MemoryError) as exc:
        raise LatentFileError(
            f"{path.name}: not a readable .npy/.npz file ({numpy_load_message(exc)})"
        ) from None
    arr = np.asarray(arr)
    if not np.issubdtype(arr.dtype, np.floating):
        raise LatentFileError(f"{path.name}: expected floats, found {arr.dtype}")
    while arr.ndim > 2 and arr.shape[0] >= 1 and arr.shape[1:] != (w_dim,):
        if arr.shape[-2:] == (num_ws, w_dim) or arr.shape[-1] == w_dim:
            arr = arr[0]
        else:
            break
    if arr.shape not in ((w_dim,), (num_ws, w_dim)):
        raise LatentFileError(
            f"{path.name}: shape {list(arr.shape)} does not fit this network "
            f"([{w_dim}] or [{num_ws}, {w_dim}])"
        )
    if not np.isfinite(arr).all():
        raise LatentFileError(f"{path.name}: contains NaN or infinite values")
    return arr.astype(np.float32)


def save_w(path: str | Path, ws: np.ndarray) -> None:
    """Save ws [num_ws, w_dim]: .npz in NVIDIA's layout (key 'w', [1, num_ws, w_dim]) or .npy."""
    path = Path(path)
    ws = np.asarray(ws, dtype=np.float32)
    remove_stale_temps(path)  # a write of this file that a kill stopped half-way
    try:
        # A zip (.npz) cannot be written in place to a device: its end record goes wrong.
        npz = path.suffix.lower() == ".npz"
        with atomic_path(path, in_place=not npz) as tmp, open(tmp, "wb") as f:
            if npz:
                np.savez(f, w=ws[None])
            else:
                np.save(f, ws)
    except OSError as exc:
        raise LatentFileError(f"cannot write {path}: {exc.strerror or exc}") from None
