"""One consistent view for a request: one store build, one centroid set, one split."""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from glyph_core.api_models import ComponentStatus, GlyphMetadata, RasterMetadata
from glyph_core.config import RasterConfig, RasterizerConfig
from glyph_core.contours import Outline
from glyph_core.db import FontMetrics
from glyph_core.labels import parse_alt_labels
from glyph_core.paths import OutputLayout
from glyph_core.store import pack_masks

from rasterd.app.errors import BundleUnavailable, CentroidsMissing, GlyphNotFound, GlyphNotRasterizable, NothingToServe
from rasterd.app.readers.cache import LruCache, ReaderObserver
from rasterd.app.readers.database import DatabaseIndex
from rasterd.app.readers.glyph_index import GlyphIndex
from rasterd.app.readers.primitives import PrimitiveView
from rasterd.app.readers.recognition import BundleView
from rasterd.app.readers.store_view import StoreView, raster_metadata, store_metadata
from rasterd.raster import RasterError, rasterize_outlines
from rasterd.render import render_rows


@dataclass(frozen=True, eq=False)
class RenderedGlyph:
    packed: np.ndarray
    metadata: RasterMetadata


@dataclass(eq=False)
class Snapshot:
    """One consistent view of the service's inputs (see the module docstring)."""

    key: Hashable
    layout: OutputLayout
    raster_config: RasterConfig
    database: DatabaseIndex | None
    store: StoreView | None
    catalog: GlyphIndex
    content_tag: str | None
    font_splits: dict[str, tuple[str, str | None]]
    class_index: dict[str, int]
    primitives: PrimitiveView | None
    statuses: dict[str, ComponentStatus]
    rendered: LruCache
    observer: ReaderObserver
    bundle: BundleView | None = None

    # -- lookups -------------------------------------------------------------------------------
    def require_catalog(self) -> GlyphIndex:
        if self.database is None and self.store is None:
            raise NothingToServe(
                f"no glyph database ({self.statuses['database'].detail}) and no rasters store "
                f"({self.statuses['rasters_store'].detail}): build them with `make build`"
            )
        return self.catalog

    def row(self, glyph_id: int) -> int:
        """The catalog row of ``glyph_id`` (404 when neither the database nor the store has it)."""
        row = self.require_catalog().row_of(glyph_id)
        if row is None:
            where = "the database or the rasters store" if self.database is not None else "the rasters store"
            raise GlyphNotFound(f"no glyph {glyph_id} in {where}")
        return row

    def is_built(self, row: int) -> bool:
        return int(self.catalog.store_rows[row]) >= 0

    # -- rasters -------------------------------------------------------------------------------
    def cached_packed(self, row: int) -> np.ndarray | None:
        """The bit-packed raster when it is already in memory (no I/O), else None."""
        store_row = int(self.catalog.store_rows[row])
        if store_row >= 0 and self.store is not None:
            packed = self.store.cached_packed(store_row)
            self.observer.cache_lookup("store_chunk", packed is not None)
            return packed
        rendered = self.rendered.get(int(self.catalog.ids[row]))
        self.observer.cache_lookup("rendered_glyph", rendered is not None)
        return None if rendered is None else rendered.packed

    def packed(self, row: int) -> np.ndarray:
        """The bit-packed (S, S/8) raster of a catalog row, from the store or rendered (may do I/O)."""
        store_row = int(self.catalog.store_rows[row])
        if store_row >= 0 and self.store is not None:
            return self.store.packed(store_row)
        return self.render(row).packed

    def render(self, row: int) -> RenderedGlyph:
        """Rasterize a database row exactly as `rasterd build` would (cached)."""
        glyph_id = int(self.catalog.ids[row])
        cached = self.rendered.get(glyph_id)
        if cached is not None:
            return cached
        assert self.database is not None  # rows outside the store only come from the database
        glyph = self.database.db.get(glyph_id)
        if glyph is None:
            raise GlyphNotFound(f"glyph {glyph_id} is no longer in the database")
        began = time.perf_counter()
        try:
            batch = render_rows([glyph], self.database.fonts, self.raster_config)
        except (ValueError, RasterError) as exc:  # ContourError is a ValueError
            raise GlyphNotRasterizable(
                f"glyph {glyph_id} cannot be rasterized ({exc}); `rasterd build` rejects it too "
                "(outputs/logs/build_audit.jsonl)"
            ) from None
        self.observer.rasterized("database", time.perf_counter() - began)
        result = RenderedGlyph(pack_masks(batch.masks)[0], raster_metadata(batch, 0))
        self.rendered.put(glyph_id, result)
        return result

    # -- metadata ------------------------------------------------------------------------------
    def cached_metadata(self, row: int) -> GlyphMetadata | None:
        """Metadata without I/O: always for store glyphs, for others once rendered."""
        if self.is_built(row) and self.store is not None:
            return self._metadata(row, None)
        rendered = self.rendered.get(int(self.catalog.ids[row]))
        return None if rendered is None else self._metadata(row, rendered.metadata)

    def metadata(self, row: int) -> GlyphMetadata:
        cached = self.cached_metadata(row)
        return cached if cached is not None else self._metadata(row, self.render(row).metadata)

    def _metadata(self, row: int, rendered: RasterMetadata | None) -> GlyphMetadata:
        cat = self.catalog
        font = cat.fonts[int(cat.font_codes[row])]
        metrics = self.database.fonts.get(font) if self.database is not None else None
        label = cat.labels[int(cat.label_codes[row])]
        split, group = self.font_splits.get(font, (None, None))
        if self.database is not None:
            # The catalog is the database's rows when there is a database.
            alt_labels = sorted(parse_alt_labels(self.database.alt_labels[row]))
            joining_group = self.database.joining_groups[row]
        else:
            assert self.store is not None
            store_labels = self.store.attrs["labels"]
            alt_labels = sorted(store_labels[int(t)] for t in self.store.arrays["twin_labels"][row] if t >= 0)
            joining_group = None
        if rendered is None:
            assert self.store is not None
            rendered = store_metadata(self.store, int(cat.store_rows[row]))
        class_code = int(cat.class_codes[row])
        return GlyphMetadata(
            glyph_id=int(cat.ids[row]), label=label, font_hash=font,
            family_name=metrics.family_name if metrics else None, style=metrics.style if metrics else None,
            split=split, design_group=group, char_class=cat.classes[class_code] if class_code >= 0 else None,
            joining_group=joining_group, alt_labels=alt_labels, class_index=self.class_index.get(label),
            source="store" if self.is_built(row) and self.store is not None else "rendered",
            **rendered.model_dump(),
        )  # fmt: skip

    # -- grids ---------------------------------------------------------------------------------
    def require_primitives(self) -> PrimitiveView:
        if self.primitives is None:
            raise CentroidsMissing(self.statuses["centroids"].detail or "no primitive centroids")
        return self.primitives

    def require_bundle(self) -> BundleView:
        if self.bundle is None:
            raise BundleUnavailable(self.statuses["bundle"].detail or "no model bundle")
        return self.bundle

    def grid(self, packed: np.ndarray) -> np.ndarray:
        """(G, G) uint16 primitive ids of a packed raster: the ids `rasterd tokenize` writes."""
        primitives = self.require_primitives()
        mask = np.unpackbits(packed, axis=-1, count=self.raster_config.canvas_size)
        return primitives.assigner.assign(mask)[0]

    # -- rasterize POST ------------------------------------------------------------------------
    def rasterize(self, outline: Outline, em_height: float | None) -> tuple[np.ndarray, RasterMetadata]:
        """Rasterize one request outline with the build's policy: (mask, metadata)."""
        began = time.perf_counter()
        em = np.array([np.nan if em_height is None else em_height], dtype=np.float64)
        batch = rasterize_outlines([outline], em, self.raster_config)
        self.observer.rasterized("request", time.perf_counter() - began)
        return batch.masks[0], raster_metadata(batch, 0)

    # -- font and label summaries --------------------------------------------------------------
    def font_metrics(self, font_hash: str) -> FontMetrics | None:
        return self.database.fonts.get(font_hash) if self.database is not None else None

    def fonts_matching(self, value: str) -> list[int]:
        """Catalog font codes for a font hash, or for every font of a family (case-insensitive)."""
        code = self.catalog.font_index.get(value)
        if code is not None:
            return [code]
        wanted = value.casefold()
        return [
            i for i, font in enumerate(self.catalog.fonts)
            if (m := self.font_metrics(font)) is not None and (m.family_name or "").casefold() == wanted
        ]  # fmt: skip


def raster_policy(store: StoreView | None, rasterizer: RasterizerConfig) -> RasterConfig:
    """The raster policy the store was built with (the configured one when there is no store)."""
    if store is not None and isinstance(store.attrs.get("raster"), dict):
        return RasterConfig.model_validate(store.attrs["raster"])
    return rasterizer.raster
