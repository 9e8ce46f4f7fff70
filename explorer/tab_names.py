"""The explorer's tab names, importable without Qt (the command line checks --tab first)."""

TAB_NAMES = ("Latent", "Mixing", "Directions", "Noise", "Features", "Path", "Speed")
