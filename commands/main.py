"""Entry point of the `stylegan2` command: every library command, plus dataset, metrics and
bundle."""

from __future__ import annotations

import sys

from commands import bundle, dataset, metrics
from stylegan2.cli import main as library_cli

#: the parser hooks of the commands that need the trainer
TRAINER_COMMANDS = (dataset.add_parser, metrics.add_parser, bundle.add_parser)


def main(argv: list[str] | None = None) -> int:
    return library_cli.main(argv, extra=TRAINER_COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
