"""The training page as text: one offline file, its numbers the engine's, names inert; the plots."""

from __future__ import annotations

import json
import math
import zlib
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.nn import MLP, SGD, Adam, History, Neuron, fit
from tracegrad.nn.data import blobs, moons
from tracegrad.nn.losses import binary_cross_entropy, hinge, mse, softmax_cross_entropy
from tracegrad.nn.record import Recorder
from tracegrad.nn.replay import rebuild
from tracegrad.viz import labels
from tracegrad.viz.learning import LearningPage, replay
from tracegrad.viz.notebook import SANDBOX
from tracegrad.viz.png import png
from tracegrad.viz.svgplot import contour, diverging, diverging_all, ticks

import needs
import page_parts
from page_parts import Tags

HOSTILE = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=1">&amp;{}|"\n\\N'


def moons_run(record: Any = True, epochs: int = 6, hidden: int = 4) -> Tuple[MLP, History]:
    model = MLP(2, [hidden, 1], rng=1, fused=True)
    history = fit(model, moons(24, noise=0.1, seed=2, signed=True), hinge, SGD(model.parameters(), lr=0.2),
                  epochs=epochs, progress=False, record=record)
    return model, history


def embedded(page: str) -> Dict[str, Any]:
    return page_parts.embedded(page, "learning-data")


def test_the_page_is_one_offline_file(tmp_path: Any) -> None:
    needs.any_renderer()
    _, history = moons_run()
    path = history.save_html(tmp_path / "page.html")
    with open(path, encoding="utf-8") as f:
        page = f.read()
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]
    assert "default-src 'none'" in page
    tags = Tags(page).tags
    assert [t for t, _ in tags if t == "script"] == ["script", "script"]  # the data, and our own script
    for tag, attrs in tags:
        for key in ("src", "href"):
            assert not attrs.get(key) or attrs[key].startswith(("data:", "#")), (tag, attrs)
    assert not [t for t, _ in tags if t in ("img", "iframe", "link", "object", "embed")]
    assert 'aria-label="Snapshot"' in page and 'aria-label="Play"' in page


def test_the_numbers_on_the_page_are_the_recordings() -> None:
    needs.any_renderer()
    _, history = moons_run(Recorder(every=2))
    data = embedded(replay(history).html)
    run = data["runs"][0]
    rec = history.recording
    assert rec is not None
    assert [r["loss"] for r in run["readouts"]] == [labels.number(s.loss, 4) for s in rec.snapshots]
    assert run["readouts"][-1]["loss"] == labels.number(history.loss[-1], 4)
    assert run["readouts"][-1]["accuracy"] == f"{history.accuracy[-1]:.1%}"
    assert run["network"]["w"][-1].split() == [labels.number(x, 4) for x in rec.snapshots[-1].parameters]
    assert run["network"]["g"][0].split() == [labels.number(x, 4) for x in rec.snapshots[0].gradients]
    assert data["timeline"] == [[k] for k in range(len(rec.snapshots))] and data["start"] == len(rec.snapshots) - 1


def test_a_points_graph_holds_the_engines_numbers() -> None:
    needs.any_renderer()
    _, history = moons_run(epochs=4)
    rec = history.recording
    assert rec is not None and rec.inputs is not None and rec.targets is not None
    run = embedded(replay(history, graph_points=[5]).html)["runs"][0]
    point = run["graph"]["points"]["5"]
    boxes = run["graph"]["structures"][point["structure"]]["boxes"]
    for k, snapshot in enumerate(rec.snapshots):
        model = rebuild(rec.model)  # type: ignore[arg-type]
        for p, x in zip(model.parameters(), snapshot.parameters):
            p.data = x
        xs = [Value(v) for v in rec.inputs[5]]
        out = model(xs)
        loss = hinge([out], [rec.targets[5]])
        loss.backward()
        numbers = point["numbers"][k].split()
        assert len(numbers) == 2 * len(boxes)
        pairs = list(zip(numbers[::2], numbers[1::2]))
        assert pairs[-1] == (labels.number(loss.data, 4), "1")  # the root: its loss, and its seed
        for v in (*xs, out):  # the point's inputs and the model's output, with their gradients
            assert (labels.number(v.data, 4), labels.number(v.grad, 4)) in pairs


def test_the_points_with_a_graph() -> None:
    needs.any_renderer()
    _, history = moons_run(epochs=2)
    everything = embedded(replay(history).html)["runs"][0]["graph"]["points"]
    assert sorted(map(int, everything)) == list(range(24))  # a small run: every point
    few = embedded(replay(history, graph_points=3).html)["runs"][0]["graph"]["points"]
    assert len(few) == 3 and len({history.recording.targets[int(i)] for i in few}) == 2  # type: ignore[union-attr]
    assert embedded(replay(history, graph_points=0).html)["runs"][0]["graph"] is None


def test_a_page_from_a_loaded_recording_is_the_same_page(tmp_path: Any) -> None:
    needs.any_renderer()
    _, history = moons_run(epochs=3)
    loaded = History.load(history.save(tmp_path / "run.json"))
    assert replay(loaded, graph_points=[0, 7]).html == replay(history, graph_points=[0, 7]).html


def test_names_cannot_run_script_or_break_the_page() -> None:
    needs.any_renderer()
    model = MLP(2, [3, 1], rng=0, fused=True)
    recorder = Recorder(inputs=[HOSTILE, "b"], output=HOSTILE, classes=[HOSTILE, "</title>"])
    history = fit(model, moons(12, seed=0, signed=True), hinge, SGD(model.parameters(), lr=0.1), epochs=2,
                  progress=False, record=recorder)
    for page in (replay(history, title=HOSTILE).html, replay({HOSTILE: history, "b": history}).html):
        tags = Tags(page).tags
        assert [t for t, _ in tags if t == "script"] == ["script", "script"]
        assert not [t for t, _ in tags if t in ("img", "iframe")]
        assert "<script>window.pwned" not in page
        json.dumps(embedded(page))  # the data still parses
    assert embedded(replay({HOSTILE: history}).html)["runs"][0]["name"] == HOSTILE  # shown as text, whole


def test_runs_side_by_side_line_up_by_epoch() -> None:
    data = blobs(16, [[-1.0, 0.0], [1.0, 0.0]], std=0.3, seed=0)
    runs = {}
    for size in (4, 16):
        model = MLP(2, [3, 1], rng=0, fused=True)
        runs[f"batch {size}"] = fit(model, data, binary_cross_entropy, Adam(model.parameters(), lr=0.05), epochs=3,
                                    batch_size=size, progress=False, seed=0, record=Recorder(every=1))
    page = replay(runs)
    content = embedded(page.html)
    assert [r["name"] for r in content["runs"]] == ["batch 4", "batch 16"]
    assert content["runs"][0]["network"] is None and content["runs"][0]["graph"] is None  # compact cards
    # batch 4: four steps an epoch (12 snapshots); batch 16: one (3 snapshots)
    assert len(content["timeline"]) == 12
    assert content["timeline"][3] == [3, 0] and content["timeline"][7] == [7, 1] and content["timeline"][-1] == [11, 2]
    last = content["runs"][0]["readouts"][-1]
    assert last["epochLoss"] == labels.number(runs["batch 4"].loss[-1], 4)


def test_regression_views_one_input_and_many() -> None:
    xs = [[c] for c in (-2.0, -1.0, 0.0, 1.0, 2.0)]
    neuron = Neuron(1, activation="linear", rng=0, fused=True)
    line = fit(neuron, (xs, [2 * x[0] + 1 for x in xs]), mse, SGD(neuron.parameters(), lr=0.1), epochs=5,
               progress=False, accuracy=None, record=Recorder(inputs=["°C"], output="°F"))
    run = embedded(replay(line, graph_points=0).html)["runs"][0]
    assert all(path.startswith("M") for path in run["frames"]["lines"])  # the fitted line, each snapshot
    assert run["readouts"][0]["accuracy"] == "—"
    wide = MLP(3, [2, 1], rng=0, fused=True)
    X = [[a, b, a - b] for a in (0.0, 1.0) for b in (0.0, 0.5, 1.0)]
    many = fit(wide, (X, [0, 1, 1, 0, 1, 0]), binary_cross_entropy, Adam(wide.parameters(), lr=0.1), epochs=4,
               progress=False, record=True)
    frames = embedded(replay(many, graph_points=0).html)["runs"][0]["frames"]
    assert [len(m) for m in frames["moves"]] == [6] * 4 and frames["moveAttr"] == "cx"


def test_a_run_that_stopped_says_so() -> None:
    neuron = Neuron(1, activation="linear", rng=0)
    recorder = Recorder()
    with pytest.raises(FloatingPointError):
        fit(neuron, ([[10.0], [20.0]], [1.0, 2.0]), mse, SGD(neuron.parameters(), lr=1e3), epochs=500,
            progress=False, accuracy=None, record=recorder)
    run = embedded(replay(recorder.history, graph_points=0).html)["runs"][0]
    assert run["readouts"][-1]["note"].startswith("Training stopped after this step: fit: at epoch")
    assert all(r["note"] == "" for r in run["readouts"][:-1])


def test_a_softmax_run_gets_a_region_per_class_and_a_graph_per_shape() -> None:
    needs.any_renderer()
    data = blobs(9, [[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]], std=0.4, seed=4)
    model = MLP(2, [3, 3], rng=5, fused=True)
    history = fit(model, data, softmax_cross_entropy, Adam(model.parameters(), lr=0.05), epochs=3, progress=False,
                  record=Recorder(classes=["a", "b", "c"]))
    run = embedded(replay(history).html)["runs"][0]
    assert len(run["graph"]["structures"]) == 3  # the loss reads the logit of the point's own class
    assert run["frames"]["images"][0].startswith("data:image/png;base64,")


def test_without_a_recording_or_graphviz() -> None:
    _, history = moons_run(record=None, epochs=1)
    with pytest.raises(ValueError, match="has no recording; train with fit"):
        replay(history)
    _, history = moons_run(epochs=2)
    page = replay(history, renderer="no-such-renderer").html
    assert "needs Graphviz to be drawn" in page and embedded(page)["runs"][0]["graph"]["structures"] == []


def test_notebooks_show_the_page_inline() -> None:
    needs.any_renderer()
    _, history = moons_run(epochs=2)
    bundle = history._repr_mimebundle_()
    assert bundle["text/html"].startswith("<iframe srcdoc=") and f'sandbox="{SANDBOX}"' in bundle["text/html"]
    assert history._mime_()[0] == "text/html"
    page = history.page(graph_points=0)
    assert isinstance(page, LearningPage) and page.notebook_page()[1] > 500
    _, plain = moons_run(record=None, epochs=1)
    assert plain._repr_mimebundle_() == {"text/plain": repr(plain)} and plain._mime_()[0] == "text/plain"


def test_plot_and_gif(tmp_path: Any) -> None:
    needs.matplotlib()
    _, history = moons_run(epochs=5)
    figure = history.plot()
    assert len(figure.axes) == 3
    path = history.save_gif(tmp_path / "run.gif", frames=3, dpi=30)
    with open(path, "rb") as f:
        assert f.read(6) == b"GIF89a"
    assert [p.name for p in tmp_path.iterdir()] == ["run.gif"]
    _, plain = moons_run(record=None, epochs=1)
    with pytest.raises(ValueError, match="no recording"):
        plain.plot()


# --- the small pieces


def test_png_images_decode() -> None:
    data = png(2, 2, [(255, 0, 0, 255), (0, 255, 0, 128), (0, 0, 255, 0), (1, 2, 3, 4)])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8:start - 4], "big")
    rows = zlib.decompress(data[start:start + length])
    assert rows == bytes([0, 255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 0, 255, 0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="3 pixels for a 2 x 2 image"):
        png(2, 2, [(0, 0, 0)] * 3)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=50), st.floats(1e-6, 1e6))
def test_many_colours_at_once_are_each_colour(values: List[float], scale: float) -> None:
    assert diverging_all(values, scale) == [diverging(v, scale) for v in values]


def test_contours_and_ticks() -> None:
    path = contour([[-1.0, 1.0], [-1.0, 1.0]], [0.0, 10.0], [0.0, 10.0])
    assert path == "M5.0 0.0L5.0 10.0"  # the zero line halfway between the columns
    assert contour([[1.0, 1.0], [1.0, math.nan]], [0.0, 1.0], [0.0, 1.0]) == ""
    assert ticks(-1.1, 2.4) == [-1.0, 0.0, 1.0, 2.0]
    assert ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
