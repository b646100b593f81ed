"""Tiny seeded datasets in pure Python: moons, circles, xor, spirals, blobs; minibatches.

Each generator returns a :class:`Dataset` of ``X`` (a list of feature lists) and ``y`` (a list of
int labels) and takes ``seed`` (an int, a ``random.Random``, or None for the global ``random``
module), so the same call always gives the same points.

>>> data = moons(100, noise=0.1, seed=0)
>>> len(data.X), data.X[0][:1] != [], sorted(set(data.y))
(100, True, [0, 1])
"""

from __future__ import annotations

import math
import random
from typing import Any, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

Seed = Union[int, random.Random, None]
_GLOBAL: Any = random


class Dataset(NamedTuple):
    """Points and their labels: ``X[i]`` is a list of floats, ``y[i]`` its label."""

    X: List[List[float]]
    y: List[int]


def resolve_seed(seed: Seed, who: str = "seed") -> Any:
    """A source of random numbers: the global ``random`` module for None, a new
    ``random.Random(seed)`` for an int, the generator itself otherwise."""
    if seed is None or seed is _GLOBAL:  # the global generator (micrograd draws from it)
        return random
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{who}: expected an int, a random.Random or None, got {type(seed).__name__} {seed!r}")
    return random.Random(seed)


def _check_count(who: str, name: str, n: Any, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
        raise ValueError(f"{who}: {name} must be an int >= {minimum}, got {n!r}")
    return n


def _check_noise(who: str, noise: Any) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not (0 <= noise < math.inf):
        raise ValueError(f"{who}: noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _signed(y: List[int], signed: bool) -> List[int]:
    return [2 * v - 1 for v in y] if signed else y


def _shuffled(rng: Any, X: List[List[float]], y: List[int]) -> Dataset:
    order = list(range(len(X)))
    rng.shuffle(order)
    return Dataset([X[i] for i in order], [y[i] for i in order])


def _linspace(stop: float, n: int) -> List[float]:
    """``n`` evenly spaced points from 0 to ``stop``, both ends included (as numpy.linspace)."""
    if n <= 1:
        return [0.0] * n
    step = stop / (n - 1)
    return [i * step for i in range(n - 1)] + [stop]


def _moon_points(n: int) -> Tuple[List[List[float]], List[int]]:
    n_out, n_in = n // 2, n - n // 2
    outer = [[math.cos(t), math.sin(t)] for t in _linspace(math.pi, n_out)]
    inner = [[1 - math.cos(t), 1 - math.sin(t) - 0.5] for t in _linspace(math.pi, n_in)]
    return outer + inner, [0] * n_out + [1] * n_in


def moons(n: int = 100, noise: float = 0.1, seed: Seed = None, *, signed: bool = False) -> Dataset:
    """Two interleaving half circles (label 0 on top, 1 below), shuffled, with Gaussian noise.

    Args:
        n: number of points (``n // 2`` on the first moon).
        noise: standard deviation of the noise added to each coordinate.
        seed: an int, a ``random.Random``, or None for the global ``random`` module.
        signed: labels -1/+1 (for the hinge loss) instead of 0/1.
    """
    _check_count("moons", "n", n)
    sigma = _check_noise("moons", noise)
    rng = resolve_seed(seed)
    X, y = _moon_points(n)
    data = _shuffled(rng, X, y)
    X = [[a + rng.gauss(0.0, sigma), b + rng.gauss(0.0, sigma)] for a, b in data.X]
    return Dataset(X, _signed(data.y, signed))


def circles(n: int = 100, noise: float = 0.05, seed: Seed = None, *, factor: float = 0.5,
            signed: bool = False) -> Dataset:
    """A small circle (label 1) inside a large one (label 0), radius ratio ``factor``."""
    _check_count("circles", "n", n)
    sigma = _check_noise("circles", noise)
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must be between 0 and 1, got {factor!r}")
    rng = resolve_seed(seed)
    n_out, n_in = n // 2, n - n // 2
    X = [[math.cos(2 * math.pi * i / n_out), math.sin(2 * math.pi * i / n_out)] for i in range(n_out)]
    X += [[factor * math.cos(2 * math.pi * i / n_in), factor * math.sin(2 * math.pi * i / n_in)] for i in range(n_in)]
    data = _shuffled(rng, X, [0] * n_out + [1] * n_in)
    X = [[a + rng.gauss(0.0, sigma), b + rng.gauss(0.0, sigma)] for a, b in data.X]
    return Dataset(X, _signed(data.y, signed))


def xor(n: int = 100, noise: float = 0.1, seed: Seed = None, *, signed: bool = False) -> Dataset:
    """Points around the four corners of the unit square; label = x1 XOR x2 of the corner."""
    _check_count("xor", "n", n)
    sigma = _check_noise("xor", noise)
    rng = resolve_seed(seed)
    corners = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
    X, y = [], []
    for i in range(n):
        a, b = corners[i % 4]
        X.append([a + rng.gauss(0.0, sigma), b + rng.gauss(0.0, sigma)])
        y.append(int(a) ^ int(b))
    data = _shuffled(rng, X, y)
    return Dataset(data.X, _signed(data.y, signed))


def spirals(n: int = 100, classes: int = 3, noise: float = 0.2, seed: Seed = None) -> Dataset:
    """``classes`` interleaved spiral arms of ``n`` points each (labels 0..classes-1).

    The classic test that a linear classifier fails and a small MLP with softmax passes.
    """
    _check_count("spirals", "n", n)
    _check_count("spirals", "classes", classes, 2)
    sigma = _check_noise("spirals", noise)
    rng = resolve_seed(seed)
    X, y = [], []
    for k in range(classes):
        for i in range(n):
            r = i / max(n - 1, 1)
            t = k * 2 * math.pi / classes + r * 4.0 + rng.gauss(0.0, sigma)
            X.append([r * math.sin(t), r * math.cos(t)])
            y.append(k)
    return _shuffled(rng, X, y)


def blobs(n: int = 100, centers: Union[int, Sequence[Sequence[float]]] = 3, std: float = 0.5,
          seed: Seed = None, *, box: Tuple[float, float] = (-5.0, 5.0)) -> Dataset:
    """Gaussian clusters: ``centers`` given as points, or a count of centers drawn in ``box``.

    Point ``i`` belongs to cluster ``i % len(centers)``, its label.
    """
    _check_count("blobs", "n", n)
    sigma = _check_noise("blobs", std)
    rng = resolve_seed(seed)
    if isinstance(centers, int):
        _check_count("blobs", "centers", centers)
        points = [[rng.uniform(*box), rng.uniform(*box)] for _ in range(centers)]
    else:
        points = [[float(c) for c in center] for center in centers]
        if not points or len({len(p) for p in points}) != 1:
            raise ValueError(f"blobs: centers must be points of one dimension, got {centers!r}")
    X, y = [], []
    for i in range(n):
        k = i % len(points)
        X.append([c + rng.gauss(0.0, sigma) for c in points[k]])
        y.append(k)
    return _shuffled(rng, X, y)


def batches(X: Sequence[Any], y: Sequence[Any], batch_size: Optional[int] = None, *, shuffle: bool = True,
            seed: Seed = None) -> Iterator[Tuple[List[Any], List[Any]]]:
    """Minibatches ``(Xb, yb)`` covering the data once; the last one may be smaller.

    Args:
        batch_size: points per batch; None for one batch of everything.
        shuffle: visit the points in a random order (drawn from ``seed``).

    >>> [yb for _, yb in batches([[0], [1], [2]], [0, 1, 2], 2, shuffle=False)]
    [[0, 1], [2]]
    """
    if len(X) != len(y):
        raise ValueError(f"batches: {len(X)} inputs but {len(y)} labels")
    size = len(X) if batch_size is None else _check_count("batches", "batch_size", batch_size)
    order = list(range(len(X)))
    if shuffle:
        resolve_seed(seed).shuffle(order)
    for start in range(0, len(order), max(size, 1)):
        idx = order[start : start + size]
        yield [X[i] for i in idx], [y[i] for i in idx]


# --- NumPy's legacy random stream, for reproducing datasets made after numpy.random.seed(s)


class NumpyLegacyRandom:
    """The numbers ``numpy.random`` gives after ``numpy.random.seed(seed)``, in pure Python.

    NumPy's legacy generator is the Mersenne Twister, as Python's ``random`` is; only the
    seeding differs (NumPy uses the generator's plain integer seeding). So this sets up that
    state and then uses Python's generator for the 32-bit words and the 53-bit doubles.
    """

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise ValueError(f"NumpyLegacyRandom: seed must be an int in [0, 2**32), got {seed!r}")
        mt = [seed]
        for i in range(1, 624):
            mt.append((1812433253 * (mt[-1] ^ (mt[-1] >> 30)) + i) & 0xFFFFFFFF)
        self._gen = random.Random()
        self._gen.setstate((3, (*mt, 624), None))
        self._spare: Optional[float] = None

    def random(self) -> float:
        """A double in [0, 1), as ``numpy.random.random_sample``."""
        return self._gen.random()

    def _interval(self, top: int) -> int:
        """An int in [0, top] by masked rejection, as NumPy's legacy shuffle draws it."""
        if top == 0:
            return 0
        mask = top
        for shift in (1, 2, 4, 8, 16):
            mask |= mask >> shift
        while True:
            value = self._gen.getrandbits(32) & mask
            if value <= top:
                return value

    def shuffle(self, items: List[Any]) -> None:
        """Shuffle in place, as ``numpy.random.shuffle`` does a 1-d array."""
        for i in range(len(items) - 1, 0, -1):
            j = self._interval(i)
            items[i], items[j] = items[j], items[i]

    def gauss(self) -> float:
        """A standard normal number by the polar method, as ``numpy.random.standard_normal``."""
        if self._spare is not None:
            value, self._spare = self._spare, None
            return value
        while True:
            x1 = 2.0 * self.random() - 1.0
            x2 = 2.0 * self.random() - 1.0
            r2 = x1 * x1 + x2 * x2
            if 0.0 < r2 < 1.0:
                break
        f = math.sqrt(-2.0 * math.log(r2) / r2)
        self._spare = f * x1
        return f * x2


def sklearn_moons(n_samples: int = 100, noise: float = 0.1, numpy_seed: int = 1337) -> Dataset:
    """The points of scikit-learn's ``make_moons(n_samples, noise)`` after ``numpy.random.seed(numpy_seed)``.

    This is the dataset of micrograd's demo notebook (which seeds NumPy with 1337), made without
    NumPy or scikit-learn: the same construction, shuffle and noise, drawn from
    :class:`NumpyLegacyRandom`.
    """
    _check_count("sklearn_moons", "n_samples", n_samples)
    sigma = _check_noise("sklearn_moons", noise)
    rng = NumpyLegacyRandom(numpy_seed)
    X, y = _moon_points(n_samples)
    order = list(range(n_samples))
    rng.shuffle(order)
    X, y = [X[i] for i in order], [y[i] for i in order]
    X = [[a + sigma * rng.gauss(), b + sigma * rng.gauss()] for a, b in X]
    return Dataset(X, y)
