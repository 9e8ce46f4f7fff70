"""The thread count: explicit, from the environment, or the cores that other work leaves free."""

from __future__ import annotations

import pytest

from stylegan2.threads import ENV_VAR, MAX_THREADS, choose_threads


def test_explicit_then_environment_then_load():
    assert choose_threads(3, env={ENV_VAR: "5"}).count == 3
    assert choose_threads(None, env={ENV_VAR: "5"}).count == 5
    quiet = choose_threads(None, env={}, cores=2, load=0.1)
    assert quiet.count == 2 and "auto" in quiet.reason
    busy = choose_threads(None, env={}, cores=2, load=2.2)  # `yes > /dev/null` on both cores
    assert busy.count == 1
    assert choose_threads(None, env={}, cores=2, load=1.0).count == 1  # one core taken
    assert choose_threads(None, env={}, cores=16, load=4.0).count == 12
    assert choose_threads(None, env={}, cores=2, load=1.1, own_load=1.0).count == 2


@pytest.mark.parametrize("bad", ["0", "-2", "two", "100000"])
def test_bad_environment_value_is_one_clear_error(bad):
    with pytest.raises(ValueError, match=ENV_VAR):
        choose_threads(None, env={ENV_VAR: bad})
    for count in (0, MAX_THREADS + 1, 100_000):
        with pytest.raises(ValueError, match="--threads"):
            choose_threads(count, env={})
    assert choose_threads(MAX_THREADS, env={}).count == MAX_THREADS


def test_every_command_takes_threads(capsys):
    from commands.main import main

    for cmd in ("generate", "video", "ppl", "project", "metrics", "dataset"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "--threads" in capsys.readouterr().out, cmd
    with pytest.raises(SystemExit) as exit_:  # refused as it is parsed, with the limits
        main(["info", "--threads", "0", "nonexistent.pkl"])
    assert exit_.value.code == 2 and "1-1024" in capsys.readouterr().err


def test_commands_default_to_the_bundled_model(tmp_path, capsys):
    from assets import default_network
    from commands.main import main

    if default_network() is None:
        pytest.skip("no bundled model in this installation")
    assert main(["generate", "--seeds", "0", "--outdir", str(tmp_path)]) == 0
    assert (tmp_path / "seed0000.png").is_file()
    with pytest.raises(SystemExit):
        main(["ppl", "--help"])
    assert "default: the bundled model" in " ".join(capsys.readouterr().out.split())
