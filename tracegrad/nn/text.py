"""Text for a character model: a generated corpus of simple sentences, and a vocabulary of characters.

The corpus is made here from a small grammar with a seeded generator, so nothing is downloaded
and every run sees the same text; its patterns (words, spaces, a full stop and a new line per
sentence) are what a tiny model can learn in minutes.

>>> text = sentences(3, seed=0)
>>> text.count("\\n")
3
>>> vocab = Vocabulary(text)
>>> vocab.decode(vocab.encode("the")) == "the"
True
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from .data import resolve_seed

SUBJECTS = ("the cat", "the dog", "a bird", "my friend", "the old man", "a little girl", "the farmer",
            "our teacher", "a fox", "the baker")
VERBS = ("sees", "likes", "finds", "eats", "wants", "brings", "paints", "hides")
OBJECTS = ("the ball", "a red apple", "the fish", "some bread", "a green hat", "the book", "a big cake",
           "the moon", "two eggs", "her bike")
ENDINGS = ("", "", " today", " at home", " again", " in the garden", " every day")


def sentences(n: int, seed: Any = 0) -> str:
    """``n`` sentences such as ``the old man finds a red apple today.``, one per line."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"sentences: n must be a positive int, got {n!r}")
    rng = resolve_seed(seed, "seed")
    lines = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(ENDINGS)}.\n"
             for _ in range(n)]
    return "".join(lines)


class Vocabulary:
    """The characters of a text, each with an id (in sorted order): ``encode`` and ``decode``."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise ValueError("Vocabulary: expected a non-empty str")
        self.chars: List[str] = sorted(set(text))
        self.ids: Dict[str, int] = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> List[int]:
        """The ids of the characters of ``text``."""
        unknown = sorted(set(text) - set(self.ids))
        if unknown:
            raise ValueError(f"Vocabulary.encode: characters not in the vocabulary: {unknown!r}")
        return [self.ids[c] for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of a list of ids."""
        return "".join(self.chars[i] for i in ids)

    def one_hot(self, ids: Sequence[int]) -> List[List[float]]:
        """One row per id, 1.0 at the id and 0.0 elsewhere."""
        rows = [[0.0] * len(self.chars) for _ in ids]
        for row, i in zip(rows, ids):
            row[i] = 1.0
        return rows
