"""The main window: its state, the network and render round trip, finished worker jobs, settings
and lifetime. Layout, tabs' work and files are mixins in their own modules (see MainWindow)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow

from explorer.compare_mode import CompareMixin
from explorer.directions_actions import DirectionsMixin
from explorer.features_actions import FeaturesMixin
from explorer.file_actions import FilesMixin
from explorer.gc_guard import GuiThreadCollector
from explorer.path_actions import PathMixin
from explorer.projection_actions import ProjectionMixin
from explorer.screenshot import ScreenshotMixin
from explorer.state import StateModel
from explorer.window_layout import TAB_NAMES, LayoutMixin
from explorer.worker import RenderWorker
from stylegan2.render import RenderResult

#: where restore() keeps a remembered session it could not read
UNREAD_SESSION_KEY = "last_state_unreadable"

log = logging.getLogger(__name__)
NETWORK_FILTER = "StyleGAN2 networks (*.pkl *.pt *.pth *.safetensors);;All files (*)"
__all__ = ["NETWORK_FILTER", "TAB_NAMES", "MainWindow"]


class MainWindow(
    LayoutMixin,
    CompareMixin,
    FeaturesMixin,
    PathMixin,
    ProjectionMixin,
    DirectionsMixin,
    FilesMixin,
    ScreenshotMixin,
    QMainWindow,
):
    """The explorer's window. Its methods live in one mixin per concern (layout, compare,
    features, path, projection, directions, files, screenshot); this class holds the state,
    the network and render round trip, the dispatch of finished worker jobs, and the lifetime."""

    first_image_shown = Signal()

    def __init__(self, device: str = "auto", settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("StyleGAN2 Explorer")
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("stylegan2-explorer", "explorer")
        self.device = device
        self.model = StateModel()
        self.collector = GuiThreadCollector(self)
        self.worker = RenderWorker()
        self.worker.result_ready.connect(self._on_result)
        self.worker.network_loaded.connect(self._on_network)
        self.worker.network_failed.connect(self._on_network_failed)
        self.worker.compare_loaded.connect(self._on_compare)
        self.worker.compare_failed.connect(self._on_compare_failed)
        self.worker.job_done.connect(self._on_job)
        self.worker.job_progress.connect(self._on_job_progress)
        self.worker.job_update.connect(self._on_job_update)
        self.next_id = 1
        self.full_timer = QTimer(self)
        self.full_timer.setSingleShot(True)
        self.full_timer.setInterval(250)
        self.full_timer.timeout.connect(self._submit_full)
        self.shown_id = 0
        self.network_path: str | None = None
        self.network_info: dict | None = None
        self.compare_path: str | None = None  # compare mode: a second network beside the first
        self.compare_info: dict | None = None
        self.last_result: RenderResult | None = None
        # False for a --screenshot run: it must not overwrite the remembered session.
        self.persist_settings = True
        self.net_summary = "no network"  # the status bar's text while all renders succeed
        self.load_error: str | None = None  # why the last load_state failed
        self.lpips_weights: str | None = self.settings.value("lpips_weights") or None
        self._build()
        self._init_threads()
        self.model.subscribe(lambda changed: self.request_render())
        self.worker.start()

    # Networks -----------------------------------------------------------------------------------
    def open_network(self, path: str) -> None:
        self.net_label.setText(f"loading {Path(path).name}…")
        self.worker.load_network(path, self.device)

    def open_dialog(self) -> None:
        start = str(Path(self.network_path).parent) if self.network_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open network", start, NETWORK_FILTER)
        if path:
            self.open_network(path)

    def _on_network(self, info: dict, path: str) -> None:
        first = self.network_path is None
        self.network_path, self.network_info = path, info
        self.stack.setCurrentIndex(1)
        self.welcome_error.setText("")
        # What no longer fits (a state restored before this network loaded, or one made for
        # another network) is dropped and named, instead of failing every render.
        misfits = self.model.state.misfits(info["num_ws"], info["w_dim"])
        if misfits:
            self.model.update(**{k: None for k in misfits})
            self.statusBar().showMessage(
                "left out (does not fit this network): " + "; ".join(misfits.values()), 10000
            )
        self.truncation.set_num_ws(info["num_ws"])
        self.noise.set_layers(info["layers"])
        self.mixing.set_layers(info["layers"], info["num_ws"])
        # The first network keeps the offset of a state restored before it loaded.
        self.directions.set_num_ws(info["num_ws"], keep_offset=first)
        self.features.set_layers(info["layers"])
        self.performance.set_preview_available(info["architecture"] == "skip")
        usage = ((info.get("card") or {}).get("figures") or {}).get("resolution_usage") or {}
        share = (usage.get("share") or {}).get(str(info["resolution"]))
        self.performance.set_top_share(
            share if isinstance(share, int | float) else None, info["resolution"]
        )
        self.path_panel.set_resolution(info["resolution"])
        self.latent.set_num_classes(info["c_dim"])
        self.performance.set_device(info["device"], info["device"].startswith("cuda"))
        self.net_summary = (
            f"{Path(path).name} — {info['format']}, {info['resolution']} px, "
            f"{info['num_ws']} ws, {info['normalization']}, {info['architecture']}"
        )
        self.net_label.setText(self.net_summary)
        if self.persist_settings:
            recent = [p for p in self._recent() if p != path]
            self.settings.setValue("recent_networks", [path, *recent][:10])
        self.shown_id = 0
        self.view.image = None
        if self.compare_info is not None and self.compare_path is not None:
            self._on_compare(self.compare_info, self.compare_path)  # captions, feature layers
        self.request_render()
        # Path lengths are the network's: another network (or the first, under a path restored
        # before it loaded) needs its own readout.
        self.path_panel.remeasure()

    def _on_network_failed(self, path: str, error: str) -> None:
        msg = f"Could not open {Path(path).name}: {error}"
        log.warning(msg)
        if self.network_path is None:
            self.welcome_error.setText(msg)
            self.net_label.setText("no network")
        else:
            self.net_label.setText(f"{msg} — still showing {Path(self.network_path).name}")

    def network_loaded_once(self, fn) -> None:
        """Call fn once, after the next main network has loaded (the CLI's --compare)."""

        def once(_info, _path) -> None:
            self.worker.network_loaded.disconnect(once)
            fn()

        self.worker.network_loaded.connect(once)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self._recent()
        for path in recent:
            a = self.recent_menu.addAction(Path(path).name)
            a.setToolTip(path)
            a.setEnabled(Path(path).is_file())
            a.triggered.connect(lambda _=False, p=path: self.open_network(p))
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _recent(self) -> list[str]:
        value = self.settings.value("recent_networks", [])
        return [value] if isinstance(value, str) else list(value or [])

    def most_recent_network(self) -> str | None:
        return next((p for p in self._recent() if Path(p).is_file()), None)

    # Rendering ----------------------------------------------------------------------------------
    def request_render(self) -> None:
        """Render the state; with preview on, a cheap partial image now and the full one once the
        state has been still for a moment (each newer request replaces the older)."""
        if self.network_info is None:
            return
        factor = self.performance.preview_factor()
        if factor:
            res = max(self.network_info["resolution"] // factor, 4)
            req = dataclasses.replace(self._request(), preview_resolution=res)
            self.worker.submit(req)
            self.next_id += 1
            self.full_timer.start()
            return
        self._submit_full()

    def _submit_full(self) -> None:
        self.worker.submit(self._request())
        self.next_id += 1

    def _request(self):
        """The state's request; captures the feature layer only while its tab is shown."""
        layer = self.features.current_layer()
        capture = (layer,) if layer and self.tabs.currentIndex() == self.features_tab else ()
        return self.model.state.to_request(request_id=self.next_id, capture=capture)

    def _on_result(self, result: RenderResult) -> None:
        if result.request_id <= self.shown_id:
            return  # stale: a newer image is already on screen
        self.shown_id = result.request_id
        if result.error:
            self.net_label.setText(f"render error: {result.error}")
            return
        if self.net_label.text().startswith("render error"):
            self.net_label.setText(self.net_summary)  # recovered
        first = self.view.image is None
        self.last_result = result
        self.view.set_image(result.image)
        self.latent.show_w(result.ws)
        twin = result.twin if self.compare_path is not None else None
        if twin is not None:
            if twin.error or twin.image is None:
                self.twin_notes.setText(f"render error: {twin.error}")
            else:
                self.twin_view.set_image(twin.image)
                self.twin_notes.setText("  ".join(result.notes))
        if result.captures and result.preview_resolution is None:
            self.features.show_capture(
                result.captures, twin.captures if twin is not None and not twin.error else None
            )
        self.performance.frame(result.timings, preview=result.preview_resolution is not None)
        kind = "preview" if result.preview_resolution else "frame"
        text = f"{kind} {result.timings.get('total', 0):.0f} ms"
        if self.path_panel.active and self.tabs.currentWidget() is self.path_tab:
            v = self.path_panel.value_at(self.path_panel.time())
            if v is not None:
                text = f"path length here {v:.3g}   " + text
        self.time_label.setText(text)
        if first:
            self.first_image_shown.emit()

    def mixing_grid(self, rows: list[int], cols: list[int], styles: list[int]) -> None:
        from stylegan2.render import style_mixing_grid

        s = self.model.state
        self.statusBar().showMessage(f"rendering a {len(rows)}x{len(cols)} mixing grid…")
        # What the dialog says the grid shows (the grid itself has no labels, as NVIDIA's).
        spans = _ranges(styles)
        caption = (
            f"top row: column seeds {', '.join(map(str, cols))}; left column: row seeds "
            f"{', '.join(map(str, rows))}; each cell: its row seed with ws {spans} from its "
            f"column seed (psi {s.psi:g})"
        )
        self.worker.run_job(
            "mixing-grid",
            # The caption travels with its grid: with two grids queued, each keeps its own.
            lambda r: (
                style_mixing_grid(r, rows, cols, styles, s.psi, s.cutoff, s.noise_mode),
                caption,
            ),
        )

    # Worker jobs --------------------------------------------------------------------------------
    def _on_job_update(self, name: str, payload) -> None:
        if name == "projection":
            self.projection.progress(*payload)

    def _on_job_progress(self, name: str, done: int, total: int) -> None:
        if name == "directions":
            self.directions.info.setText(f"PCA: sampled {done:,} of {total:,} w's")
            return
        if name == "video" and getattr(self, "export_progress", None) is not None:
            self.export_progress.setValue(done)

    def _on_job(self, name: str, result, error: str) -> None:
        if error and name == "projection":
            self.projection.finished(None, f"projection failed: {error}")
            return
        if name == "video" and getattr(self, "export_progress", None) is not None:
            self.export_progress.close()  # done, cancelled or failed
        if error:
            self.statusBar().showMessage(f"{name} failed: {error}", 8000)
            return
        self.statusBar().clearMessage()
        if name == "usage":
            main, twin = result
            if twin is None:
                self.features.show_usage(main)
            else:
                a, b = self.features.names
                labels = [f"{a[:8]} this", f"{a[:8]} avg", f"{b[:8]} this", f"{b[:8]} avg"]
                self.features.show_usage(main + twin, labels)
            return
        if name == "blob-scores":
            self.features.show_all_scores(*result)
            return
        if name == "projection":
            ws, steps, dist_name = result
            cancelled = self._project_cancel.is_set()
            self.projection.finished(
                ws, f"{'cancelled' if cancelled else 'done'} after {steps} steps [{dist_name}]"
            )
            return
        if name == "video":
            out, n = result
            msg = f"wrote {n} frames to {out}" if n else "export cancelled; nothing written"
            self.statusBar().showMessage(msg, 8000)
            return
        if name == "ppl":
            generation, t, value, dist_name = result
            if generation == self.ppl_generation:
                self.path_panel.add_sample(t, value, dist_name)
            return
        if name == "directions":
            self.directions.set_directions(result)
            return
        if name == "mixing-grid":
            from explorer.image_dialog import ImageDialog

            grid, caption = result
            self.grid_dialog = ImageDialog(self, "Style-mixing grid", grid, "mixing-grid.png")
            self.grid_dialog.note.setText(f"{self.grid_dialog.note.text()} · {caption}")
            self.grid_dialog.note.setWordWrap(True)
            self.grid_dialog.show()

    # Lifetime -----------------------------------------------------------------------------------
    def _init_threads(self) -> None:
        """The remembered render thread count (torch's default until one is chosen)."""
        import torch

        try:
            n = int(self.settings.value("render_threads") or 0)
        except (TypeError, ValueError):
            n = 0
        box = self.performance.threads
        box.setValue(n if n > 0 else torch.get_num_threads())
        if n > 0:
            self.worker.set_threads(box.value())
        box.valueChanged.connect(self.set_render_threads)

    def set_render_threads(self, n: int) -> None:
        """CPU threads per frame (remembered; `--threads` sets it too)."""
        self.performance.threads.blockSignals(True)
        self.performance.threads.setValue(n)
        self.performance.threads.blockSignals(False)
        self.worker.set_threads(self.performance.threads.value())
        if self.persist_settings:
            self.settings.setValue("render_threads", self.performance.threads.value())
        self.request_render()

    def restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.settings.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        text = self.settings.value("last_state")
        if isinstance(text, str):
            # A stale or damaged session must never stop the app from starting, and is kept
            # aside rather than replaced on close (a newer version may have written it).
            try:
                self.apply_state_text(text)
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                self.settings.setValue(UNREAD_SESSION_KEY, text)
                self.statusBar().showMessage(
                    f"the remembered session could not be read ({exc}); "
                    f"it is kept in the settings as {UNREAD_SESSION_KEY}",
                    10000,
                )

    def closeEvent(self, e) -> None:
        if self.persist_settings:
            self.settings.setValue("geometry", self.saveGeometry())
            self.settings.setValue("splitter", self.splitter.saveState())
            state = self.model.state.to_json(self.interpolation_dict())
            self.settings.setValue("last_state", state)
        self.latent.timer.stop()
        self.noise.timer.stop()
        self.worker.stop()
        self.collector.stop()
        super().closeEvent(e)

    def select_tab(self, name: str) -> bool:
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i).lower() == name.lower():
                self.tabs.setCurrentIndex(i)
                return True
        return False


def _ranges(indices: list[int]) -> str:
    """[0, 1, 2, 5] -> '0–2, 5'."""
    out: list[str] = []
    for i in sorted(set(indices)):
        if out and out[-1].split("–")[-1] == str(i - 1):
            out[-1] = f"{out[-1].split('–')[0]}–{i}"
        else:
            out.append(str(i))
    return ", ".join(out)
