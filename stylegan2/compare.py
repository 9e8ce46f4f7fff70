"""Compare mode: one request driving two generators. `adapt_request` carries over what has the
same meaning in the second network (seeds, class, truncation, noise, layer mixing, captured layers
by name) and leaves out, with a note, what is specific to the first one (explicit ws such as a
projection, direction offsets) or does not fit its shapes."""

from __future__ import annotations

import dataclasses

from stylegan2.networks import Generator
from stylegan2.render import Latent, RenderRequest


def _seed_latent(latent: Latent, c_dim: int) -> tuple[Latent, bool, bool]:
    """The latent with any explicit w dropped (W spaces of two networks are unrelated) and its
    class fitted to the second network: (latent, w dropped, class changed)."""
    class_idx = latent.class_idx
    if c_dim == 0:
        class_idx = None
    elif class_idx is None or not 0 <= class_idx < c_dim:
        class_idx = 0 if class_idx is None else min(max(class_idx, 0), c_dim - 1)
    changed = c_dim > 0 and class_idx != latent.class_idx
    dropped_w = latent.w is not None
    seeds = latent.seeds or ((0, 1.0),)
    return Latent(seeds=seeds, w=None, class_idx=class_idx), dropped_w, changed


def adapt_request(req: RenderRequest, G: Generator) -> tuple[RenderRequest, tuple[str, ...]]:
    """`req` as it applies to generator `G`, and notes on what could not carry over."""
    notes: list[str] = []
    latent, dropped, changed = _seed_latent(req.latent, G.c_dim)
    sources = []
    for s in req.style_sources:
        src, d, ch = _seed_latent(s, G.c_dim)
        dropped, changed = dropped or d, changed or ch
        sources.append(src)
    if dropped:
        seeds = ", ".join(str(seed) for seed, _ in latent.seeds)
        notes.append(
            "an explicit w (projection, loaded w, path frame) belongs to the first network: "
            f"the twin shows seed {seeds}"
        )
    if changed:
        notes.append(f"class set to {latent.class_idx} for the twin ({G.c_dim} classes)")
    layer_sources = req.layer_sources
    if layer_sources is not None and len(layer_sources) != G.num_ws:
        notes.append(
            f"style mixing not applied: the twin has {G.num_ws} ws, not {len(layer_sources)}"
        )
        layer_sources, sources = None, []
    w_offset = None
    if req.w_offset is not None:
        notes.append("direction offsets belong to the first network: not applied to the twin")
    names = {info.name for info in G.layers()}
    gains = tuple((k, v) for k, v in req.noise_gains if k in names)
    if len(gains) != len(req.noise_gains):
        notes.append("some per-layer noise settings name layers the twin does not have")
    img_names = {f"b{r}.img" for r in G.synthesis.block_resolutions}
    capture = tuple(k for k in req.capture if k in names or k in img_names)
    preview = req.preview_resolution
    if preview is not None and (
        preview not in G.synthesis.block_resolutions or G.cfg.synthesis.architecture != "skip"
    ):
        preview = None
    cutoff = req.cutoff if req.cutoff is None or req.cutoff <= G.num_ws else None
    twin = dataclasses.replace(
        req,
        latent=latent,
        style_sources=tuple(sources),
        layer_sources=layer_sources,
        w_offset=w_offset,
        noise_gains=gains,
        capture=capture,
        preview_resolution=preview,
        cutoff=cutoff,
    )
    return twin, tuple(notes)
