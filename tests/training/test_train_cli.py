"""`stylegan2-train`'s flags are generated from TrainOptions: they cannot disagree, every default
shows in --help, old command lines still parse, and bad values are one-line errors."""

from __future__ import annotations

import dataclasses
import re
import shlex
import typing
from pathlib import Path

import pytest

from training.cli import build_parser, main, options_from_args
from training.options import TrainOptions

CARDS = Path(__file__).parents[2] / "assets" / "models"


def _help_lines(capsys, monkeypatch) -> dict[str, str]:
    """--help as one line per flag: its invocation, help and default."""
    monkeypatch.setenv("COLUMNS", "2000")
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    lines: dict[str, str] = {}
    flag = None
    for line in capsys.readouterr().out.split("options:")[1].splitlines():
        m = re.match(r"  (?:-h, )?(--[a-z0-9-]+)\b", line)
        if m:
            flag = m.group(1)
            lines[flag] = line.strip()
        elif flag and line.strip():
            lines[flag] += " " + line.strip()  # help under a long invocation
    return lines


def test_every_option_is_a_flag_with_its_default_in_help(capsys, monkeypatch):
    lines = _help_lines(capsys, monkeypatch)
    for f in dataclasses.fields(TrainOptions):
        flag = f.metadata["flag"]
        assert flag in lines, f"{f.name} has no flag in --help"
        if f.default is dataclasses.MISSING:
            continue
        shown = re.search(r"\(default: ([^)]*)\)\s*$", lines[flag])
        assert shown, f"{flag}: no default in --help"
        if isinstance(f.default, bool):
            assert shown.group(1) == "off", flag  # the flag turns the default around
        elif f.default not in (None, ()):
            assert shown.group(1) == str(f.default), flag
    # The flags that are not options show theirs too (all but --help and the required ones).
    for flag, line in lines.items():
        assert flag in ("--help", "--data", "--outdir") or "(default: " in line, flag


def test_no_flags_but_the_required_ones_give_the_options_defaults():
    args = build_parser().parse_args(["--data", "d", "--outdir", "o"])
    assert options_from_args(args) == TrainOptions(data="d", outdir="o")


def test_each_flag_reads_its_default_back():
    for f in dataclasses.fields(TrainOptions):
        if f.default in (dataclasses.MISSING, None, ()) or isinstance(f.default, bool):
            continue
        args = build_parser().parse_args(
            ["--data", "d", "--outdir", "o", f.metadata["flag"], str(f.default)]
        )
        assert getattr(options_from_args(args), f.name) == f.default, f.name


def test_the_commands_on_the_model_cards_still_parse():
    commands = []
    for card in sorted(CARDS.glob("*.md")):
        for line in card.read_text().splitlines():
            if line.startswith("stylegan2-train "):
                commands.append(shlex.split(line.split("#")[0])[1:])
    assert len(commands) >= 4
    for argv in commands:
        opts = options_from_args(build_parser().parse_args(argv))
        assert opts.data and opts.outdir
    old = "--data d --outdir o --tick 2 --snap 2 --workers 1 --no-progress --threads 1 "
    old += "--precision mixed --ada-kimg 20 --norm adain --keep 3 --labels --map 2 --target 0.7 "
    old += "--metrics fid50k,pr50k3"
    opts = options_from_args(build_parser().parse_args(old.split()))
    assert (opts.tick_kimg, opts.snap, opts.num_workers, opts.precision) == (2, 2, 1, "mixed")
    assert (opts.ada_kimg, opts.norm, opts.keep, opts.use_labels) == (20, "adain", 3, True)
    assert (opts.map_layers, opts.ada_target, opts.metrics) == (2, 0.7, ("fid50k", "pr50k3"))


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--snap", "0"], "--snap must be positive"),
        (["--batch", "0"], "--batch must be positive"),
        (["--tick", "0"], "--tick must be a finite number above 0"),
        (["--tick", "nan"], "--tick must be a finite number above 0"),
        (["--kimg", "inf"], "--kimg must be a finite number, 0 or more"),
        (["--channel-max", "1000000"], "--channel-max must be at most 8192"),
        (["--seed", "-1"], "--seed must lie in"),
        (["--keep", "-1"], "--keep must be 0"),
        (["--snap-minutes", "-1"], "--snap-minutes must be a finite number, 0 or more"),
        (["--workers", "-1"], "--workers must be at least 0"),
        (["--workers", "300"], "--workers must be at most 256"),
        (["--target", "1"], "--target must lie in (0, 1) (ADA's target), got 1.0"),
        (["--style-mixing", "1.5"], "--style-mixing must lie in [0, 1], got 1.5"),
        (["--ada-kimg", "0"], "--ada-kimg must be a finite number above 0"),
        (["--lr", "-0.1"], "--lr must be a finite number above 0"),
    ],
)
def test_bad_values_are_one_line_errors(flags, words, capsys):
    assert main(["--data", "d", "--outdir", "o", *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stylegan2-train: error: ") and words in err


def test_every_numeric_option_declares_its_bounds():
    import dataclasses

    numeric = [
        f
        for f in dataclasses.fields(TrainOptions)
        if "int" in str(f.type) or "float" in str(f.type)
    ]
    assert len(numeric) > 15
    unbounded = [f.metadata["flag"] for f in numeric if f.metadata["bounds"] is None]
    assert unbounded == [], "declare bounds=... on these options"


def test_options_check_themselves():
    with pytest.raises(ValueError, match="unknown --cfg 'huge'"):
        TrainOptions(data="d", outdir="o", cfg="huge")
    with pytest.raises(ValueError, match="--snap must be positive"):
        TrainOptions(data="d", outdir="o", snap=0)
    from training.options import resolve

    with pytest.raises(ValueError, match=r"6 images per process do not split into .* groups of 4"):
        resolve(TrainOptions(data="d", outdir="o", cfg="small", batch=6), 16, 3, 0)
    assert resolve(
        TrainOptions(data="d", outdir="o", cfg="small", batch=6, mbstd_group=2), 16, 3, 0
    )


def test_outdir_on_a_file_or_a_read_only_folder_is_a_one_line_error(
    tiny_data, tmp_path, capsys, monkeypatch
):
    common = ["--data", str(tiny_data), "--cfg", "small", "--device", "cpu", "--no-progress"]
    a_file = tmp_path / "file"
    a_file.write_text("")
    for outdir in (a_file, a_file / "runs"):
        assert main([*common, "--outdir", str(outdir)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is a file, not a folder" in err
    import training.run_folder

    monkeypatch.setattr(training.run_folder.os, "access", lambda *_a: False)
    assert main([*common, "--outdir", str(tmp_path / "ro")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not writable" in err


def test_resume_latest_with_nothing_to_resume_is_an_error(tiny_data, tmp_path, capsys):
    argv = ["--data", str(tiny_data), "--outdir", str(tmp_path / "r"), "--resume", "latest"]
    assert main([*argv, "--cfg", "small", "--device", "cpu", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--resume latest: no snapshot of a data-small-demod run" in err
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_a_resume_that_fails_leaves_no_run_folder_behind(tiny_data, tmp_path, capsys):
    garbage = tmp_path / "not-a-snapshot.safetensors"
    garbage.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}garbage" * 3)
    out = tmp_path / "r"
    argv = ["--data", str(tiny_data), "--outdir", str(out), "--resume", str(garbage)]
    for _ in range(2):
        assert main([*argv, "--cfg", "small", "--device", "cpu", "--no-progress"]) != 0
        assert "Traceback" not in capsys.readouterr().err
    assert not any(out.iterdir())


def test_only_a_folder_holding_nothing_but_setup_files_is_removed(tmp_path):
    from training.run_folder import remove_if_only_setup

    bare, kept = tmp_path / "00000-bare", tmp_path / "00001-kept"
    for d in (bare, kept):
        d.mkdir()
        (d / "log.txt").write_text("started\n")
        (d / "training_options.json").write_text("{}")
    (kept / "stats.jsonl").write_text("{}\n")
    assert remove_if_only_setup(bare) and not bare.exists()
    assert not remove_if_only_setup(kept) and (kept / "log.txt").is_file()


def _is_number(f: dataclasses.Field) -> bool:
    hint = typing.get_type_hints(TrainOptions)[f.name]
    return any(t in (int, float) for t in (hint, *typing.get_args(hint)))


@pytest.mark.parametrize(
    "flag", [f.metadata["flag"] for f in dataclasses.fields(TrainOptions) if _is_number(f)]
)
def test_no_number_in_a_flag_gives_a_traceback(flag, tmp_path, capsys):
    """Values out of range are refused in one line; the others get as far as the data, which
    is missing here: one line too."""
    common = ["--data", str(tmp_path / "none"), "--outdir", str(tmp_path / "o"), "--device", "cpu"]
    for value in ("0", "-1", "3", "nan", "inf", "-inf", "1e30", "99999999999"):
        try:
            rc = main([*common, flag, value])
        except SystemExit as exc:  # argparse: not a number of the flag's kind (with its usage)
            rc = exc.code
        err = capsys.readouterr().err
        assert rc == 2 and "Traceback" not in err, (flag, value, err)
        assert err.splitlines()[-1].startswith("stylegan2-train: error: "), (flag, value, err)
