"""explorer: the PySide6 desktop app for exploring StyleGAN2 latent spaces by hand.

It talks to networks only through the library: `stylegan2.render` (RenderRequest ->
RenderResult), rendered in a worker thread where the newest request wins, and the library's
analyses (blobs, resolution usage, PPL, projection, directions), which jobs hand the network to.

How it is put together:
- `state.StateModel` and `path_model.PathModel`: what the user has set, as plain evented Python.
- `panels/`: one widget per panel; a panel reads and writes a model, or says what it wants with
  a signal.
- `worker.RenderWorker`: owns the open networks (the first, then any compared with it); every
  request comes back as a `Frame` with one result per network; longer work is
  `run_job(fn, on_done, on_progress)`.
- `context.Context`: the worker, the state model, the open networks' `NetworkInfo`, a status
  sink and the preferences; each controller in `controllers/` (and `frames`, the render round
  trip) is built from it and the widgets it drives.
- `main_window.MainWindow`: builds the widgets (`window_layout`), the context and the
  controllers, and wires them.

docs/architecture.md says what a new panel or tab needs.
"""
