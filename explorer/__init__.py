"""explorer: the PySide6 desktop app for exploring StyleGAN2 latent spaces by hand.

It talks to networks only through `stylegan2.render` (RenderRequest -> RenderResult), rendered
in a worker thread where the newest request wins.
"""
