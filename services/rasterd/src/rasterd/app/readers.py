"""All the service's I/O: glyphs.db (read-only), the rasters store, the primitive centroids, the
grids store and the build's manifests, behind one object the routes are given (they never open
files themselves).

A :class:`Snapshot` is one consistent view: one store build, one centroid set, one split. The
:class:`Readers` hold the current snapshot and :meth:`Readers.refresh` swaps in a new one when a
file changes (a rebuilt store, new centroids), so a request never mixes two builds and a rebuild is
served without a restart.

Which glyph comes from where: a glyph in the rasters store is read from the store; a glyph in the
database but not in the store is rasterized on request with ``rasterd.render.render_rows`` and the
build's raster policy, the same call `rasterd build` makes, so both paths give identical bytes. A
store built from another database or config than the configured one is reported stale and not used.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import zarr
from glyph_core.api_models import ComponentStatus, GlyphMetadata, RasterMetadata
from glyph_core.config import RasterConfig, RasterizerConfig, load_config
from glyph_core.contours import Outline
from glyph_core.db import DatabaseError, FontMetrics, GlyphDatabase, sqlite_file
from glyph_core.labels import LabelMap, parse_alt_labels
from glyph_core.paths import OutputLayout
from glyph_core.primitives import centroid_hash
from glyph_core.splits import SPLIT_NAMES, FontSplit
from glyph_core.store import StoreError, open_store, pack_masks

from rasterd.app.errors import CentroidsMissing, GlyphNotFound, GlyphNotRasterizable, NothingToServe
from rasterd.app.settings import RasterdSettings
from rasterd.build import build_id
from rasterd.raster import PrimitiveAssigner, RasterError, rasterize_outlines
from rasterd.render import render_rows

# Metadata arrays of a rasters store, kept in memory (a few bytes per glyph); rasters stay on disk.
_META_ARRAYS = ("glyph_id", "label", "font", "split", "char_class", "twin_labels", "is_diacritic", "bbox",
                "scale_factor", "major_dim_ratio", "target_dim")  # fmt: skip


class ReaderObserver(Protocol):
    """What the readers report (``rasterd.app.metrics.Metrics`` implements it)."""

    def cache_lookup(self, cache: str, hit: bool) -> None: ...
    def rasterized(self, source: str, seconds: float) -> None: ...


class _NoObserver:
    def cache_lookup(self, cache: str, hit: bool) -> None:
        pass

    def rasterized(self, source: str, seconds: float) -> None:
        pass


class LruCache:
    """A small thread-safe least-recently-used map."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _file_key(path: Path) -> tuple[int, int, int] | None:
    """Identity of a file's current version (inode, size, mtime), None when absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _codes(values: list[str | None]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Values -> int32 codes into their sorted distinct non-null values (-1 for None)."""
    names = tuple(sorted({v for v in values if v is not None}))
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[v] if v is not None else -1 for v in values], dtype=np.int32), names


@dataclass(eq=False)
class DatabaseIndex:
    """The light columns of every glyphs.db row (no contours), in glyph id order, plus the fonts."""

    db: GlyphDatabase
    key: Hashable
    content_hash: str
    fonts: dict[str, FontMetrics]
    ids: np.ndarray
    label_codes: np.ndarray
    labels: tuple[str, ...]
    font_codes: np.ndarray
    font_hashes: tuple[str, ...]
    class_codes: np.ndarray
    classes: tuple[str, ...]
    joining_groups: list[str | None]
    alt_labels: list[str | None]

    @classmethod
    def load(cls, target: str, key: Hashable) -> DatabaseIndex:
        db = GlyphDatabase(target)
        rows = list(db.iter_rows(columns=["f_id", "label", "char_class", "joining_group", "alt_label"]))
        label_codes, labels = _codes([r.label for r in rows])
        font_codes, font_hashes = _codes([r.f_id for r in rows])
        class_codes, classes = _codes([r.char_class for r in rows])
        return cls(
            db=db, key=key, content_hash=db.content_hash(), fonts=db.fonts(),
            ids=np.array([r.glyph_id for r in rows], dtype=np.int64),
            label_codes=label_codes, labels=labels, font_codes=font_codes, font_hashes=font_hashes,
            class_codes=class_codes, classes=classes,
            joining_groups=[r.joining_group for r in rows], alt_labels=[r.alt_label for r in rows],
        )  # fmt: skip

    def close(self) -> None:
        self.db.close()


@dataclass(eq=False)
class StoreView:
    """An open, complete rasters store: metadata arrays in memory, raster chunks through an LRU."""

    path: Path
    key: Hashable
    group: zarr.Group
    attrs: dict[str, Any]
    arrays: dict[str, np.ndarray]
    chunk_size: int
    chunks: LruCache

    @classmethod
    def open(cls, path: Path, key: Hashable, cached_chunks: int) -> StoreView:
        group = open_store(path, "rasters")
        attrs = dict(group.attrs)
        arrays = {name: group[name][:] for name in _META_ARRAYS}
        chunk_size = int(group["raster"].chunks[0])
        return cls(path, key, group, attrs, arrays, chunk_size, LruCache(cached_chunks))

    @property
    def build_id(self) -> str:
        return str(self.attrs["build_id"])

    @property
    def count(self) -> int:
        return int(self.attrs["count"])

    def cached_packed(self, row: int) -> np.ndarray | None:
        chunk = self.chunks.get(row // self.chunk_size)
        return None if chunk is None else chunk[row % self.chunk_size]

    def packed(self, row: int) -> np.ndarray:
        """The bit-packed raster of store row ``row``, reading (and caching) its whole chunk."""
        index = row // self.chunk_size
        chunk = self.chunks.get(index)
        if chunk is None:
            start = index * self.chunk_size
            chunk = self.group["raster"][start : start + self.chunk_size]
            self.chunks.put(index, chunk)
        return chunk[row % self.chunk_size]


@dataclass(frozen=True, eq=False)
class PrimitiveView:
    """Primitive centroids, the assigner that turns masks into ids, and id frequencies when a
    matching grids store exists."""

    centroids: np.ndarray
    hash: str
    cell_size: int
    assigner: PrimitiveAssigner
    frequencies: np.ndarray | None
    frequencies_from: str | None


@dataclass(frozen=True, eq=False)
class Catalog:
    """Every servable glyph, in glyph id order, as parallel arrays (filters are vector ops)."""

    ids: np.ndarray
    label_codes: np.ndarray
    labels: tuple[str, ...]
    font_codes: np.ndarray
    fonts: tuple[str, ...]
    class_codes: np.ndarray
    classes: tuple[str, ...]
    split_codes: np.ndarray  # index into SPLIT_NAMES, -1 when the font is in no split
    store_rows: np.ndarray  # row in the rasters store, -1 when not built
    label_index: dict[str, int] = field(init=False)
    font_index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label_index", {name: i for i, name in enumerate(self.labels)})
        object.__setattr__(self, "font_index", {name: i for i, name in enumerate(self.fonts)})

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, glyph_id: int) -> int | None:
        i = int(np.searchsorted(self.ids, glyph_id))
        return i if i < len(self.ids) and int(self.ids[i]) == glyph_id else None

    def select(
        self, label: str | None, font_codes: list[int] | None, char_class: str | None, split: str | None, after: int | None, limit: int
    ) -> tuple[np.ndarray, int, bool]:
        """Rows matching every given filter with glyph id > ``after``: (page rows, total, more pages)."""
        mask = np.ones(len(self.ids), dtype=bool)
        if label is not None:
            mask &= self.label_codes == self.label_index.get(label, -2)
        if font_codes is not None:
            mask &= np.isin(self.font_codes, font_codes)
        if char_class is not None:
            code = self.classes.index(char_class) if char_class in self.classes else -2
            mask &= self.class_codes == code
        if split is not None:
            mask &= self.split_codes == SPLIT_NAMES.index(split)
        rows = np.flatnonzero(mask)
        start = 0 if after is None else int(np.searchsorted(self.ids[rows], after, side="right"))
        page = rows[start : start + limit]
        return page, len(rows), start + limit < len(rows)


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
    catalog: Catalog
    content_tag: str | None
    font_splits: dict[str, tuple[str, str | None]]
    class_index: dict[str, int]
    primitives: PrimitiveView | None
    statuses: dict[str, ComponentStatus]
    rendered: LruCache
    observer: ReaderObserver

    # -- lookups -------------------------------------------------------------------------------
    def require_catalog(self) -> Catalog:
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


def raster_metadata(batch: Any, i: int) -> RasterMetadata:
    return RasterMetadata(
        is_diacritic=bool(batch.is_diacritic[i]),
        original_bbox=[float(v) for v in batch.bbox[i]],
        scale_factor=float(batch.scale_factor[i]),
        major_dim_ratio=float(batch.major_dim_ratio[i]),
        target_dim=int(batch.target_dim[i]),
    )


def store_metadata(store: StoreView, row: int) -> RasterMetadata:
    a = store.arrays
    return RasterMetadata(
        is_diacritic=bool(a["is_diacritic"][row]),
        original_bbox=[float(v) for v in a["bbox"][row]],
        scale_factor=float(a["scale_factor"][row]),
        major_dim_ratio=float(a["major_dim_ratio"][row]),
        target_dim=int(a["target_dim"][row]),
    )


class Readers:
    """The current :class:`Snapshot` plus what it takes to build the next one."""

    def __init__(self, settings: RasterdSettings, observer: ReaderObserver | None = None) -> None:
        self.settings = settings
        self.observer: ReaderObserver = observer or _NoObserver()
        # The build's config, with the same environment overrides `rasterd build` applies.
        self.rasterizer: RasterizerConfig = load_config(settings.rasterizer_config, RasterizerConfig, env_prefix=RasterizerConfig.env_prefix)
        self.layout = OutputLayout.at(self.rasterizer.outputs.root)
        self._lock = threading.Lock()
        self._database: DatabaseIndex | None = None
        self._store: StoreView | None = None
        self.snapshot: Snapshot = self._build(self._key())

    @classmethod
    def open(cls, settings: RasterdSettings, observer: ReaderObserver | None = None) -> Readers:
        return cls(settings, observer)

    def set_observer(self, observer: ReaderObserver) -> None:
        with self._lock:
            self.observer = observer
            self.snapshot.observer = observer

    def close(self) -> None:
        if self._database is not None:
            self._database.close()

    # -- change detection ----------------------------------------------------------------------
    def _database_key(self) -> Hashable:
        path = sqlite_file(self.rasterizer.database)
        return ("url", self.rasterizer.database) if path is None else ("file", str(path), _file_key(path))

    def _key(self) -> tuple[Hashable, ...]:
        layout = self.layout
        return (
            self._database_key(),
            _file_key(layout.rasters_store / "zarr.json"),
            _file_key(layout.centroids),
            _file_key(layout.split_manifest),
            _file_key(layout.label_map),
            _file_key(layout.grids_store / "zarr.json"),
        )

    def refresh(self) -> bool:
        """Swap in a new snapshot if any input changed since the current one; True if it did."""
        with self._lock:
            key = self._key()
            if key == self.snapshot.key:
                return False
            self.snapshot = self._build(key)
            return True

    # -- building a snapshot -------------------------------------------------------------------
    def _build(self, key: tuple[Hashable, ...]) -> Snapshot:
        statuses: dict[str, ComponentStatus] = {}
        database = self._load_database(key[0], statuses)
        expected = build_id(database.content_hash, self.rasterizer) if database is not None else None
        store = self._load_store(key[1], expected, statuses)
        content_tag = expected if expected is not None else (store.build_id if store is not None else None)
        font_splits = self._font_splits(store)
        catalog = _catalog(database, store, font_splits)
        primitives = self._load_primitives(content_tag, statuses)
        return Snapshot(
            key=key, layout=self.layout, raster_config=_raster_config(store, self.rasterizer),
            database=database, store=store, catalog=catalog, content_tag=content_tag,
            font_splits=font_splits, class_index=self._class_index(store), primitives=primitives,
            statuses=statuses, rendered=LruCache(self.settings.cache.rendered_glyphs), observer=self.observer,
        )  # fmt: skip

    def _load_database(self, key: Hashable, statuses: dict[str, ComponentStatus]) -> DatabaseIndex | None:
        target = self.rasterizer.database
        if self._database is not None and self._database.key == key:
            index = self._database
        else:
            if self._database is not None:
                self._database.close()
                self._database = None
            try:
                index = DatabaseIndex.load(target, key)
            except DatabaseError as exc:
                missing = "not found" in str(exc)
                statuses["database"] = ComponentStatus(status="missing" if missing else "invalid", path=target, detail=str(exc))
                return None
            self._database = index
        statuses["database"] = ComponentStatus(status="ok", path=target, glyphs=len(index.ids), content_hash=index.content_hash)
        return index

    def _load_store(self, key: Hashable, expected: str | None, statuses: dict[str, ComponentStatus]) -> StoreView | None:
        path = self.layout.rasters_store
        if key is None:
            self._store = None
            statuses["rasters_store"] = ComponentStatus(
                status="missing", path=str(path), detail=f"no rasters store at {path}: run `rasterd build`; "
                "glyphs are rasterized from the database on request"
            )
            return None
        if self._store is None or self._store.key != key:
            try:
                self._store = StoreView.open(path, key, self.settings.cache.store_chunks)
            except (StoreError, OSError, KeyError, ValueError) as exc:
                self._store = None
                statuses["rasters_store"] = ComponentStatus(status="invalid", path=str(path), detail=str(exc))
                return None
        store = self._store
        if expected is not None and store.build_id != expected:
            statuses["rasters_store"] = ComponentStatus(
                status="stale", path=str(path), build_id=store.build_id,
                detail=f"built from another database or raster config (build {store.build_id[:12]}, the configured "
                f"inputs give {expected[:12]}): not used; run `rasterd build`",
            )  # fmt: skip
            return None
        statuses["rasters_store"] = ComponentStatus(status="ok", path=str(path), glyphs=store.count, build_id=store.build_id)
        return store

    def _font_splits(self, store: StoreView | None) -> dict[str, tuple[str, str | None]]:
        """font hash -> (split, design group): the split manifest, else the store's split array."""
        manifest = self.layout.split_manifest
        if manifest.is_file():
            try:
                split = FontSplit.from_json(manifest.read_text(encoding="utf-8"))
            except (ValueError, KeyError):
                split = None
            if split is not None:
                return {
                    font: (name, group)
                    for name, groups in split.groups.items() for group, fonts in groups.items() for font in fonts
                }  # fmt: skip
        if store is None:
            return {}
        fonts = store.attrs["fonts"]
        pairs = set(zip(store.arrays["font"].tolist(), store.arrays["split"].tolist(), strict=True))
        return {fonts[f]: (SPLIT_NAMES[s], None) for f, s in pairs}

    def _class_index(self, store: StoreView | None) -> dict[str, int]:
        if store is not None:
            return {label: i for i, label in enumerate(store.attrs["labels"])}
        if self.layout.label_map.is_file():
            try:
                labels = LabelMap.from_json(self.layout.label_map.read_text(encoding="utf-8")).labels
            except (ValueError, json.JSONDecodeError):
                return {}
            return {label: i for i, label in enumerate(labels)}
        return {}

    def _load_primitives(self, content_tag: str | None, statuses: dict[str, ComponentStatus]) -> PrimitiveView | None:
        path = self.layout.centroids
        cell = self.rasterizer.raster.cell_size
        grids_path = self.layout.grids_store
        statuses["grids_store"] = ComponentStatus(status="missing", path=str(grids_path), detail="run `rasterd tokenize`")
        how = (
            f"run `glyph-train primitives --config configs/primitives.yaml` to make them, then `rasterd tokenize "
            f"--config {self.settings.rasterizer_config}` for the grids store"
        )
        if not path.is_file():
            statuses["centroids"] = ComponentStatus(status="missing", path=str(path), detail=f"no primitive centroids at {path}: {how}")
            return None
        try:
            centroids = np.load(path)
            assigner = PrimitiveAssigner(centroids, cell)
        except (ValueError, OSError) as exc:
            statuses["centroids"] = ComponentStatus(
                status="invalid", path=str(path), detail=f"primitive centroids at {path} do not fit {cell}x{cell} cells ({exc}): {how}"
            )
            return None
        chash = centroid_hash(centroids)
        statuses["centroids"] = ComponentStatus(status="ok", path=str(path), content_hash=chash, glyphs=None)
        frequencies, source = None, None
        if (grids_path / "zarr.json").is_file():
            try:
                grids = open_store(grids_path, "grids", expect={"centroid_hash": chash, "rasters_build_id": content_tag})
                counts = np.zeros(len(centroids) + 1, dtype=np.int64)
                chunk = int(grids["grid"].chunks[0])
                for start in range(0, int(grids.attrs["count"]), chunk):
                    ids = grids["grid"][start : start + chunk]
                    counts += np.bincount(ids.ravel(), minlength=len(counts))[: len(counts)]
                frequencies, source = counts, str(grids_path)
                statuses["grids_store"] = ComponentStatus(status="ok", path=str(grids_path), glyphs=int(grids.attrs["count"]))
            except (StoreError, OSError, KeyError) as exc:
                statuses["grids_store"] = ComponentStatus(status="stale", path=str(grids_path), detail=f"{exc}; run `rasterd tokenize`")
        return PrimitiveView(np.asarray(centroids, dtype=np.float32), chash, cell, assigner, frequencies, source)


def _raster_config(store: StoreView | None, rasterizer: RasterizerConfig) -> RasterConfig:
    """The raster policy the store was built with (the configured one when there is no store)."""
    if store is not None and isinstance(store.attrs.get("raster"), dict):
        return RasterConfig.model_validate(store.attrs["raster"])
    return rasterizer.raster


def _catalog(database: DatabaseIndex | None, store: StoreView | None, font_splits: dict[str, tuple[str, str | None]]) -> Catalog:
    if database is not None:
        ids, label_codes, labels = database.ids, database.label_codes, database.labels
        font_codes, fonts = database.font_codes, database.font_hashes
        class_codes, classes = database.class_codes, database.classes
    elif store is not None:
        a = store.arrays
        ids, label_codes, labels = a["glyph_id"], a["label"], tuple(store.attrs["labels"])
        font_codes, fonts = a["font"], tuple(store.attrs["fonts"])
        classes = tuple(store.attrs["char_classes"])
        class_codes = a["char_class"].astype(np.int32)
    else:
        empty = np.zeros(0, dtype=np.int64)
        return Catalog(empty, empty, (), empty, (), empty, (), empty.astype(np.int8), empty)
    store_rows = np.full(len(ids), -1, dtype=np.int64)
    if store is not None:
        positions = np.searchsorted(ids, store.arrays["glyph_id"])
        store_rows[positions] = np.arange(store.count)
    split_of_font = np.array([SPLIT_NAMES.index(font_splits[f][0]) if f in font_splits else -1 for f in fonts], dtype=np.int8)
    split_codes = split_of_font[font_codes] if len(fonts) else np.full(len(ids), -1, dtype=np.int8)
    return Catalog(ids, label_codes, labels, font_codes, fonts, class_codes, classes, split_codes, store_rows)

