"""The `stylegan2` command: the library's commands (stylegan2.cli) plus those that need the
trainer (dataset, metrics over a dataset, bundle), which live here because the library never
imports the trainer."""
