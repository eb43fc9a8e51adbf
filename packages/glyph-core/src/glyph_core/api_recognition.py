"""Request and response models of the recognition routes of `rasterd serve` (docs/serve.md):
classify, a stored glyph's prediction, similar glyphs, the review queue. Shared with the typed client."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag

from glyph_core.api_models import SQUARE_WITH_HOLE, ApiModel, FontMetricsIn, GridJson, RasterizeRequest, RasterMetadata, SplitName

ReviewSort = Literal["confident_wrong", "uncertain"]


class ClassifyOptions(ApiModel):
    top_k: int | None = Field(None, ge=1, description="Labels per glyph (default and maximum from the config).")
    explain: bool = Field(False, description="Also measure how much each cell mattered (occlusion; one Phase 2 run per non-empty cell).")


class ClassifyRequest(RasterizeRequest, ClassifyOptions):
    """One outline, as for `POST /v1/rasterize`, and what to return."""

    model_config = ConfigDict(
        extra="forbid", strict=True,
        json_schema_extra={"examples": [{"contours": SQUARE_WITH_HOLE, "font": {"ascent": 800, "descent": -200}, "top_k": 5}]},
    )  # fmt: skip


class ClassifyBatchRequest(ClassifyOptions):
    """Several outlines in one request (at most recognition.max_batch)."""

    glyphs: list[RasterizeRequest] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", strict=True)


def _classify_shape(body: Any) -> str:
    return "batch" if isinstance(body, dict) and "glyphs" in body else "one"


ClassifyBody = Annotated[
    Annotated[ClassifyRequest, Tag("one")] | Annotated[ClassifyBatchRequest, Tag("batch")], Discriminator(_classify_shape)
]


class LabelScore(ApiModel):
    label: str
    probability: float
    twin_of_top: bool = Field(description="Some font draws this label exactly like the top-1 label: either counts as right.")


class Classification(ApiModel):
    """What the bundle says about one glyph."""

    top: list[LabelScore] = Field(description="Best labels first.")
    twins: list[str] = Field(description="The top-1 label's twins (labels some font draws identically).")
    grid: GridJson = Field(description="The primitive ids Phase 1 of the bundle gave each cell (the ids Phase 2 read).")
    importance: list[list[float]] | None = Field(
        None, description="With explain: per cell, how much the top-1 probability drops when the cell is made empty."
    )
    metadata: RasterMetadata


class ClassifyResponse(ApiModel):
    bundle: str = Field(description="The bundle's name and precision.")
    results: list[Classification]


class Prediction(Classification):
    """A stored glyph's classification beside its label."""

    glyph_id: int
    label: str
    alt_labels: list[str]
    right: bool = Field(description="Top-1 is the label or one of its twins (alt-aware).")
    right_strict: bool
    bundle: str


LABEL_WEIGHT = (
    "Rank by cosine plus this times the probability the query's prediction gives each glyph's label "
    "(0: cosine alone; default: the bundle's retrieval_label_weight)."
)


class SimilarRequest(ApiModel):
    contours: list[Any] | str
    font: FontMetricsIn | None = None
    k: int = Field(10, ge=1)
    split: SplitName | None = Field(None, description="Only glyphs of this split.")
    label_weight: float | None = Field(None, ge=0, le=100, description=LABEL_WEIGHT)

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [{"contours": SQUARE_WITH_HOLE, "k": 10}]})


class SimilarGlyph(ApiModel):
    glyph_id: int
    label: str
    font_hash: str
    family_name: str | None = None
    split: SplitName | None = None
    similarity: float = Field(description="Cosine similarity of the bundle's features, in [-1, 1].")
    score: float = Field(description="What the list is ordered by: similarity plus label_weight times the query's probability of this label.")
    same_label: bool | None = Field(None, description="Its label is the query's label or a twin (stored queries only).")


class SimilarResponse(ApiModel):
    query_glyph_id: int | None = None
    k: int
    label_weight: float = Field(description="The weight the order used.")
    items: list[SimilarGlyph]


class ReviewItem(ApiModel):
    glyph_id: int
    label: str
    predicted: str
    probability: float = Field(description="The top-1 probability.")
    margin: float = Field(description="Top-1 minus top-2 probability.")
    font_hash: str
    split: SplitName | None = None


class ReviewPage(ApiModel):
    sort: ReviewSort
    total: int = Field(description="Glyphs in this queue (all pages).")
    offset: int
    items: list[ReviewItem]
