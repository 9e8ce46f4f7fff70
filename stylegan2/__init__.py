"""stylegan2: a clean PyTorch StyleGAN2 (and its AdaIN "config A" twin) with safe checkpoint import.

Import the pieces you need: `stylegan2.networks`, `stylegan2.checkpoints`, `stylegan2.render`.
Importing this package does no work and never imports Qt.
"""

__version__ = "0.1.0"
