"""The explorer state without Qt: seed plane, requests, JSON, listeners."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.state import ExplorerState, StateModel
from stylegan2.checkpoints import load_network
from stylegan2.render import Renderer, request_from_dict, request_to_dict


def test_seed_plane_weights():
    s = ExplorerState(seed_x=2.25, seed_y=1.5, seed_stride=1000)
    w = dict(s.seed_weights())
    assert w == pytest.approx({2 + 1000: 0.375, 3 + 1000: 0.125, 2 + 2000: 0.375, 3 + 2000: 0.125})
    assert dict(ExplorerState(seed_x=4.0).seed_weights()) == {4: 1.0}
    assert ExplorerState(seed_x=4.0, seed_y=2.0).seed == 2004


def test_all_layers_from_b_gives_b(explorer_network):
    r = Renderer(load_network(explorer_network))
    b = r.render(ExplorerState(seed_x=7.0).to_request()).image
    mixed = ExplorerState(seed_x=3.0, mix_seeds=[7], layer_sources=[1] * r.G.num_ws)
    assert np.array_equal(r.render(mixed.to_request()).image, b)


def test_json_round_trip_and_embedded_request():
    s = ExplorerState(
        seed_x=1.5,
        psi=0.5,
        cutoff=2,
        noise_gains={"b8.conv0": 0.0},
        mix_seeds=[4],
        layer_sources=[0, 0, 1, 1, 1, 1],
        w=None,
    )
    assert ExplorerState.from_json(s.to_json()) == s
    req = s.to_request()
    again = request_from_dict(request_to_dict(req))
    assert request_to_dict(again) == request_to_dict(req)
    with pytest.raises(ValueError):
        ExplorerState.from_json('{"state": {"bogus": 1}}')


def test_model_notifies_changed_fields_once():
    model = StateModel()
    seen = []
    model.subscribe(seen.append)
    model.update(psi=0.5, cutoff=None)  # cutoff unchanged
    model.update(psi=0.5)  # nothing changed
    assert seen == [{"psi"}]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("noise_mode", "bogus", "noise_mode must be one of"),
        ("noise_gains", ["b8.conv0"], "noise_gains must map"),
        ("noise_gains", {"b8.conv0": 1e308}, "numbers from 0 to 1000"),
        ("seed_x", 10**400, "seed_x must be a finite number"),
        ("mix_seeds", [1, -2], "mix_seeds must be"),
        ("layer_sources", [0, 3], "layer_sources must list"),
        ("cutoff", 1.5, "cutoff must be"),
        ("w", [[1.0, "x"]], "w must be an array of numbers"),
        ("w_offset", [1.0, 2.0], "w_offset must be a finite 2-D array"),
    ],
)
def test_bad_state_fields_are_refused_by_name(field, value, message):
    doc = json.loads(ExplorerState().to_json())
    doc["state"][field] = value
    with pytest.raises(ValueError, match=message):
        ExplorerState.from_json(json.dumps(doc))


def test_state_shapes_are_checked_against_the_network():
    ok = ExplorerState(w=np.zeros((4, 8)).tolist(), layer_sources=[0, 0, 0, 0])
    ok.check_for(4, 8)
    ExplorerState(w=np.zeros(8).tolist()).check_for(4, 8)
    with pytest.raises(ValueError, match=r"w has shape \(3, 8\)"):
        ExplorerState(w=np.zeros((3, 8)).tolist()).check_for(4, 8)
    with pytest.raises(ValueError, match="layer_sources has 2 entries"):
        ExplorerState(layer_sources=[0, 0]).check_for(4, 8)
    with pytest.raises(ValueError, match="w_offset has shape"):
        ExplorerState(w_offset=np.zeros((4, 9)).tolist()).check_for(4, 8)
    ExplorerState(class_idx=2).check_for(4, 8, 3)
    with pytest.raises(ValueError, match="class 5 is beyond this network's 3 classes"):
        ExplorerState(class_idx=5).check_for(4, 8, 3)
    with pytest.raises(ValueError, match="class 0: this network is not conditional"):
        ExplorerState(class_idx=0).check_for(4, 8, 0)


def test_a_state_file_as_editors_write_it_and_numbers_beyond_python():
    text = ExplorerState(seed_x=3).to_json()
    assert ExplorerState.from_json("\ufeff" + text).seed_x == 3  # a byte-order mark is fine
    doc = json.loads(text)
    with pytest.raises(ValueError, match="more than 4300 digits"):
        ExplorerState.from_json(text.replace('"seed_x": 3', '"seed_x": ' + "9" * 5000))
    assert doc["state"]["seed_x"] == 3


@pytest.mark.parametrize(
    "change, message",
    [
        ({"loop": "no"}, "loop must be true or false, got 'no'"),
        ({"keyframes": [{"latent": {"seeds": []}}, {"latent": {"seeds": [[2, 1.0]]}}]},
         "keyframe 0: a latent needs at least one seed or a w"),
        ({"keyframes": [{"latent": {"seeds": [[1, 1e308]]}}] * 2}, "seed weights must be finite"),
        ({"base": {"latent": {"seeds": [[0, 1.0]]}, "force_fp32": "yes"}}, "force_fp32 must be"),
        ({"base": {"latent": {"seeds": [[0, 1.0]]}, "noise_gains": [["b4.conv1", 1e9]]}},
         "noise gains must lie within"),
    ],
)  # fmt: skip
def test_paths_refuse_what_bool_or_float_would_misread(change, message):
    from stylegan2.paths import path_from_dict

    keys = [{"latent": {"seeds": [[s, 1.0]]}, "duration": 1.0} for s in (0, 1)]
    with pytest.raises(ValueError, match=message):
        path_from_dict({"keyframes": keys, **change})
