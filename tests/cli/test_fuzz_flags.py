"""Property test over command flags: any value either parses within the limits --help states
or is refused by argparse in one line with exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stylegan2.cli.common import MAX_LIST, MAX_SEED, MAX_SIDE, parse_range
from stylegan2.cli.main import build_parser

# Fuzz, fault, subprocess and whole-app checks: CI runs them, the quick loop skips them.
pytestmark = pytest.mark.slow

NET = ["--network", "net.pkl"]
#: command -> the arguments it requires, fixed; every other flag with a type is fuzzed
FIXED: dict[str, list[str]] = {
    "generate": [*NET, "--outdir", "o"],
    "mix": [*NET, "--rows", "0", "--cols", "1", "--out", "m.png"],
    "convert": ["a.pkl", "b.safetensors"],
    "info": ["a.pkl"],
    "bench": [],
    "ppl": NET,
    "blobs": NET,
    "resolution-usage": ["net.pkl"],
    "video": [*NET, "--seeds", "0,1", "--out", "v.mp4"],
    "project": [*NET, "--target", "t.png", "--outdir", "o"],
    "directions": [*NET, "--out", "d.npz"],
    "edit": [*NET, "--direction", "d.npz", "--out", "e.png"],
    "detect": [*NET, "i.png"],
    "dataset": ["--source", "s", "--dest", "d.zip", "--resolution", "64"],
    "metrics": [*NET, "--data", "d.zip"],
    "bundle": ["s.safetensors", "--out", "b.safetensors", "--title", "t", "--dataset", "d"],
    "models": [],
}


def _parser() -> argparse.ArgumentParser:
    from commands.main import TRAINER_COMMANDS

    return build_parser(TRAINER_COMMANDS)


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    p = _parser()
    return next(a for a in p._actions if isinstance(a, argparse._SubParsersAction)).choices


def _typed_flags(command: str) -> list[str]:
    """The command's flags that convert their value (numbers, ranges, sizes)."""
    return [
        a.option_strings[0]
        for a in _subparsers()[command]._actions
        if a.option_strings and a.type not in (None, str)
    ]


COMMANDS = {name: (fixed, _typed_flags(name)) for name, fixed in FIXED.items()}


def test_every_command_is_fuzzed_and_its_fixed_arguments_parse():
    assert set(FIXED) == set(_subparsers())
    for name, fixed in FIXED.items():
        ns, err = _parse([name, *fixed])
        assert ns is not None, (name, err)


numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "0", "-1", "1e309", "2e9", "", " ", "4294967296"]),
)
ranges = st.one_of(
    st.lists(st.integers(-5, 2**33), min_size=1, max_size=3).map(lambda v: "-".join(map(str, v))),
    st.sampled_from(["0-4000000000", "3-1", "-3", "0,,1", "1-", "a", "0-99999,0-99999"]),
)
sizes = st.one_of(
    st.tuples(st.integers(-2, 10**6), st.integers(-2, 10**6)).map(lambda t: f"{t[0]}x{t[1]}"),
    st.text(max_size=12),
)
values = st.one_of(numbers, ranges, sizes, st.text(max_size=20))


def _parse(argv: list[str]) -> tuple[argparse.Namespace | None, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            return _parser().parse_args(argv), err.getvalue()
        except SystemExit as exc:
            assert exc.code == 2, (argv, exc.code)
            return None, err.getvalue()


def _check_limits(ns: argparse.Namespace) -> None:
    for name in ("trunc", "compare_trunc", "fps", "min_time"):
        v = getattr(ns, name, None)
        assert v is None or math.isfinite(v), (name, v)
    for name in ("trunc", "compare_trunc"):
        v = getattr(ns, name, None)
        assert v is None or abs(v) <= 100, (name, v)
    strengths = getattr(ns, "strengths", None)
    assert strengths is None or all(abs(v) <= 10_000 for v in strengths), strengths
    for name in (
        "steps",
        "samples",
        "batch",
        "n",
        "top",
        "video_every",
        "frames_per_segment",
        "faces",
        "max_images",
        "workers",
        "threads",
        "resolution",
    ):
        v = getattr(ns, name, None)
        assert v is None or v >= 1, (name, v)
    for name in ("seed", "trunc_cutoff", "class_idx", "index"):
        v = getattr(ns, name, None)
        assert v is None or 0 <= v <= MAX_SEED, (name, v)
    for name in ("seeds", "styles", "layers", "rows", "cols"):
        v = getattr(ns, name, None)
        assert v is None or (len(v) <= MAX_LIST and all(0 <= s <= MAX_SEED for s in v)), name
    if getattr(ns, "size", None) is not None:
        assert all(1 <= s <= MAX_SIDE for s in ns.size)
    if getattr(ns, "quality", None) is not None:
        assert 1 <= ns.quality <= 9


@settings(max_examples=300, deadline=None)
@given(
    command=st.sampled_from(sorted(COMMANDS)),
    data=st.data(),
)
def test_any_flag_value_parses_within_limits_or_is_one_line(command, data):
    fixed, flags = COMMANDS[command]
    flag = data.draw(st.sampled_from(flags))
    value = data.draw(values)
    ns, err = _parse([command, *fixed, f"{flag}={value}"])
    if ns is None:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines and lines[-1].startswith(f"stylegan2 {command}: error:"), err
        assert "Traceback" not in err
    else:
        _check_limits(ns)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["generate", *NET, "--outdir", "o", "--seeds", "0-4000000000"], "at most 100,000"),
        (["generate", *NET, "--outdir", "o", "--trunc", "nan"], "from -100 to 100"),
        (["video", *NET, "--out", "v.mp4", "--seeds", "0,1", "--trunc", "1e39"], "-100 to 100"),
        (["blobs", *NET, "--trunc", "-101"], "from -100 to 100"),
        (["video", *NET, "--out", "v.mp4", "--seeds", "0,-1"], "from 0"),
        (["video", *NET, "--out", "v.mp4", "--seeds", "0,1", "--size", "99999x2"], "1-16384"),
        (["video", *NET, "--out", "v.mp4", "--seeds", "0,1", "--fps", "inf"], "0.01"),
        (["project", *NET, "--target", "t", "--outdir", "o", "--steps", "0"], "1-10000000"),
        (["ppl", *NET, "--batch", "0"], "1-1024"),
        (["ppl", *NET, "--samples", "5", "--full"], "not allowed with"),
        (
            [
                "video",
                *NET,
                "--out",
                "v.mp4",
                "--seeds",
                "0,1",
                "--compare-trunc",
                "0.5",
                "--compare-network",
                "n.pkl",
            ],
            "not allowed with",
        ),
        (["blobs", *NET, "--seeds", "5-2"], "empty range"),
        (["bench", "--resolution", "96"], "power of two"),
    ],
)
def test_named_bad_flags_are_refused_at_parse_time(argv, needle):
    ns, err = _parse(argv)
    assert ns is None and needle in err, err


def test_the_limits_are_in_help():
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args(["video", "--help"])
    text = " ".join(out.getvalue().split())
    assert "1-9" in text and "0.01-1000" in text and f"1-{MAX_SIDE}" in text


def test_parse_range_counts_before_it_builds():
    with pytest.raises(argparse.ArgumentTypeError, match="at most"):
        parse_range(f"0-{MAX_SEED}")
    assert parse_range("0-3,7") == [0, 1, 2, 3, 7]


@pytest.mark.parametrize("command", ["generate", "video"])
@pytest.mark.parametrize(
    "kind", ["deep", "fifo", "huge list", "a list", "null request", "plain png", "text as png"]
)
def test_hostile_state_files_are_one_line(tmp_path, capsys, command, kind):
    import os

    from stylegan2.cli.main import main
    from tests.conftest import DATA

    state = tmp_path / "state.json"
    if kind == "deep":
        state.write_text('{"request": ' + "[" * 100_000 + "]" * 100_000 + "}")
    elif kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(state)
    elif kind == "huge list":
        state.write_text('{"request": [' + "1," * 100_000 + '1], "path": 5}')
    elif kind == "a list":
        state.write_text("[1, 2]")
    elif kind == "null request":
        state.write_text('{"request": null, "path": null}')
    else:
        from PIL import Image

        state = tmp_path / "state.png"
        if kind == "plain png":  # an image without the explorer's text chunk
            Image.new("RGB", (4, 4)).save(state)
        else:
            state.write_text("{}")
    argv = [command, "--network", str(DATA / "sg2ada_tiny_snapshot.pkl"), "--state", str(state)]
    argv += ["--outdir", str(tmp_path / "o")] if command == "generate" else ["--out", "v.gif"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"stylegan2 {command}: error:") and "\n" not in err, err
    assert "object has no attribute" not in err and "indices must be" not in err, err


@pytest.mark.parametrize(
    "argv",
    [
        ["resolution-usage", "{net}", "--samples", "10000000"],
        ["mix", "--network", "{net}", "--rows", "0-99999", "--cols", "0-99999", "--styles", "0"],
        ["video", "--network", "{net}", "--seeds", "0-99", "--frames-per-segment", "1000000"],
        ["video", "--network", "{net}", "--state", "{state}"],
    ],
)
def test_work_too_large_for_memory_is_refused_with_the_number(tmp_path, capsys, argv):
    from stylegan2.cli.main import main
    from tests.conftest import DATA

    net = str(DATA / "sg2ada_tiny_snapshot.pkl")
    state = tmp_path.parent / f"{tmp_path.name}-state.json"  # outside the folder checked below
    keys = [{"latent": {"seeds": [[s, 1.0]]}, "duration": 1e308} for s in (0, 1)]
    state.write_text(json.dumps({"path": {"keyframes": keys, "space": "w", "easing": "linear"}}))
    argv = [a.format(net=net, state=state) for a in argv]
    if argv[0] == "mix":
        argv += ["--out", str(tmp_path / "m.png")]
    if argv[0] == "video":
        argv += ["--out", str(tmp_path / "v.mp4")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and any(w in err for w in ("GiB", "frames")), err
    assert not list(tmp_path.iterdir())
