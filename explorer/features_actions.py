"""Features tab work of the main window: marking the strongest blob on the image, blob scores
of every layer and resolution usage, as worker jobs (on both networks in compare mode)."""

from __future__ import annotations

import dataclasses

import torch


class FeaturesMixin:
    """Methods of MainWindow for the Features tab."""

    def _mark_blob(self) -> None:
        """Circle the strongest blob of the shown layer on the image (scaled to its pixels)."""
        name, peak = self.features.current_layer(), self.features.peak
        if (
            name is None
            or peak is None
            or self.network_info is None
            or not self.features.mark.isChecked()
        ):
            self.view.mark(None)
            self.twin_view.mark(None)
            return
        res = next(x.resolution for x in self.network_info["layers"] if x.name == name)
        scale = self.network_info["resolution"] / res
        self.view.mark(((peak[1] + 0.5) * scale - 0.5, (peak[0] + 0.5) * scale - 0.5))
        twin_peak, info = self.features.twin_peak, self.compare_info
        twin_res = next((x.resolution for x in (info or {}).get("layers", []) if x.name == name), 0)
        if twin_peak is None or info is None or not twin_res:
            self.twin_view.mark(None)
            return
        scale = info["resolution"] / twin_res
        self.twin_view.mark(
            ((twin_peak[1] + 0.5) * scale - 0.5, (twin_peak[0] + 0.5) * scale - 0.5)
        )

    def _clear_marks(self) -> None:
        self.view.mark(None)
        self.twin_view.mark(None)

    def blob_scores_all_layers(self) -> None:
        from stylegan2.blobs import blob_score

        req = self.model.state.to_request()

        def run(renderer, twin=False):
            from stylegan2.compare import adapt_request

            layers = [x for x in renderer.G.layers() if x.kind != "torgb"]
            r = dataclasses.replace(req, capture=tuple(x.name for x in layers))
            if twin:
                r = adapt_request(r, renderer.G)[0]
            result = renderer.render(r)
            if result.error:
                raise ValueError(result.error)
            scores = {x.name: blob_score(result.captures[x.name]) for x in layers}
            return [
                (
                    x.name,
                    x.resolution,
                    scores[x.name].peak_to_median,
                    scores[x.name].top_energy_share,
                )
                for x in layers
            ]

        self.worker.run_job("blob-scores", run, both=True)

    def resolution_usage(self) -> None:
        from stylegan2.analysis import resolution_usage

        if self.network_info is None or self.network_info["architecture"] != "skip":
            self.statusBar().showMessage("resolution usage needs a skip generator", 6000)
            return
        req = self.model.state.to_request()

        def run(renderer, twin=False):
            from stylegan2.compare import adapt_request

            G = renderer.G
            if G.cfg.synthesis.architecture != "skip":
                return None
            r = adapt_request(req, G)[0] if twin else req
            with torch.no_grad():
                this = resolution_usage(G, renderer.request_ws(r))
                gen = torch.Generator().manual_seed(0)
                z = torch.randn([256, G.z_dim], generator=gen).to(G.device)
                c = None
                if G.c_dim:
                    c = torch.nn.functional.one_hot(torch.arange(256) % G.c_dim, G.c_dim)
                    c = c.float().to(G.device)
                ws = G.mapping(z, c, truncation_psi=r.psi, truncation_cutoff=r.cutoff)
                return [this, resolution_usage(G, ws)]

        self.worker.run_job("usage", run, both=True)

    def _features_jobs(self) -> None:
        if not getattr(self, "_features_jobs_started", False):
            self._features_jobs_started = True
            self.blob_scores_all_layers()
            self.resolution_usage()
