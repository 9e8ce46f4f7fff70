"""Run folders: numbering new ones, finding the run and snapshot that `--resume latest|PATH`
means, one trainer per folder (a lock that no child process keeps), stale temporary files, the
run's log file, and noting options that changed on resume."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import re
import signal
import socket
from pathlib import Path

from stylegan2.safe_writes import write_text_atomic
from training.distributed import DistInfo
from training.options import ResolvedConfig, TrainOptions
from training.snapshot import latest_snapshot

log = logging.getLogger("training")


class RunFolderError(Exception):
    """A run folder that cannot be used, in one line: nothing to resume, an --outdir that is a
    file or cannot be written."""


class RunLockedError(RunFolderError, RuntimeError):
    """Another live trainer holds the run folder."""


def run_suffix(opts: TrainOptions) -> str:
    return f"{Path(opts.data).stem}-{opts.cfg}-{opts.norm}"


def check_outdir(outdir: str) -> None:
    """Refuse an --outdir that is a file or (with its nearest existing folder) not writable,
    before any work is done."""
    out = Path(outdir).expanduser()
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"--outdir {outdir}: is a file, not a folder")
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise RunFolderError(f"--outdir {outdir}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RunFolderError(f"--outdir {outdir}: {existing} is not writable")


def new_run_dir(opts: TrainOptions) -> Path:
    out = Path(opts.outdir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        ids = [int(p.name[:5]) for p in out.iterdir() if p.is_dir() and p.name[:5].isdigit()]
        name = f"{max(ids, default=-1) + 1:05d}-{run_suffix(opts)}"
        run_dir = out / name
        run_dir.mkdir()
    except OSError as exc:
        raise RunFolderError(
            f"--outdir {opts.outdir}: cannot create a run folder ({exc.strerror or exc})"
        ) from None
    return run_dir


def find_resume(opts: TrainOptions) -> tuple[Path | None, Path] | None:
    """(run dir, snapshot) for --resume latest|PATH, or None for a fresh run. The run dir is
    None when the snapshot must continue in a new run folder: it is not the latest snapshot of
    its run (continuing there would overwrite the later ones), or it is not in a run folder at
    all (a model kept elsewhere)."""
    if not opts.resume:
        return None
    if opts.resume != "latest":
        snap = Path(opts.resume)
        if snap.is_dir():  # a run folder: its newest snapshot, as `latest` would pick there
            newest = latest_snapshot(snap)
            if newest is None:
                raise RunFolderError(f"--resume {snap}: a folder holding no snapshot")
            snap = newest
        if not snap.is_file():
            raise FileNotFoundError(f"--resume {snap}: no such snapshot")
        run_dir = snap.parent
        is_run = (run_dir / "training_options.json").is_file() and (run_dir / "log.txt").is_file()
        latest = latest_snapshot(run_dir) if is_run else None
        if latest is None or latest.resolve() != snap.resolve():
            return None, snap
        return run_dir, snap
    out = Path(opts.outdir)
    # Only runs of the same kind (data, cfg, norm), so that two runs can share an outdir.
    suffix = run_suffix(opts)
    candidates = (
        [p for p in sorted(out.iterdir()) if p.is_dir() and p.name[6:] == suffix]
        if out.is_dir()
        else []
    )
    for run_dir in reversed(candidates):
        snap = latest_snapshot(run_dir)
        if snap is not None:
            return run_dir, snap
    raise RunFolderError(
        f"--resume latest: no snapshot of a {suffix} run in {out} to resume; "
        "leave out --resume to start a new run"
    )


class RunLock:
    """A held run-folder lock: the open lock file, locked by the kernel for this process."""

    def __init__(self, path: Path, file) -> None:
        self.path, self.file = path, file


#: Locks this process holds. A forked child (a data-loader worker) shares the lock file's open
#: description, and flock stays held while any process has it open: a worker that outlived a
#: killed trainer kept its run folder locked. Children close their copies at once.
_HELD: list[RunLock] = []
_fork_hook_installed = False


def _close_held_locks_in_child() -> None:
    for lock in _HELD:
        lock.file.close()
    _HELD.clear()


def die_with_parent(parent: int) -> None:
    """Have the kernel end this (child) process when its parent ends, however the parent ends:
    for data-loader workers of a trainer that may be SIGKILLed. Linux only; elsewhere the
    workers notice on their own a few seconds later."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def acquire_lock(run_dir: Path) -> RunLock:
    """One trainer per run folder: two would interleave stats.jsonl and overwrite each other's
    snapshots. An OS lock on `train.lock` (flock), so the kernel drops it when the trainer dies
    however it dies (no stale locks after a kill or a container restart); the file names its
    holder only as information. Where there is no flock (Windows) the folder is not guarded."""
    global _fork_hook_installed
    path = run_dir / "train.lock"
    try:
        import fcntl
    except ImportError:
        return RunLock(path, open(path, "a+"))
    if not _fork_hook_installed:
        os.register_at_fork(after_in_child=_close_held_locks_in_child)
        _fork_hook_installed = True
    while True:
        f = open(path, "a+")  # noqa: SIM115 - held open for the whole run
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise RunLockedError(f"{run_dir} is in use by another trainer ({holder})") from None
        try:
            if os.stat(path).st_ino == os.fstat(f.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        f.close()  # locked a name its holder had just removed on leaving: open it afresh
    f.seek(0)
    f.truncate()
    f.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
    f.flush()
    lock = RunLock(path, f)
    _HELD.append(lock)
    return lock


def release_lock(lock: RunLock) -> None:
    # Removed while still held, so no one can take a lock on a name that is going away;
    # Windows cannot remove an open file, so there it goes after closing.
    if lock in _HELD:
        _HELD.remove(lock)
    try:
        lock.path.unlink(missing_ok=True)
    except OSError:
        lock.file.close()
        with contextlib.suppress(OSError):
            lock.path.unlink(missing_ok=True)
        return
    lock.file.close()  # only now: after this, another trainer may lock a new train.lock


def claim_run_dir(opts: TrainOptions) -> tuple[Path, tuple[Path | None, Path] | None, RunLock]:
    """(run dir, resume, lock) on the main rank. The resume decision is taken again once the
    folder is locked: a trainer that held it may have written a newer snapshot meanwhile."""
    resume = find_resume(opts)
    if resume and resume[0] is not None:
        lock = acquire_lock(resume[0])
        again = find_resume(opts)
        if again == resume:
            return resume[0], resume, lock
        release_lock(lock)
        resume = again
    if resume and resume[0] is not None:
        return resume[0], resume, acquire_lock(resume[0])
    run_dir = new_run_dir(opts)
    return run_dir, resume, acquire_lock(run_dir)


#: What a run folder holds before its first tick: nothing in it is worth keeping.
_SETUP_FILES = frozenset({"log.txt", "training_options.json", "train.lock"})


def remove_if_only_setup(run_dir: Path) -> bool:
    """Remove a run folder this trainer created when it failed before writing anything but its
    log and options (a --resume of a file that is no snapshot, a snapshot that does not fit):
    otherwise each failed attempt leaves an empty numbered folder behind. The error itself is
    on stderr. Anything else in the folder (a snapshot, an image, stats) keeps it."""
    try:
        names = {p.name for p in run_dir.iterdir()}
        if not names <= _SETUP_FILES:
            return False
        for name in names:
            (run_dir / name).unlink(missing_ok=True)
        run_dir.rmdir()
    except OSError:
        return False
    return True


#: The temporary names of stylegan2.safe_writes.new_temp: ".<name>.<8 hex>.part[suffix]".
_TEMP_RE = re.compile(r"^\..+\.[0-9a-f]{8}\.part[^/]*$")


def remove_killed_writers_temps(run_dir: Path) -> list[Path]:
    """Temporary files a killed trainer left in its run folder (a snapshot's can be 100+ MB).
    Only under the run's lock: then no save of another trainer is underway there."""
    gone = [p for p in run_dir.iterdir() if p.is_file() and _TEMP_RE.match(p.name)]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def remove_temps_of_idle_runs(folders: list[Path]) -> list[Path]:
    """Temporary files that killed trainers left in other run folders (the outdir's runs and the
    folder of a snapshot continued elsewhere), which no later trainer would otherwise resume in
    and clean. A folder is swept only while this process holds its lock; one in use is skipped."""
    gone: list[Path] = []
    for run_dir in folders:
        try:
            if not any(_TEMP_RE.match(p.name) for p in run_dir.iterdir() if p.is_file()):
                continue
            lock = acquire_lock(run_dir)
        except (OSError, RunLockedError):
            continue
        try:
            gone += remove_killed_writers_temps(run_dir)
        except OSError:
            pass
        finally:
            release_lock(lock)
    return gone


def other_run_folders(outdir: str, run_dir: Path, resumed: Path | None) -> list[Path]:
    """The run folders in `outdir` and the resumed snapshot's folder, except `run_dir`."""
    out = Path(outdir)
    found = (
        [p for p in out.iterdir() if p.is_dir() and re.match(r"^\d{5}-", p.name)]
        if out.is_dir()
        else []
    )
    if resumed is not None and (resumed.parent / "training_options.json").is_file():
        found.append(resumed.parent)
    mine = run_dir.resolve()
    unique = {p.resolve(): p for p in found if p.resolve() != mine}
    return sorted(unique.values())


def setup_logging(run_dir: Path, dist: DistInfo) -> logging.Handler | None:
    """The run's log.txt handler (main process only); give it to `close_logging` at the end, or a
    later run in the same process would write into this run's log too."""
    if not dist.is_main:
        return None
    handler = logging.FileHandler(run_dir / "log.txt")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def close_logging(handler: logging.Handler | None) -> None:
    if handler is not None:
        log.removeHandler(handler)
        handler.close()


def log_changed_options(path: Path, opts: TrainOptions) -> None:
    """A resumed run may change options (precision, ADA speed, ...): say so in the log, which
    keeps the run's whole history, while training_options.json holds the latest ones."""
    try:
        old = json.loads(path.read_text())["options"]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        old = None
    if not isinstance(old, dict):  # damaged: there is nothing to compare with
        log.info("options on resume: %s held no readable options", path.name)
        return
    new = json.loads(json.dumps(opts.as_dict()))  # tuples as the file holds them
    defaults = json.loads(json.dumps(TrainOptions(data="", outdir="").as_dict()))
    changed = [
        f"{k} {old[k]!r} -> {v!r}" if k in old else f"{k} (not recorded) -> {v!r}"
        for k, v in new.items()
        if k not in ("resume", "max_minutes") and old.get(k, defaults[k]) != v
    ]
    if changed:
        log.info("options changed on resume: %s", ", ".join(changed))


def write_training_options(
    run_dir: Path, opts: TrainOptions, rc: ResolvedConfig, world: int
) -> None:
    """training_options.json: the options as given and what they resolved to (the networks'
    configs, batch, lr, gamma, EMA), rewritten at every start of the run."""
    resolved = {
        "options": opts.as_dict(),
        "G": rc.G.to_dict(),
        "D": rc.D.to_dict(),
        "batch": rc.batch,
        "lr": rc.lr,
        "gamma": rc.gamma,
        "ema_kimg": rc.ema_kimg,
        "world": world,
    }
    write_text_atomic(run_dir / "training_options.json", json.dumps(resolved, indent=2))
