"""Models trained by this project's own trainer and shipped with the package (see models/*.md for
each model card): the explorer opens `DEFAULT_MODEL` when started without arguments."""

from __future__ import annotations

from importlib import resources

DEFAULT_MODEL = "faces64-stylegan2.safetensors"
#: The default model's AdaIN (config-A) twin: same data, recipe and kimg (offered by Compare).
TWIN_MODEL = "faces64-adain.safetensors"


def default_network() -> str | None:
    """The bundled default model's path, when it ships with the package: what the explorer opens
    and every command uses when no --network is given."""
    candidate = resources.files(__name__).joinpath("models", DEFAULT_MODEL)
    return str(candidate) if candidate.is_file() else None


def bundled_networks() -> list[str]:
    """Every model shipped in assets/models (the explorer's Compare menu offers them)."""
    folder = resources.files(__name__).joinpath("models")
    if not folder.is_dir():
        return []
    return sorted(str(p) for p in folder.iterdir() if str(p).endswith(".safetensors"))
