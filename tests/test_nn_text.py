"""The generated corpus and the character vocabulary."""

from __future__ import annotations

import pytest

from tracegrad.nn.text import Vocabulary, sentences


def test_text_and_vocabulary() -> None:
    text = sentences(50, seed=1)
    assert text == sentences(50, seed=1) and text != sentences(50, seed=2)
    assert all(line.endswith(".") for line in text.splitlines())
    vocab = Vocabulary(text)
    assert vocab.decode(vocab.encode(text)) == text
    assert vocab.one_hot([0, 2])[1][2] == 1.0 and sum(vocab.one_hot([3])[0]) == 1.0
    with pytest.raises(ValueError, match="characters not in the vocabulary: \\['Z'\\]"):
        vocab.encode("Z")


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="sentences: n must be a positive int, got 0"):
        sentences(0)
    with pytest.raises(ValueError, match="Vocabulary: expected a non-empty str"):
        Vocabulary("")
