"""A tiny GPT on Values: token and position embeddings, transformer blocks, next-token logits.

At each position ``t`` the model reads tokens ``0..t`` (each block attends over the keys of the
positions so far: causal by construction) and gives logits for the token at ``t + 1``. It trains
with the mean cross-entropy of those predictions, and samples text one token at a time.

>>> model = GPT(vocab=5, context=4, dim=8, heads=2, rng=0)
>>> logits = model([1, 2, 3])               # one list of 5 logits per position
>>> len(logits), len(logits[0])
(3, 5)
>>> loss = model.loss([1, 2, 3], [2, 3, 4])
>>> loss.backward()
"""

from __future__ import annotations

import math
from typing import Any, List, Optional, Sequence, Tuple, Union

from ..engine import Value, ValueLike, no_grad, value_sum
from .attention import NORMS, Cache, TransformerBlock
from .data import resolve_seed
from .embedding import Embedding, Token
from .linear import Linear, check_size
from .losses import cross_entropy, softmax
from .module import Module
from .norm import EPS

Target = Union[int, Sequence[ValueLike]]
"""A token id to predict, or a row of probabilities over the vocabulary (one-hot: one token)."""


class GPT(Module):
    """A decoder-only transformer over a vocabulary of ``vocab`` tokens.

    Args:
        vocab: the number of tokens.
        context: the longest sequence it reads (positions ``0 .. context-1``).
        dim: the width of every vector.
        heads: attention heads per block.
        layers: the number of :class:`~tracegrad.nn.attention.TransformerBlock`.
        hidden: each block's MLP width (default ``4 * dim``).
        norm: ``"rms"`` or ``"layer"``.
        rng: a ``random.Random``, a seed, or None for the global ``random`` module.
        fused: one node per dot product (fast) or every product and a ``Σ`` node adding them.

    Parameters: ``token.*``, ``position.*`` (embeddings), ``blocks.N.*``, ``norm.*`` (the final
    norm) and ``head.*`` (the map from a vector to the logits, without a bias). The embeddings
    start from a normal distribution with standard deviation 0.5, the linear maps from one with
    ``1/√inputs``, gains at 1 and biases at 0.
    """

    def __init__(self, vocab: int, *, context: int = 16, dim: int = 16, heads: int = 4, layers: int = 1,
                 hidden: Optional[int] = None, norm: str = "rms", rng: Any = None, fused: bool = True) -> None:
        check_size("GPT", "vocab", vocab)
        check_size("GPT", "context", context)
        check_size("GPT", "layers", layers)
        if norm not in NORMS:
            raise ValueError(f"GPT: unknown norm {norm!r}; choose from {sorted(NORMS)}")
        source = resolve_seed(rng, "rng")
        self.context, self.norm_kind, self.fused = context, norm, bool(fused)
        self.token = Embedding(vocab, dim, std=0.5, rng=source, fused=fused)
        self.position = Embedding(context, dim, std=0.5, rng=source, fused=fused)
        self.blocks = [TransformerBlock(dim, heads, hidden=hidden, norm=norm, rng=source, fused=fused)
                       for _ in range(layers)]
        self.norm = NORMS[norm](dim, EPS, fused)
        self.head = Linear(dim, vocab, bias=False, rng=source, fused=fused)
        self._label_parameters()

    @property
    def vocab(self) -> int:
        return self.token.vocab

    @property
    def dim(self) -> int:
        return self.token.dim

    def parts(self) -> List[Tuple[str, Module]]:
        """The sub-modules by name, in parameter order."""
        blocks: List[Tuple[str, Module]] = [(f"blocks.{i}", b) for i, b in enumerate(self.blocks)]
        return [("token", self.token), ("position", self.position), *blocks, ("norm", self.norm), ("head", self.head)]

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [(f"{part}.{name}", p) for part, module in self.parts() for name, p in module.named_parameters()]

    def new_cache(self) -> List[Cache]:
        """Empty caches (one per block), for the first position of a sequence."""
        return [block.new_cache() for block in self.blocks]

    def step(self, token: Token, cache: List[Cache]) -> List[Value]:
        """The logits for the token after ``token``, which stands at position ``len(cache[0])``."""
        t = len(cache[0])
        if t >= self.context:
            raise ValueError(f"{self!r}: the sequence is longer than the context of {self.context} tokens")
        x = [a + b for a, b in zip(self.token(token), self.position(t))]
        for block, block_cache in zip(self.blocks, cache):
            x = block.step(x, block_cache)
        return self.head(self.norm(x))

    def __call__(self, tokens: Sequence[Token]) -> List[List[Value]]:
        """The logits at every position: those at ``t`` predict the token at ``t + 1``."""
        if not tokens:
            raise ValueError(f"{self!r}: no tokens")
        cache = self.new_cache()
        return [self.step(token, cache) for token in tokens]

    def loss(self, inputs: Sequence[Token], targets: Sequence[Target]) -> Value:
        """The mean cross-entropy of predicting ``targets[t]`` from ``inputs[0..t]``.

        Tokens and targets may be ids or one-hot rows (the rows make the graph the same for every
        text, which is what ``compile`` needs).
        """
        if len(inputs) != len(targets):
            raise ValueError(f"{self!r}.loss: {len(inputs)} inputs but {len(targets)} targets")
        logits = self(inputs)
        return value_sum([cross_entropy(z, y) for z, y in zip(logits, targets)]) * (1.0 / len(logits))

    def generate(self, prompt: Sequence[int], n: int, *, temperature: float = 1.0, rng: Any = None) -> List[int]:
        """``n`` more tokens after ``prompt``, each drawn from the model's predicted probabilities.

        Records no graph (``no_grad``). When the context is full, the oldest tokens are dropped.
        """
        if not prompt:
            raise ValueError(f"{self!r}.generate: the prompt needs at least one token")
        if not (isinstance(temperature, (int, float)) and 0 < temperature < math.inf):
            raise ValueError(f"{self!r}.generate: temperature must be a positive number, got {temperature!r}")
        source = resolve_seed(rng, "rng")
        tokens = list(prompt)
        cache: Optional[List[Cache]] = None
        with no_grad():
            for _ in range(n):
                window = tokens[-self.context :]
                if cache is None or len(cache[0]) == self.context:  # start (again) on the latest tokens
                    cache = self.new_cache()
                    for token in window[:-1]:
                        self.step(token, cache)
                logits = self.step(window[-1], cache)
                probs = [p.data for p in softmax([z * (1.0 / temperature) for z in logits])]
                tokens.append(source.choices(range(self.vocab), weights=probs)[0])
        return tokens[len(prompt) :]

    def __repr__(self) -> str:
        return (f"GPT(vocab={self.vocab}, context={self.context}, dim={self.dim}, "
                f"heads={self.blocks[0].heads}, layers={len(self.blocks)})")

    def to_torch(self) -> Any:
        """An equivalent PyTorch module (float64) with copies of these weights: it maps a
        ``(batch, time)`` tensor of token ids to ``(batch, time, vocab)`` logits."""
        from .torch_export import gpt_to_torch

        return gpt_to_torch(self)
