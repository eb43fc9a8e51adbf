"""Recognition with the configured model bundle (docs/serve.md): classify outlines, a stored glyph's
prediction, similar glyphs of other fonts, and the review queue. The bundle runs on glyph-core's
LiteRT recognizer; the service never imports TensorFlow or glyph-train."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from glyph_core.api_models import ErrorResponse, GridJson, RasterizeRequest, RasterMetadata, SplitName
from glyph_core.api_recognition import (
    LABEL_WEIGHT,
    Classification,
    ClassifyBatchRequest,
    ClassifyBody,
    ClassifyResponse,
    LabelScore,
    Prediction,
    ReviewItem,
    ReviewPage,
    ReviewSort,
    SimilarGlyph,
    SimilarRequest,
    SimilarResponse,
)
from glyph_core.cues import size_cues
from glyph_core.db import FontMetrics
from glyph_core.recognizer import top_k
from glyph_core.splits import SPLIT_NAMES
from glyph_core.store import SPLIT_CODES
from starlette.concurrency import run_in_threadpool

from rasterd.app.dependencies import GlyphId, SettingsDep, SnapshotDep
from rasterd.app.errors import VALIDATION_ERROR, BatchTooLarge, BundleUnavailable
from rasterd.app.readers.recognition import BundleView
from rasterd.app.readers.snapshot import Snapshot
from rasterd.app.routers.rasterize import parse_request_outline
from rasterd.app.settings import RasterdSettings

router = APIRouter(prefix="/v1", tags=["recognition"], responses=VALIDATION_ERROR)

NO_BUNDLE: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "No model bundle is served (none configured, none exported, or refused: `detail` says which)."}
}
OUTLINE_ERRORS: dict[int | str, dict[str, Any]] = {
    **NO_BUNDLE,
    400: {"model": ErrorResponse, "description": "The body cannot be read as JSON at all."},
    413: {"model": ErrorResponse, "description": "Body over limits.max_body_bytes, or more glyphs than recognition.max_batch."},
    422: {"model": ErrorResponse, "description": "Malformed body or contours, or over the point/subpath limits."},
}
GLYPH_ERRORS: dict[int | str, dict[str, Any]] = {**NO_BUNDLE, 404: {"model": ErrorResponse, "description": "No such glyph."}}


def _split_name(code: int) -> SplitName | None:
    return SPLIT_NAMES[code] if 0 <= code < len(SPLIT_NAMES) else None  # type: ignore[return-value]


def _json(model: Any) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


def side_of(metadata: list[RasterMetadata]) -> np.ndarray:
    """The size cues (glyph_core.cues) of rasterized glyphs, as the bundle's `side` input."""
    return size_cues(
        np.array([m.original_bbox for m in metadata], dtype=np.float64).reshape(-1, 4),
        np.array([m.major_dim_ratio for m in metadata], dtype=np.float64),
        np.array([m.is_diacritic for m in metadata], dtype=np.float64),
    )


def _rasterize_all(snapshot: Snapshot, settings: RasterdSettings, glyphs: list[RasterizeRequest]) -> tuple[np.ndarray, list[RasterMetadata]]:
    limits, policy = settings.limits, snapshot.raster_config
    parse_limit = max(policy.max_points, limits.max_points) + 1
    masks, metadata = [], []
    for glyph in glyphs:
        outline = parse_request_outline(glyph.contours, limits.max_points, limits.max_subpaths, parse_limit)
        em_height = FontMetrics(file_hash="", **glyph.font.model_dump()).em_height if glyph.font else None
        mask, meta = snapshot.rasterize(outline, em_height)
        masks.append(mask)
        metadata.append(meta)
    return np.stack(masks), metadata


def classifications(bundle: BundleView, masks: np.ndarray, metadata: list[RasterMetadata], k: int, explain: bool) -> list[Classification]:
    """The bundle's answer for each raster: top-k with twins marked, the grid, and, with ``explain``, cell importance."""
    recognizer = bundle.recognizer
    side = side_of(metadata)
    result = recognizer.classify(masks, side)
    ranked = top_k(result.probabilities, k)
    manifest = recognizer.manifest
    out = []
    for i, best in enumerate(ranked):
        top_label = recognizer.labels[int(best[0])]
        twins = recognizer.twins.get(top_label, [])
        scores = [
            LabelScore(label=recognizer.labels[int(c)], probability=float(result.probabilities[i, c]),
                       twin_of_top=recognizer.labels[int(c)] in twins)
            for c in best
        ]  # fmt: skip
        importance = recognizer.cell_importance(result.grids[i], side[i], int(best[0])).round(5).tolist() if explain else None
        grid = GridJson(grid_side=manifest.raster.grid_side, cell_size=manifest.raster.cell_size, centroid_hash=manifest.centroid_hash,
                        ids=result.grids[i].tolist())  # fmt: skip
        out.append(Classification(top=scores, twins=twins, grid=grid, importance=importance, metadata=metadata[i]))
    return out


def _k(settings: RasterdSettings, asked: int | None) -> int:
    return min(asked or settings.recognition.default_top_k, settings.recognition.max_k)


@router.post(
    "/classify",
    response_model=ClassifyResponse,
    summary="Classify outlines (one, or a batch under `glyphs`) with the served model bundle",
    responses=OUTLINE_ERRORS,
)
async def classify(body: Annotated[ClassifyBody, Body()], snapshot: SnapshotDep, settings: SettingsDep) -> Response:
    bundle = snapshot.require_bundle()
    glyphs = body.glyphs if isinstance(body, ClassifyBatchRequest) else [body]
    if len(glyphs) > settings.recognition.max_batch:
        raise BatchTooLarge(f"glyphs: {len(glyphs)} outlines, more than recognition.max_batch={settings.recognition.max_batch}")

    def work() -> list[Classification]:
        masks, metadata = _rasterize_all(snapshot, settings, glyphs)
        return classifications(bundle, masks, metadata, _k(settings, body.top_k), body.explain)

    return _json(ClassifyResponse(bundle=bundle.name, results=await run_in_threadpool(work)))


def _stored(snapshot: Snapshot, glyph_id: int) -> tuple[np.ndarray, Any]:
    row = snapshot.row(glyph_id)
    size = snapshot.raster_config.canvas_size
    return np.unpackbits(snapshot.packed(row), axis=-1, count=size)[None], snapshot.metadata(row)


@router.get(
    "/glyphs/{glyph_id}/prediction",
    response_model=Prediction,
    summary="The served bundle's prediction for a stored glyph, beside its label",
    responses=GLYPH_ERRORS,
)
async def prediction(
    glyph_id: GlyphId, snapshot: SnapshotDep, settings: SettingsDep,
    top_k: Annotated[int | None, Query(ge=1, description="Labels to return (default and maximum from the config).")] = None,
    explain: Annotated[bool, Query(description="Measure how much each cell mattered (occlusion).")] = True,
) -> Response:  # fmt: skip
    bundle = snapshot.require_bundle()

    def work() -> Prediction:
        mask, meta = _stored(snapshot, glyph_id)
        raster = RasterMetadata(**{name: getattr(meta, name) for name in RasterMetadata.model_fields})
        answer = classifications(bundle, mask, [raster], _k(settings, top_k), explain)[0]
        accepted = {meta.label, *meta.alt_labels}
        return Prediction(
            **answer.model_dump(), glyph_id=glyph_id, label=meta.label, alt_labels=meta.alt_labels,
            right=answer.top[0].label in accepted, right_strict=answer.top[0].label == meta.label, bundle=bundle.name,
        )  # fmt: skip

    return _json(await run_in_threadpool(work))


def _query_top(bundle: BundleView, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A freshly classified query's top labels and probabilities, as many as the index keeps per glyph."""
    assert bundle.index is not None
    best = top_k(probabilities[None], bundle.index.top.shape[1])[0]
    return best, probabilities[best]


def _similar(snapshot: Snapshot, bundle: BundleView, query: np.ndarray, query_top: tuple[np.ndarray, np.ndarray], k: int,
             exclude_font: int | None, split: SplitName | None, accepted: set[str] | None, label_weight: float) -> list[SimilarGlyph]:  # fmt: skip
    index = bundle.index
    assert index is not None
    rows, similarity, score = index.nearest(query, k, exclude_font, [SPLIT_CODES[split]] if split else None, query_top, label_weight)
    labels = bundle.recognizer.labels
    items = []
    for row, value, ranked in zip(rows.tolist(), similarity.tolist(), score.tolist(), strict=True):
        font = str(index.font_hashes[int(index.font[row])])
        metrics = snapshot.font_metrics(font)
        label = labels[int(index.label[row])]
        items.append(SimilarGlyph(
            glyph_id=int(index.glyph_id[row]), label=label, font_hash=font, family_name=metrics.family_name if metrics else None,
            split=_split_name(int(index.split[row])), similarity=round(float(value), 6), score=round(float(ranked), 6),
            same_label=None if accepted is None else label in accepted,
        ))  # fmt: skip
    return items


def _require_index(snapshot: Snapshot) -> BundleView:
    bundle = snapshot.require_bundle()
    if bundle.index is None:
        raise BundleUnavailable(f"bundle {bundle.folder} has no retrieval index (export it with index: true, serve with recognition.index: true)")
    return bundle


@router.get(
    "/glyphs/{glyph_id}/similar",
    response_model=SimilarResponse,
    summary="Nearest glyphs of other fonts by the bundle's features (exact cosine search)",
    responses=GLYPH_ERRORS,
)
async def similar_to_glyph(
    glyph_id: GlyphId, snapshot: SnapshotDep, settings: SettingsDep,
    k: Annotated[int, Query(ge=1, description="How many (at most recognition.max_k).")] = 10,
    split: Annotated[SplitName | None, Query(description="Only glyphs of this split.")] = None,
    label_weight: Annotated[float | None, Query(ge=0, le=100, description=LABEL_WEIGHT)] = None,
) -> Response:  # fmt: skip
    bundle = _require_index(snapshot)
    index = bundle.index
    assert index is not None
    weight = bundle.recognizer.manifest.retrieval_label_weight if label_weight is None else label_weight

    def work() -> SimilarResponse:
        row = index.row_of(glyph_id)
        if row is not None:
            query, font, query_top = index.features[row], int(index.font[row]), (index.top[row], index.top_probability[row])
            accepted = {bundle.recognizer.labels[int(index.label[row])]} | {bundle.recognizer.labels[int(t)] for t in index.twin_labels[row] if t >= 0}
        else:  # in the database, not the store: rasterized and run now
            mask, meta = _stored(snapshot, glyph_id)
            answer = bundle.recognizer.classify(mask, side_of([meta]))
            query, query_top = answer.features[0], _query_top(bundle, answer.probabilities[0])
            hashes = index.font_hashes.tolist()
            font = hashes.index(meta.font_hash) if meta.font_hash in hashes else None
            accepted = {meta.label, *meta.alt_labels}
        items = _similar(snapshot, bundle, query, query_top, min(k, settings.recognition.max_k), font, split, accepted, weight)
        return SimilarResponse(query_glyph_id=glyph_id, k=len(items), label_weight=weight, items=items)

    return _json(await run_in_threadpool(work))


@router.post("/similar", response_model=SimilarResponse, summary="Nearest stored glyphs to an outline", responses=OUTLINE_ERRORS)
async def similar_to_outline(body: SimilarRequest, snapshot: SnapshotDep, settings: SettingsDep) -> Response:
    bundle = _require_index(snapshot)

    def work() -> SimilarResponse:
        masks, metadata = _rasterize_all(snapshot, settings, [RasterizeRequest(contours=body.contours, font=body.font)])
        answer = bundle.recognizer.classify(masks, side_of(metadata))
        weight = bundle.recognizer.manifest.retrieval_label_weight if body.label_weight is None else body.label_weight
        query_top = _query_top(bundle, answer.probabilities[0])
        items = _similar(snapshot, bundle, answer.features[0], query_top, min(body.k, settings.recognition.max_k), None, body.split, None, weight)
        return SimilarResponse(k=len(items), label_weight=weight, items=items)

    return _json(await run_in_threadpool(work))


@router.get("/review", response_model=ReviewPage, summary="The review queue: confident disagreements or the most uncertain glyphs", responses=NO_BUNDLE)
async def review(
    snapshot: SnapshotDep, settings: SettingsDep,
    sort: Annotated[ReviewSort, Query(description="confident_wrong: top-1 is neither the label nor a twin, most confident first "
                                                  "(label-noise candidates); uncertain: smallest top-1/top-2 margin first.")] = "confident_wrong",
    split: Annotated[SplitName | None, Query(description="Only glyphs of this split.")] = None,
    limit: Annotated[int, Query(ge=1, description="Page size (at most recognition.max_k).")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:  # fmt: skip
    bundle = _require_index(snapshot)
    index = bundle.index
    assert index is not None
    rows = index.review(sort, [SPLIT_CODES[split]] if split else None)
    page = rows[offset : offset + min(limit, settings.recognition.max_k)]
    labels, margin = bundle.recognizer.labels, index.margin()
    items = [
        ReviewItem(
            glyph_id=int(index.glyph_id[r]), label=labels[int(index.label[r])], predicted=labels[int(index.top[r, 0])],
            probability=round(float(index.top_probability[r, 0]), 6), margin=round(float(margin[r]), 6),
            font_hash=str(index.font_hashes[int(index.font[r])]), split=_split_name(int(index.split[r])),
        )
        for r in page.tolist()
    ]  # fmt: skip
    return _json(ReviewPage(sort=sort, total=len(rows), offset=offset, items=items))
