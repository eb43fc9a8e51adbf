"""The recognition routes in the typed clients (docs/serve.md): the calls, and the methods that
``GlyphgridClient`` and ``AsyncGlyphgridClient`` gain from them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from glyph_core.api_call import Call, decode_model
from glyph_core.api_models import FontMetricsIn, RasterizeRequest
from glyph_core.api_recognition import (
    ClassifyBatchRequest,
    ClassifyRequest,
    ClassifyResponse,
    Prediction,
    ReviewPage,
    ReviewSort,
    SimilarRequest,
    SimilarResponse,
)

Outline = tuple[list[Any] | str, FontMetricsIn | Mapping[str, Any] | None]


def _outline(contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None) -> RasterizeRequest:
    return RasterizeRequest(contours=contours, font=FontMetricsIn.model_validate(font) if font is not None else None)


def _options(**options: Any) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}


class RecognitionCalls:
    """Every recognition call, without I/O."""

    @staticmethod
    def classify(
        contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None = None, *, top_k: int | None = None, explain: bool = False
    ) -> Call[ClassifyResponse]:
        body = ClassifyRequest(**_outline(contours, font).model_dump(), top_k=top_k, explain=explain)
        return Call("POST", "/v1/classify", decode_model(ClassifyResponse), json=body.model_dump(mode="json", exclude_none=True))

    @staticmethod
    def classify_batch(outlines: Sequence[Outline], *, top_k: int | None = None, explain: bool = False) -> Call[ClassifyResponse]:
        body = ClassifyBatchRequest(glyphs=[_outline(c, f) for c, f in outlines], top_k=top_k, explain=explain)
        return Call("POST", "/v1/classify", decode_model(ClassifyResponse), json=body.model_dump(mode="json", exclude_none=True))

    @staticmethod
    def prediction(glyph_id: int, *, top_k: int | None = None, explain: bool = True) -> Call[Prediction]:
        params = _options(top_k=top_k, explain=str(explain).lower())
        return Call("GET", f"/v1/glyphs/{int(glyph_id)}/prediction", decode_model(Prediction), params)

    @staticmethod
    def similar(glyph_id: int, *, k: int = 10, split: str | None = None, label_weight: float | None = None) -> Call[SimilarResponse]:
        params = _options(k=k, split=split, label_weight=label_weight)
        return Call("GET", f"/v1/glyphs/{int(glyph_id)}/similar", decode_model(SimilarResponse), params)

    @staticmethod
    def similar_outline(
        contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None = None, *, k: int = 10, split: str | None = None,
        label_weight: float | None = None,
    ) -> Call[SimilarResponse]:
        outline = _outline(contours, font)
        body = SimilarRequest(contours=outline.contours, font=outline.font, k=k, split=split, label_weight=label_weight)  # type: ignore[arg-type]
        return Call("POST", "/v1/similar", decode_model(SimilarResponse), json=body.model_dump(mode="json", exclude_none=True))

    @staticmethod
    def review(sort: ReviewSort = "confident_wrong", *, split: str | None = None, limit: int = 50, offset: int = 0) -> Call[ReviewPage]:
        return Call("GET", "/v1/review", decode_model(ReviewPage), _options(sort=sort, split=split, limit=limit, offset=offset))


class RecognitionMethods:
    """The recognition calls as methods of the synchronous client (which provides ``send``)."""

    send: Callable[[Call[Any]], Any]  # the client's

    def classify(self, contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None = None, *,
                 top_k: int | None = None, explain: bool = False) -> ClassifyResponse:  # fmt: skip
        """Top-k labels (twins marked), the grid and, with ``explain``, cell importance of one outline."""
        return self.send(RecognitionCalls.classify(contours, font, top_k=top_k, explain=explain))

    def classify_batch(self, outlines: Sequence[Outline], *, top_k: int | None = None, explain: bool = False) -> ClassifyResponse:
        """``classify`` for several (contours, font) pairs in one request."""
        return self.send(RecognitionCalls.classify_batch(outlines, top_k=top_k, explain=explain))

    def prediction(self, glyph_id: int, *, top_k: int | None = None, explain: bool = True) -> Prediction:
        return self.send(RecognitionCalls.prediction(glyph_id, top_k=top_k, explain=explain))

    def similar(self, glyph_id: int, *, k: int = 10, split: str | None = None, label_weight: float | None = None) -> SimilarResponse:
        """Nearest glyphs of other fonts to a stored glyph (``label_weight``: None = the bundle's, 0 = cosine alone)."""
        return self.send(RecognitionCalls.similar(glyph_id, k=k, split=split, label_weight=label_weight))

    def similar_outline(self, contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None = None, *,
                        k: int = 10, split: str | None = None, label_weight: float | None = None) -> SimilarResponse:  # fmt: skip
        return self.send(RecognitionCalls.similar_outline(contours, font, k=k, split=split, label_weight=label_weight))

    def review(self, sort: ReviewSort = "confident_wrong", *, split: str | None = None, limit: int = 50, offset: int = 0) -> ReviewPage:
        return self.send(RecognitionCalls.review(sort, split=split, limit=limit, offset=offset))


class AsyncRecognitionMethods:
    """The recognition calls as coroutines of the async client."""

    send: Callable[[Call[Any]], Awaitable[Any]]  # the client's

    async def classify(self, contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None = None, *,
                       top_k: int | None = None, explain: bool = False) -> ClassifyResponse:  # fmt: skip
        return await self.send(RecognitionCalls.classify(contours, font, top_k=top_k, explain=explain))

    async def classify_batch(self, outlines: Sequence[Outline], *, top_k: int | None = None, explain: bool = False) -> ClassifyResponse:
        return await self.send(RecognitionCalls.classify_batch(outlines, top_k=top_k, explain=explain))

    async def prediction(self, glyph_id: int, *, top_k: int | None = None, explain: bool = True) -> Prediction:
        return await self.send(RecognitionCalls.prediction(glyph_id, top_k=top_k, explain=explain))

    async def similar(self, glyph_id: int, *, k: int = 10, split: str | None = None, label_weight: float | None = None) -> SimilarResponse:
        return await self.send(RecognitionCalls.similar(glyph_id, k=k, split=split, label_weight=label_weight))

    async def similar_outline(self, contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None = None, *,
                              k: int = 10, split: str | None = None, label_weight: float | None = None) -> SimilarResponse:  # fmt: skip
        return await self.send(RecognitionCalls.similar_outline(contours, font, k=k, split=split, label_weight=label_weight))

    async def review(self, sort: ReviewSort = "confident_wrong", *, split: str | None = None, limit: int = 50, offset: int = 0) -> ReviewPage:
        return await self.send(RecognitionCalls.review(sort, split=split, limit=limit, offset=offset))
