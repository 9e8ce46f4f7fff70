"""The `stylegan2` command line: generate, mix, convert, info, bench."""
