"""Batched inference shared by the glyph classifiers and their evaluation."""

from __future__ import annotations

from typing import Any

import numpy as np
from glyph_core.recognizer import top_k  # noqa: F401  (the ranking rule lives in glyph-core, which the service shares)


def predict_logits(model: Any, inputs: Any, batch_size: int) -> np.ndarray:
    """Label logits of ``model`` on ``inputs`` (an array or a dict of arrays), batch by batch.

    Models with several outputs return a dict; the label logits are its ``logits`` entry.
    """
    first = next(iter(inputs.values())) if isinstance(inputs, dict) else inputs
    count = len(first)
    parts = []
    for start in range(0, count, batch_size):
        batch = {k: v[start : start + batch_size] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[start : start + batch_size]
        out = model.predict_on_batch(batch)
        parts.append(np.asarray(out["logits"] if isinstance(out, dict) else out, dtype=np.float32))
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def strict_shares(ranked: np.ndarray, truth: np.ndarray) -> dict[str, float | int | None]:
    """Glyph count and the shares whose true label is first / among the ``k`` ranked ids (None for no rows).

    Strict: only the true label counts; `glyph-train evaluate` also forgives identically drawn twins.
    """
    k = ranked.shape[1]
    if not len(truth):
        return {"glyphs": 0, "top1_strict": None, f"top{k}_strict": None}
    hits = ranked == np.asarray(truth)[:, None]
    return {"glyphs": int(len(truth)), "top1_strict": float(hits[:, 0].mean()), f"top{k}_strict": float(hits.any(axis=1).mean())}


def format_share(share: float | None) -> str:
    """A share for a summary line; "-" where there were no rows."""
    return "-" if share is None else f"{share:.4f}"
