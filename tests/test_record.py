"""Recording training: it changes no number, keeps what it says, and saves and loads like a model file."""

from __future__ import annotations

import json
import math
import os
from typing import Any, List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.nn import MLP, SGD, Adam, History, LoadError, Neuron, fit
from tracegrad.nn import module as nn_module
from tracegrad.nn.data import blobs, moons
from tracegrad.nn.losses import hinge, l2_penalty, mse, softmax_cross_entropy
from tracegrad.nn.record import DEFAULT_MAX_SNAPSHOTS, Recorder


def train(record: Any = None, *, epochs: int = 12, batch_size: Optional[int] = 7, seed: int = 3,
          lr: float = 0.2) -> Tuple[MLP, History]:
    model = MLP(2, [5, 1], rng=seed, fused=True)
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.5)
    history = fit(model, moons(30, noise=0.1, seed=seed, signed=True),
                  lambda out, y: hinge(out, y) + l2_penalty(model.parameters(), 1e-3), optimizer, epochs=epochs,
                  batch_size=batch_size, progress=False, seed=seed, record=record)
    return model, history


@settings(max_examples=15)
@given(seed=st.integers(0, 10_000), batch_size=st.sampled_from([None, 1, 4, 7, 30]), every=st.integers(1, 9))
def test_recording_changes_no_number_of_training(seed: int, batch_size: Optional[int], every: int) -> None:
    plain_model, plain = train(None, batch_size=batch_size, seed=seed, epochs=6)
    model, recorded = train(Recorder(every=every), batch_size=batch_size, seed=seed, epochs=6)
    assert recorded.loss == plain.loss  # bit for bit: lists of floats compared exactly
    assert recorded.batch_loss == plain.batch_loss
    assert recorded.accuracy == plain.accuracy
    assert [p.data for p in model.parameters()] == [p.data for p in plain_model.parameters()]
    assert [p.grad for p in model.parameters()] == [p.grad for p in plain_model.parameters()]
    assert plain.recording is None and recorded.recording is not None


def test_a_snapshot_holds_the_step_its_numbers_come_from() -> None:
    model, history = train(Recorder(every=1), batch_size=None, epochs=5)
    rec = history.recording
    assert rec is not None
    assert [s.step for s in rec.snapshots] == [0, 1, 2, 3, 4] and [s.epoch for s in rec.snapshots] == [0, 1, 2, 3, 4]
    assert [s.loss for s in rec.snapshots] == history.batch_loss == history.loss  # one batch an epoch
    # the epoch's accuracy is the batches' weighted by their sizes: the same fraction, up to rounding
    assert [s.accuracy for s in rec.snapshots] == pytest.approx(history.accuracy, abs=1e-15)
    # the parameters a step used, and the gradients they gave: the next step's parameters follow
    again = MLP(2, [5, 1], rng=3, fused=True)
    assert rec.snapshots[0].parameters == [p.data for p in again.parameters()]
    assert rec.parameter_names == [name for name, _ in model.named_parameters()]
    assert rec.model == {"kind": "MLP", "inputs": 2, "layers": [
        {"size": 5, "activation": "relu", "slope": 0.01}, {"size": 1, "activation": "linear", "slope": 0.01}]}
    assert rec.task == "classification" and rec.steps_per_epoch == 1 and rec.stopped is None
    assert rec.inputs == [list(map(float, x)) for x in moons(30, noise=0.1, seed=3, signed=True).X]


@pytest.mark.parametrize("epochs, batch_size, every, steps", [
    (10, 7, 3, [*range(0, 50, 3), 49]),  # 5 batches an epoch, 50 steps: every 3rd, and the last
    (3, None, 5, [0, 2]),
])
def test_every_kth_step_and_always_the_last(epochs: int, batch_size: Optional[int], every: int,
                                            steps: List[int]) -> None:
    _, history = train(Recorder(every=every), epochs=epochs, batch_size=batch_size)
    assert history.recording is not None
    assert [s.step for s in history.recording.snapshots] == steps


def test_the_default_keeps_a_few_hundred_snapshots_at_most() -> None:
    data = blobs(40, 2, seed=0)
    model = Neuron(2, activation="linear", rng=0, fused=True)
    history = fit(model, data, mse, SGD(model.parameters(), lr=0.01), epochs=60, batch_size=4, progress=False,
                  accuracy=None, record=True)  # 600 steps
    rec = history.recording
    assert rec is not None
    assert rec.every == 4 and len(rec.snapshots) == 151 <= DEFAULT_MAX_SNAPSHOTS  # every 3rd would make 201
    assert rec.snapshots[-1].step == 599 and rec.task == "regression"
    small = fit(model, data, mse, SGD(model.parameters(), lr=0.01), epochs=60, batch_size=4, progress=False,
                accuracy=None, record=Recorder(max_snapshots=10))
    assert small.recording is not None and len(small.recording.snapshots) <= 11


def test_a_run_that_diverges_keeps_its_snapshots_and_says_why() -> None:
    neuron = Neuron(1, activation="linear", rng=0)
    recorder = Recorder()
    with pytest.raises(FloatingPointError, match="smaller learning rate"):
        fit(neuron, ([[10.0], [20.0]], [1.0, 2.0]), mse, SGD(neuron.parameters(), lr=1e3), epochs=500, progress=False,
            accuracy=None, record=recorder)
    rec = recorder.history.recording
    assert rec.stopped is not None and "smaller learning rate" in rec.stopped
    last = rec.snapshots[-1]
    assert last.step == len(recorder.history.batch_loss) - 1  # the last step taken is kept
    assert math.isfinite(last.loss)


def test_a_callback_may_stop_training_and_the_recording_follows() -> None:
    def stop(epoch: int, history: History) -> None:
        if epoch == 4:
            raise KeyboardInterrupt

    model = MLP(2, [5, 1], rng=3, fused=True)
    recorder = Recorder(every=3)
    with pytest.raises(KeyboardInterrupt):
        fit(model, moons(30, noise=0.1, seed=3, signed=True), hinge, SGD(model.parameters(), lr=0.2), epochs=20,
            progress=False, record=recorder, callback=stop)
    rec = recorder.history.recording
    assert [s.step for s in rec.snapshots] == [0, 3, 4]  # the last step taken is kept when asked for
    assert rec.stopped is None


def test_recorder_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="every must be a whole number"):
        Recorder(every=0)
    with pytest.raises(ValueError, match="max_snapshots"):
        Recorder(max_snapshots=True)  # type: ignore[arg-type]
    recorder = Recorder()
    train(recorder, epochs=1)
    with pytest.raises(ValueError, match="records one training run"):
        train(recorder, epochs=1)
    with pytest.raises(ValueError, match="3 input names for inputs of 2 numbers"):
        train(Recorder(inputs=["a", "b", "c"]), epochs=1)
    with pytest.raises(ValueError, match="3 class names for 2 classes"):
        train(Recorder(classes=["a", "b", "c"]), epochs=1)


def test_names_and_a_model_that_is_not_an_mlp() -> None:
    _, history = train(Recorder(inputs=["width", "height"], output="score", classes=["no", "yes"]), epochs=1)
    rec = history.recording
    assert rec is not None
    assert rec.input_names == ["width", "height"] and rec.output_name == "score"
    assert rec.class_names == {-1: "no", 1: "yes"} and rec.class_name(1) == "yes"
    w = Value(0.5, label="w")

    def model(x: List[Any]) -> Value:
        return w * x[0]

    plain = fit(model, ([[1.0], [2.0]], [1.0, 2.0]), mse, SGD([w], lr=0.1), epochs=3, progress=False,
                accuracy=None, record=True)
    assert plain.recording is not None and plain.recording.model is None
    assert plain.recording.parameter_names == ["w"] and plain.recording.class_name(2) == "2"


def test_softmax_targets_and_loss_names_are_kept() -> None:
    data = blobs(30, [[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]], std=0.4, seed=4)
    model = MLP(2, [6, 3], rng=5, fused=True)
    history = fit(model, data, softmax_cross_entropy, Adam(model.parameters(), lr=0.05), epochs=4, progress=False,
                  record=True)
    rec = history.recording
    assert rec is not None and rec.loss_name == "softmax_cross_entropy" and rec.targets == list(data.y)
    assert rec.class_name(2) == "2"


# --- saving and loading


def test_save_and_load_round_trip(tmp_path: Any) -> None:
    _, history = train(Recorder(every=2, inputs=["a", "b"], classes={-1: "minus", 1: "plus"}), epochs=6)
    path = history.save(tmp_path / "run.json")
    again = History.load(path)
    assert again == history  # every number, bit for bit
    assert again.recording is not None and again.recording.live is None
    assert os.listdir(tmp_path) == ["run.json"]


def test_numbers_that_are_not_finite_survive_a_round_trip(tmp_path: Any) -> None:
    _, history = train(Recorder(every=4), epochs=2)
    assert history.recording is not None
    history.recording.snapshots[0].gradients[0] = math.inf
    history.recording.snapshots[0].parameters[1] = -math.inf
    history.recording.snapshots[1].gradients[2] = math.nan
    again = History.load(history.save(tmp_path / "run.json"))
    assert again.recording is not None
    assert again.recording.snapshots[0].gradients[0] == math.inf
    assert again.recording.snapshots[0].parameters[1] == -math.inf
    assert math.isnan(again.recording.snapshots[1].gradients[2])


def test_a_history_without_recording_saves_too(tmp_path: Any) -> None:
    _, history = train(None, epochs=2)
    assert History.load(history.save(tmp_path / "h.json")) == history


def _document(tmp_path: Any) -> Tuple[Any, dict]:  # type: ignore[type-arg]
    _, history = train(Recorder(every=4), epochs=2)
    path = history.save(tmp_path / "run.json")
    with open(path, encoding="utf-8") as f:
        return path, json.load(f)


def test_truncated_files_are_refused(tmp_path: Any) -> None:
    path, _ = _document(tmp_path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for cut in (0, 1, len(text) // 3, len(text) - 1):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text[:cut])
        with pytest.raises(LoadError, match="not a valid history file"):
            History.load(path)


BREAKS = [
    (lambda d: d.update(format="tracegrad.module"), "not a tracegrad history file"),
    (lambda d: d.update(version=2), "format version 2"),
    (lambda d: d.update(loss="many"), "loss must be a list"),
    (lambda d: d["loss"].append("1.0"), "loss must hold numbers"),
    (lambda d: d["accuracy"].append(0.5), "losses but"),
    (lambda d: d["recording"]["snapshots"][0]["parameters"].pop(), "must hold 21 parameters"),
    (lambda d: d["recording"]["snapshots"][0].update(step=-1), "step must be a whole number"),
    (lambda d: d["recording"]["snapshots"].reverse(), "must come after"),
    (lambda d: d["recording"]["model"].update(kind="Transformer"), "model kind must be one of"),
    (lambda d: d["recording"]["model"]["layers"][0].update(activation="__import__"), "unknown activation"),
    (lambda d: d["recording"]["model"]["layers"][0].update(size=6), "the model has 25 parameters"),
    (lambda d: d["recording"]["model"]["layers"][0].update(size=10 ** 9), "size must be"),
    (lambda d: d["recording"].update(task="poetry"), "task must be"),
    (lambda d: d["recording"].update(loss="__class__"), "names no loss"),
    (lambda d: d["recording"].update(loss="os.system"), "names no loss"),
    (lambda d: d["recording"]["inputs"][0].append(1.0), "same width"),
    (lambda d: d["recording"]["inputs"][0].__setitem__(0, "inf"), "inputs must hold numbers"),
    (lambda d: d["recording"]["inputs"][0].__setitem__(0, 10 ** 400), "too large"),
    (lambda d: d["recording"]["names"].update(output="x" * 5000), "at most 200 characters"),
    (lambda d: d["recording"]["names"]["classes"].append([1]), "pairs"),
    (lambda d: d["recording"].update(targets=None), "come together"),
    (lambda d: d["recording"].update(stopped=["no"]), "stopped must be a text"),
    (lambda d: d["recording"].update(every=0), "every must be a whole number >= 1"),
]


@pytest.mark.parametrize("index", range(len(BREAKS)))
def test_hostile_or_corrupt_fields_are_refused_with_their_name(tmp_path: Any, index: int) -> None:
    path, doc = _document(tmp_path)
    breaks, message = BREAKS[index]
    breaks(doc)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    with pytest.raises(LoadError, match=message):
        History.load(path)


@pytest.mark.parametrize("content", ["[" * 100_000 + "]" * 100_000, '{"format": NaN}', "\xff\xfe", "9" * 5000])
def test_hostile_files_are_refused(tmp_path: Any, content: str) -> None:
    path = tmp_path / "h.json"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(LoadError, match="not a valid history file"):
        History.load(path)


def test_oversized_files_are_refused_before_being_read(tmp_path: Any, monkeypatch: Any) -> None:
    path, _ = _document(tmp_path)
    monkeypatch.setattr(nn_module, "MAX_FILE_BYTES", 1000)  # the limit every loader reads
    with pytest.raises(LoadError, match="larger than 1000 bytes"):
        History.load(path)


def test_a_crash_while_saving_keeps_the_old_file_whole(tmp_path: Any, monkeypatch: Any) -> None:
    path, _ = _document(tmp_path)
    with open(path, encoding="utf-8") as f:
        old = f.read()
    _, other = train(Recorder(), epochs=1)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        other.save(path)
    with open(path, encoding="utf-8") as f:
        assert f.read() == old
    assert os.listdir(tmp_path) == ["run.json"]
