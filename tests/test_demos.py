"""Every demo runs and reaches its documented outcome; its pictures are written."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any, List, Sequence

import pytest

import needs

DEMOS = Path(__file__).resolve().parent.parent / "demos"
sys.path.insert(0, str(DEMOS))

needs.matplotlib()

import activations  # noqa: E402
import celsius  # noqa: E402
import compiled  # noqa: E402
import driving_test  # noqa: E402
import edge_filter  # noqa: E402
import fast_spirals  # noqa: E402
import grade_engines  # noqa: E402
import gradients  # noqa: E402
import moons  # noqa: E402
import newton  # noqa: E402
import perceptron  # noqa: E402
import softmax  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def written(files: List[Path], folder: Path, pages: Sequence[Path] = ()) -> None:
    assert files
    for f in files:
        assert f.parent == folder
        assert f.read_bytes()[:8] == PNG
    for page in pages:  # the training pages: whole, offline documents
        assert page.parent == folder
        text = page.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
        assert 'id="learning-data"' in text and "default-src 'none'" in text
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp")]


def test_moons_reaches_100_percent_at_micrograds_step(tmp_path: Path, capsys: Any) -> None:
    outcome = moons.main(str(tmp_path), steps=41, grid=10, progress=False)
    assert outcome.losses[0] == 0.8958441028683222  # micrograd's first loss, every digit
    assert outcome.first_perfect_step == 40
    assert outcome.accuracy[40] == 1.0
    written(outcome.files, tmp_path, [outcome.page])
    out = capsys.readouterr().out
    assert f"writing pictures to {tmp_path}" in out and f"training page: {outcome.page} (" in out


def test_perceptron(tmp_path: Path) -> None:
    outcome = perceptron.main(str(tmp_path))
    assert outcome.weighted_sum == pytest.approx(0.67, abs=1e-12)
    assert outcome.fires
    assert outcome.and_accuracy == 1.0 and outcome.and_epochs is not None
    assert outcome.xor_best_accuracy < 1.0
    assert outcome.mlp_xor_accuracy == 1.0
    assert [round(p) for p in outcome.mlp_xor_outputs] == [0, 1, 1, 0]
    assert outcome.neuron_xor_accuracy <= 0.75  # one line cannot separate XOR, whatever it is trained with
    written(outcome.files, tmp_path, outcome.pages)


def test_celsius_learns_the_conversion_and_the_rates_behave(tmp_path: Path) -> None:
    outcome = celsius.main(str(tmp_path))
    assert abs(outcome.w - 1.8) < 0.01
    assert abs(outcome.b - 32.0) < 0.5
    assert outcome.diverged == {"too small": False, "good": False, "too large": True}
    assert outcome.final_loss["too small"] > 100 * outcome.final_loss["good"]
    large = outcome.histories["lr 0.016 (too large)"].recording
    assert large is not None and "grew a millionfold" in (large.stopped or "")
    written(outcome.files, tmp_path, [outcome.page])


def test_driving_test_numbers(tmp_path: Path) -> None:
    outcome = driving_test.main(str(tmp_path))
    assert outcome.hidden == {"A": (0.0, 0.0), "B": (150.5, 179.5)}
    assert outcome.output_sum["A"] == pytest.approx(-3.0)
    assert outcome.output_sum["B"] == pytest.approx(2.9925)
    assert outcome.pass_probability["A"] == pytest.approx(1 / (1 + math.exp(3.0)))
    assert round(outcome.pass_probability["A"] * 100, 2) == 4.74
    assert round(outcome.pass_probability["B"] * 100, 2) == 95.22
    assert outcome.steps_per_epoch == {1: 64, 16: 4, 64: 1}
    assert all(acc >= 0.9 for acc in outcome.final_accuracy.values())
    written(outcome.files, tmp_path, outcome.pages)


def test_softmax_hot_dog_and_spirals(tmp_path: Path) -> None:
    outcome = softmax.main(str(tmp_path))
    good, poor = outcome.hot_dog_loss.values()
    assert good == pytest.approx(-math.log(0.8)) and poor == pytest.approx(-math.log(0.3))
    assert good < poor
    assert outcome.losses[-1] < outcome.losses[0] / 5
    assert outcome.accuracy >= 0.9
    written(outcome.files, tmp_path, [outcome.page])


def test_activations_derivatives_from_backward(tmp_path: Path) -> None:
    outcome = activations.main(str(tmp_path), points=101)
    i0, i1, im1 = outcome.xs.index(0.0), outcome.xs.index(1.0), outcome.xs.index(-1.0)
    d = outcome.derivatives
    assert d["sigmoid"][i0] == 0.25
    assert d["tanh"][i0] == 1.0
    assert (d["ReLU"][im1], d["ReLU"][i1]) == (0.0, 1.0)
    assert set(d["step"]) == {0.0}
    for name in ("sigmoid", "tanh"):
        v, x = outcome.values[name], outcome.xs
        numeric = (v[i1 + 1] - v[i1 - 1]) / (x[i1 + 1] - x[i1 - 1])
        assert d[name][i1] == pytest.approx(numeric, rel=1e-2)
    written(outcome.files, tmp_path)


def test_edge_filter_shows_the_edge_and_learns_the_filter(tmp_path: Path) -> None:
    outcome = edge_filter.main(str(tmp_path))
    assert outcome.feature_map == [[0.0] * 4, [3.0] * 4, [3.0] * 4, [0.0] * 4]
    for row, want in zip(outcome.learned_filter, edge_filter.EDGE_FILTER):
        assert row == pytest.approx(want, abs=1e-3)
    assert outcome.losses[-1] < 1e-6 * outcome.losses[0]
    written(outcome.files, tmp_path)


def test_newton(tmp_path: Path) -> None:
    outcome = newton.main(str(tmp_path))
    assert outcome.root == pytest.approx(2.0945514815423265, rel=1e-14)
    assert outcome.minimum == pytest.approx(2.25, rel=1e-12)
    want = [[4.0, 2 + math.cos(2.0)], [2 + math.cos(2.0), -math.sin(2.0)]]  # of x²y + x sin(y) at (1, 2)
    for row, want_row in zip(outcome.hessian, want):
        assert row == pytest.approx(want_row, rel=1e-14)
    assert outcome.rosenbrock_steps[-1] == pytest.approx((1.0, 1.0), abs=1e-10)
    written(outcome.files, tmp_path)


def test_grade_engines_finds_each_students_mistake(tmp_path: Path, capsys: Any) -> None:
    outcome = grade_engines.main(["--out", str(tmp_path)], max_examples=100)
    causes = {name: [f.cause for f in report.findings] for name, report in outcome.reports.items()}
    assert causes == {
        "alice": [],
        "bob": ["accumulate", "accumulate", "accumulate"],
        "carol": ["recursion", "not reset"],
        "dan": ["derivative", "derivative"],
    }
    printed = capsys.readouterr().out
    assert "alice    + - * / -x ** (number) exp tanh  passes everything" in printed
    assert (tmp_path / "bob.txt").read_text(encoding="utf-8").startswith("check_engine: bob.Value")
    assert [f.name for f in outcome.files] == ["alice.txt", "bob.txt", "carol.txt", "dan.txt"]


def test_a_demo_runs_as_a_script_into_out_by_default(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(DEMOS / "newton.py")], cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    assert "newton: writing pictures to out/newton/" in result.stdout
    assert (tmp_path / "out" / "newton" / "newton.png").read_bytes()[:8] == PNG


def test_compiled_demo_trains_like_the_eager_engine(capsys: Any) -> None:
    finals = compiled.main(steps=3)
    assert finals["compiled"] == pytest.approx(finals["eager, fused"], rel=1e-12)
    assert "compiled: loss" in capsys.readouterr().out


def test_fast_spirals_learns_five_classes_compiled(capsys: Any) -> None:
    needs.numpy()
    needs.tqdm()
    assert fast_spirals.main(points=100, steps=200, quiet=True) >= 0.95
    out = capsys.readouterr().out
    assert "500 points, 5 classes: accuracy" in out and "NumPy arrays over 500 samples" in out
    assert "one eager step takes" in out


def test_gradients_demo_passes_every_check(capsys: Any) -> None:
    assert gradients.main() == [True, True, True]
    assert "complex step" in capsys.readouterr().out


def test_every_demo_takes_out_as_the_folder_and_refuses_what_it_does_not_know(tmp_path: Path) -> None:
    """`python demos/pictures.py --out FOLDER` wrote into a folder named `--out`."""
    needs.any_renderer()
    folder = tmp_path / "pics"
    done = subprocess.run([sys.executable, str(DEMOS / "pictures.py"), "--out", str(folder)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["mlp.svg", "neuron-practice.html", "neuron-steps.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pics"]  # nothing named --out
    for script in sorted(DEMOS.glob("*.py")):
        if script.name.startswith("_"):
            continue
        refused = subprocess.run([sys.executable, str(script), "--frobnicate"], cwd=tmp_path, capture_output=True,
                                 text=True, timeout=60, check=False)
        assert refused.returncode == 2 and "unrecognized arguments: --frobnicate" in refused.stderr, script.name
