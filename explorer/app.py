"""`stylegan2-explorer`: launch the desktop explorer."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from assets import default_network
from explorer.tab_names import TAB_NAMES
from stylegan2.catalogue import network_url, similar_names
from stylegan2.device import device_name_problem
from stylegan2.safe_writes import folder_problem, same_file
from stylegan2.threads import MAX_THREADS

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stylegan2-explorer", description="Explore StyleGAN2 by hand")
    p.add_argument(
        "--network",
        help="checkpoint to open: a file, an http(s) URL or a published name such as ffhq "
        "(default: the bundled model)",
    )
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    p.add_argument("--state", help="explorer state JSON to start from")
    p.add_argument("--screenshot", help="save a PNG of the window once the first image shows, exit")
    p.add_argument("--tab", help="open on this tab: " + ", ".join(TAB_NAMES))
    p.add_argument("--size", default="1280x800", help="window size WxH (default 1280x800)")
    p.add_argument(
        "--compare", help="a second network (file, URL or name) to show beside the first"
    )
    p.add_argument("--lpips-weights", help="VGG16 trunk for LPIPS path lengths (remembered)")
    p.add_argument(
        "--threads",
        type=int,
        help="CPU threads per frame (remembered; fewer are faster while a training run is busy)",
    )
    return p


def uncaught_to_status(say: Callable[[str, int], None]) -> Callable[..., None]:
    """A sys.excepthook for the running window: an exception that escapes a slot (Qt calls
    Python from its event loop, where nothing above could catch it) is logged with its
    traceback and said in the status bar; the window goes on."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        try:
            say(f"internal error: {exc_type.__name__}: {exc} (details in the log)", 10000)
        except Exception:  # the window may be going away: the log has it
            log.exception("could not report it in the status bar")

    return hook


def _error(msg: str) -> int:
    print(f"stylegan2-explorer: error: {msg}", file=sys.stderr)
    return 2


MIN_SIDE, MAX_SIDE = 100, 8192  # --size limits: the smallest useful window, an 8K screen


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # Everything that can be checked is checked before the window (and its render thread) exist.
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        return _error(f"--size must look like 1280x800, got {args.size}")
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        # a window (or a screenshot) of 40000x40000 px takes gigabytes before it draws a thing
        return _error(f"--size sides must be {MIN_SIDE} to {MAX_SIDE} px, got {args.size}")
    if args.threads is not None and not 1 <= args.threads <= MAX_THREADS:
        return _error(f"--threads must be 1 to {MAX_THREADS}, got {args.threads}")
    problem = device_name_problem(args.device)
    if problem:
        return _error(problem)
    if args.tab and args.tab.lower() not in {t.lower() for t in TAB_NAMES}:
        return _error(f"no tab named {args.tab!r}; tabs: {', '.join(TAB_NAMES)}")
    if args.screenshot:
        if Path(args.screenshot).suffix.lower() != ".png":
            return _error(f"--screenshot {args.screenshot}: the picture is a PNG; name it .png")
        if Path(args.screenshot).expanduser().is_dir():
            return _error(f"--screenshot {args.screenshot} is a folder: choose a file name")
        problem = folder_problem(args.screenshot)
        if problem:
            return _error(f"--screenshot: {problem}")
        for flag, given in (
            ("--state", args.state),
            ("--network", args.network),
            ("--compare", args.compare),
            ("--lpips-weights", args.lpips_weights),
        ):
            if given and same_file(given, args.screenshot):
                return _error(
                    f"--screenshot {args.screenshot} is the {flag} file being read: "
                    "the picture would replace it; choose another name"
                )
    for flag, path in (("--network", args.network), ("--compare", args.compare)):
        # A URL or a published name is fetched once the window shows (with progress).
        if path and network_url(path) is None and not Path(path).exists():
            close = similar_names(path)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            return _error(f"{path}: no such file and no published network of that name{hint} "
                          f"({flag}; `stylegan2 models` lists the published ones)")  # fmt: skip
    # Imported only now: Qt, torch and the window take seconds to load, and a bad argument is
    # answered before that.
    from PySide6.QtWidgets import QApplication

    from explorer.main_window import MainWindow
    from explorer.screenshot import screenshot_when_ready

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("stylegan2-explorer")
    win = MainWindow(device=args.device)
    try:
        return _run(app, win, args, (w, h), screenshot_when_ready)
    except BaseException:
        win.ctx.prefs.persist = False
        win.close()  # the render thread stops first: a QThread destroyed running aborts
        raise


def _run(app: Any, win: Any, args: argparse.Namespace, size: tuple[int, int], shoot: Any) -> int:
    """The window's session, from restoring it to the end of the event loop."""
    if args.screenshot:
        win.ctx.prefs.persist = False  # a picture of the defaults; the user's session stays
    else:
        win.restore()
    win.resize(*size)
    if args.lpips_weights:
        win.lpips.set_weights(args.lpips_weights)
    if args.threads is not None:
        win.speed.set_threads(args.threads, "given with --threads")
    if args.state and not win.files.load_state(args.state):
        win.ctx.prefs.persist = False  # nothing was shown: nothing to remember
        win.close()  # stops the render thread before the window goes away
        return _error(f"cannot load state {args.state}: {win.files.load_error}")
    network = args.network or default_network() or win.network.most_recent()
    if network:
        win.network.open(network)
        if args.compare:
            win.network.when_opened(lambda: win.compare.open(args.compare))
    if args.tab:
        win.ui.tabs.select(args.tab)
    if args.screenshot:
        shoot(win, args.screenshot, wait_twin=bool(args.compare))
    win.show()
    hook, sys.excepthook = sys.excepthook, uncaught_to_status(win.ctx.status.say)
    try:
        return app.exec()
    finally:
        sys.excepthook = hook


if __name__ == "__main__":
    sys.exit(main())
