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
import threading
from collections.abc import Hashable

import numpy as np
from glyph_core.api_models import ComponentStatus
from glyph_core.config import RasterizerConfig, load_config
from glyph_core.db import DatabaseError, sqlite_file
from glyph_core.labels import LabelMap
from glyph_core.paths import OutputLayout
from glyph_core.primitives import load_centroids
from glyph_core.splits import SPLIT_NAMES, FontSplit
from glyph_core.store import StoreError, open_store

from rasterd.app.readers.cache import LruCache, NoObserver, ReaderObserver, file_key
from rasterd.app.readers.database import DatabaseIndex
from rasterd.app.readers.glyph_index import glyph_index
from rasterd.app.readers.primitives import PrimitiveView
from rasterd.app.readers.recognition import BundleLoader, bundle_folder, bundle_key
from rasterd.app.readers.snapshot import Snapshot, raster_policy
from rasterd.app.readers.store_view import StoreView
from rasterd.app.settings import RasterdSettings
from rasterd.build import build_id
from rasterd.raster import CompiledPrimitiveAssigner


class Readers:
    """The current :class:`Snapshot` plus what it takes to build the next one."""

    def __init__(self, settings: RasterdSettings, observer: ReaderObserver | None = None) -> None:
        self.settings = settings
        self.observer: ReaderObserver = observer or NoObserver()
        # The build's config, with the same environment overrides `rasterd build` applies.
        self.rasterizer: RasterizerConfig = load_config(settings.rasterizer_config, RasterizerConfig, env_prefix=RasterizerConfig.env_prefix)
        self.layout = OutputLayout.at(self.rasterizer.outputs.root)
        self._lock = threading.Lock()
        self._database: DatabaseIndex | None = None
        self._store: StoreView | None = None
        self._bundles = BundleLoader(settings.recognition)
        self.bundle_folder = bundle_folder(settings.recognition, self.layout)
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
        return ("url", self.rasterizer.database) if path is None else ("file", str(path), file_key(path))

    def _key(self) -> tuple[Hashable, ...]:
        layout = self.layout
        return (
            self._database_key(),
            file_key(layout.rasters_store / "zarr.json"),
            file_key(layout.centroids),
            file_key(layout.split_manifest),
            file_key(layout.label_map),
            file_key(layout.grids_store / "zarr.json"),
            bundle_key(self.bundle_folder),
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
        catalog = glyph_index(database, store, font_splits)
        primitives = self._load_primitives(content_tag, statuses)
        bundle, statuses["bundle"] = self._bundles.judge(
            self.bundle_folder, key[6], dict(store.attrs) if store is not None else None, primitives.hash if primitives is not None else None
        )
        return Snapshot(
            key=key, layout=self.layout, raster_config=raster_policy(store, self.rasterizer),
            database=database, store=store, catalog=catalog, content_tag=content_tag,
            font_splits=font_splits, class_index=self._class_index(store), primitives=primitives,
            statuses=statuses, rendered=LruCache(self.settings.cache.rendered_glyphs), observer=self.observer, bundle=bundle,
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
        try:
            centroids, chash = load_centroids(path, cell)
            assigner = CompiledPrimitiveAssigner(centroids, cell)
        except FileNotFoundError:
            statuses["centroids"] = ComponentStatus(status="missing", path=str(path), detail=f"no primitive centroids at {path}: {how}")
            return None
        except (StoreError, ValueError, OSError) as exc:
            statuses["centroids"] = ComponentStatus(
                status="invalid", path=str(path), detail=f"primitive centroids at {path} do not fit {cell}x{cell} cells ({exc}): {how}"
            )
            return None
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
        return PrimitiveView(centroids, chash, cell, assigner, frequencies, source)
