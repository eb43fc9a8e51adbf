"""One API call as data (method, path, parameters, body, how to decode the answer), shared by the
typed clients (glyph_core.client) and their recognition calls."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
import numpy as np
from pydantic import BaseModel

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def decode_model(model: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: model.model_validate_json(response.content)


def decode_npy(response: httpx.Response) -> np.ndarray:
    return np.load(io.BytesIO(response.content), allow_pickle=False)


def decode_bytes(response: httpx.Response) -> bytes:
    return response.content


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: what to send and how to decode a successful answer."""

    method: str
    path: str
    decode: Callable[[httpx.Response], T]
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
