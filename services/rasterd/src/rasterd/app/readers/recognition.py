"""The model bundle the service classifies with (docs/serve.md): loaded with glyph-core's LiteRT
recognizer (never TensorFlow or glyph-train), checked against the served store and centroids, and
refused with what differs when it was made from anything else."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from glyph_core.api_models import ComponentStatus
from glyph_core.bundle import MANIFEST, BundleError, store_mismatches
from glyph_core.paths import OutputLayout
from glyph_core.recognizer import Recognizer
from glyph_core.retrieval import RetrievalIndex
from glyph_core.serve_config import RecognitionConfig

from rasterd.app.readers.cache import file_key

log = logging.getLogger("rasterd.app")


@dataclass(frozen=True, eq=False)
class BundleView:
    """A loaded bundle: the recognizer, its retrieval index when there is one, and the store it belongs to."""

    folder: Path
    recognizer: Recognizer
    index: RetrievalIndex | None

    @property
    def name(self) -> str:
        return f"{self.recognizer.manifest.name} ({self.recognizer.precision})"

    def label_id(self, label: str) -> int | None:
        return self.recognizer.label_index.get(label)


def bundle_folder(config: RecognitionConfig, layout: OutputLayout) -> Path | None:
    """The configured bundle: a name under the served outputs root's export/ folder, or a folder path."""
    if config.bundle is None:
        return None
    named = Path(config.bundle)
    return named if len(named.parts) > 1 or named.is_absolute() else layout.export(config.bundle)


def bundle_key(folder: Path | None) -> Hashable:
    return None if folder is None else (str(folder), file_key(folder / MANIFEST))


class BundleLoader:
    """Loads the bundle once per manifest version and judges it against each new snapshot's inputs."""

    def __init__(self, config: RecognitionConfig) -> None:
        self.config = config
        self._key: Hashable = None
        self._loaded: BundleView | None = None
        self._error: ComponentStatus | None = None

    def _load(self, folder: Path, key: Hashable) -> None:
        if key == self._key:
            return
        self._key, self._loaded, self._error = key, None, None
        try:
            recognizer = Recognizer(folder, self.config.precision, threads=self.config.threads, batch=max(self.config.max_batch, 64))
            index = None
            if self.config.index and recognizer.manifest.index is not None:
                index = RetrievalIndex.load(folder / recognizer.manifest.index)
                if len(index.font_hashes) and index.features.shape[1] != recognizer.manifest.feature_dim:
                    raise BundleError(f"retrieval index features have {index.features.shape[1]} columns, the manifest says {recognizer.manifest.feature_dim}")
            self._loaded = BundleView(folder, recognizer, index)
        except BundleError as exc:
            status = "unavailable" if "LiteRT runtime" in str(exc) else "invalid"
            self._error = ComponentStatus(status=status, path=str(folder), detail=str(exc))
            log.error("bundle %s not loaded: %s", folder, exc)

    def judge(
        self, folder: Path | None, key: Hashable, store_attrs: dict | None, centroid_hash: str | None
    ) -> tuple[BundleView | None, ComponentStatus]:
        """(the bundle when it may be used with these inputs, its status)."""
        if folder is None:
            return None, ComponentStatus(status="off", detail="recognition.bundle is null: recognition is off")
        if not (folder / MANIFEST).is_file():
            return None, ComponentStatus(
                status="missing", path=str(folder), detail=f"no bundle at {folder}: run `glyph-train export --config configs/export.yaml`"
            )
        self._load(folder, key)
        if self._loaded is None:
            assert self._error is not None
            return None, self._error
        manifest = self._loaded.recognizer.manifest
        if store_attrs is None:
            problems = ["no rasters store is served to check the bundle against: run `rasterd build`"]
        else:
            problems = store_mismatches(manifest, store_attrs, centroid_hash)
        if problems:
            detail = f"bundle {folder} was made from other inputs than the served ones, refused: " + "; ".join(problems)
            log.error("%s", detail)
            return None, ComponentStatus(status="refused", path=str(folder), detail=detail)
        glyphs = len(self._loaded.index) if self._loaded.index is not None else None
        return self._loaded, ComponentStatus(status="ok", path=str(folder), glyphs=glyphs, content_hash=manifest.phase2_model_hash)
