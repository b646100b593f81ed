"""Datasets: reproducible, the right shapes and labels; minibatches; NumPy's legacy stream."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any, Callable, List

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.nn.data import (
    Dataset,
    NumpyLegacyRandom,
    batches,
    blobs,
    circles,
    moons,
    sklearn_moons,
    spirals,
    xor,
)

GENERATORS: List[Callable[..., Dataset]] = [moons, circles, xor, spirals, blobs]


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_same_seed_same_points_other_seed_other_points(make: Callable[..., Dataset]) -> None:
    a, b, c = make(seed=5), make(seed=5), make(seed=6)
    assert a == b
    assert a.X != c.X
    assert make(seed=random.Random(5)) == a


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_global_random_is_used_when_no_seed(make: Callable[..., Dataset]) -> None:
    random.seed(9)
    a = make()
    random.seed(9)
    assert make() == a


@given(n=st.integers(1, 60), noise=st.floats(0.0, 0.5), seed=st.integers(0, 2**32 - 1))
@example(n=1, noise=0.0, seed=0)  # an empty first moon
def test_moons_shape_labels_and_geometry(n: int, noise: float, seed: int) -> None:
    data = moons(n, noise, seed)
    assert len(data.X) == len(data.y) == n
    assert all(len(x) == 2 and all(math.isfinite(v) for v in x) for x in data.X)
    assert Counter(data.y) == Counter({0: n // 2, 1: n - n // 2}) - Counter()
    if noise == 0.0:
        for (a, b), label in zip(data.X, data.y):
            if label == 0:
                assert a * a + b * b == pytest.approx(1.0)
            else:
                assert (a - 1) ** 2 + (b - 0.5) ** 2 == pytest.approx(1.0)
    assert moons(n, noise, seed, signed=True).y == [2 * v - 1 for v in data.y]


def test_circles_radii() -> None:
    data = circles(40, noise=0.0, seed=1, factor=0.3)
    for (a, b), label in zip(data.X, data.y):
        assert math.hypot(a, b) == pytest.approx(0.3 if label else 1.0)


def test_xor_labels_follow_the_corners() -> None:
    data = xor(200, noise=0.1, seed=2)
    for (a, b), label in zip(data.X, data.y):
        assert label == (round(a) ^ round(b))


@given(classes=st.integers(2, 5), n=st.integers(2, 30))
def test_spirals_has_k_classes_of_n_points(classes: int, n: int) -> None:
    data = spirals(n, classes, seed=0)
    assert Counter(data.y) == {k: n for k in range(classes)}
    assert all(math.hypot(*x) <= 1.0 + 1e-12 for x in data.X)


def test_blobs_cluster_around_given_centers() -> None:
    centers = [[0.0, 0.0], [10.0, 10.0]]
    data = blobs(200, centers, std=0.5, seed=3)
    for k, c in enumerate(centers):
        pts = [x for x, y in zip(data.X, data.y) if y == k]
        mean = [sum(p[i] for p in pts) / len(pts) for i in range(2)]
        assert math.dist(mean, c) < 0.2
    assert len(blobs(30, 4, seed=1).X) == 30


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: moons(0), "moons: n must be an int >= 1, got 0"),
        (lambda: moons(10, noise=-1.0), "moons: noise must be a finite number >= 0, got -1.0"),
        (lambda: spirals(10, classes=1), "spirals: classes must be an int >= 2, got 1"),
        (lambda: circles(10, factor=1.5), "factor must be between 0 and 1"),
        (lambda: blobs(10, [[0.0], [1.0, 2.0]]), "points of one dimension"),
        (lambda: list(batches([[1.0]], [1, 2])), "1 inputs but 2 labels"),
        (lambda: list(batches([[1.0]], [1], 0)), "batch_size must be an int >= 1, got 0"),
        (lambda: NumpyLegacyRandom(-1), r"seed must be an int in \[0, 2\*\*32\)"),
    ],
)
def test_bad_arguments_are_named(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_seed_of_wrong_type_is_named() -> None:
    with pytest.raises(TypeError, match="seed: expected an int"):
        moons(10, seed="x")  # type: ignore[arg-type]


@given(n=st.integers(0, 40), size=st.integers(1, 50), seed=st.integers(0, 100), shuffle=st.booleans())
def test_batches_cover_every_point_once(n: int, size: int, seed: int, shuffle: bool) -> None:
    X = [[float(i)] for i in range(n)]
    y = list(range(n))
    got = list(batches(X, y, size, shuffle=shuffle, seed=seed))
    assert all(len(yb) == size for _, yb in got[:-1])
    assert all(len(xb) == len(yb) and all(x[0] == t for x, t in zip(xb, yb)) for xb, yb in got)
    flat = [t for _, yb in got for t in yb]
    assert sorted(flat) == y
    if not shuffle:
        assert flat == y
    assert list(batches(X, y, size, shuffle=shuffle, seed=seed)) == got


def test_one_batch_when_no_size() -> None:
    assert [yb for _, yb in batches([[0.0], [1.0]], [0, 1], shuffle=False)] == [[0, 1]]


# NumPy's own outputs after numpy.random.seed(1337) (numpy 2.4), pinned: random_sample(3),
# standard_normal(3), and shuffle(arange(10)).
def test_numpy_legacy_stream_matches_numpy() -> None:
    r = NumpyLegacyRandom(1337)
    assert [r.random() for _ in range(3)] == [0.2620246750155817, 0.1586839721544656, 0.27812651949435974]
    r = NumpyLegacyRandom(1337)
    assert [r.gauss() for _ in range(3)] == [-0.7031873098624105, -0.49028236278771464, -0.3218143296501526]
    r, items = NumpyLegacyRandom(1337), list(range(10))
    r.shuffle(items)
    assert items == [6, 3, 0, 4, 5, 2, 1, 9, 8, 7]
    r, items = NumpyLegacyRandom(0), list(range(1000))
    r.shuffle(items)
    assert items[:8] == [993, 859, 298, 553, 672, 971, 27, 231]


def test_sklearn_moons_reproduces_micrograds_demo_points() -> None:
    data = sklearn_moons(100, 0.1, 1337)
    assert data.X[0] == [1.1221146075409685, 0.08147717341718697]
    assert data.X[-1] == [0.12108297264758441, 1.0655522522437006]
    assert data.y[:10] == [0, 0, 1, 0, 1, 1, 1, 1, 1, 0]
    assert Counter(data.y) == {0: 50, 1: 50}
