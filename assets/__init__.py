"""Models trained by this project's own trainer and shipped with the package (see models/*.md for
each model card): the explorer opens `DEFAULT_MODEL` when started without arguments."""

DEFAULT_MODEL = "emoji64-stylegan2.safetensors"
