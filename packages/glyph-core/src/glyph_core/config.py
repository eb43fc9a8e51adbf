"""Typed configuration: one pydantic model per YAML under ``configs/``.

Every default lives here and is written out in the YAML files too; a config is validated on load and
an unknown or mistyped key is an error that names the key and the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from glyph_core.shapes import CORE_LETTERS


class ConfigError(ValueError):
    """A config file that is missing, not YAML, or does not match its model."""


class StrictModel(BaseModel):
    """Base for config sections: unknown keys are errors, values are immutable once loaded.

    A command's top-level config declares ``env_prefix``: environment variables ``<env_prefix><KEY>``
    override its file (see :func:`load_config`). It is declared there and nowhere else.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    env_prefix: ClassVar[str | None] = None


def overlay(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied: nested mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


def batch_norm_momentum_field() -> Any:
    """The one BatchNormalization momentum entry every model with such layers has (Phase 1's cell CNN,
    Phase 2's residual CNN, the baseline). At Keras' default 0.99 the moving statistics lag weights that
    change fast at the learning rates used here, and inference predicted one label for every glyph
    after a whole pass (bench/README.md); 0.9 follows them."""
    return Field(0.9, gt=0, lt=1, description="Momentum of every BatchNormalization's moving statistics (Keras' 0.99 lags; bench/README.md).")


class ProfiledConfig(StrictModel):
    """A training config with profiles as overlays (docs/training.md): ``training`` holds every setting
    a profile may change, with its default, once; each entry of ``profiles`` names only what it changes.

    ``active`` is ``training`` with the chosen profile applied. A profile that names an unknown key, or
    a value its field refuses, is an error naming the profile and the key.
    """

    profile: str
    profiles: dict[str, dict[str, Any]]

    @model_validator(mode="after")
    def _profiles_apply(self) -> ProfiledConfig:
        if self.profile not in self.profiles:
            raise ValueError(f"profile {self.profile!r} is not one of the profiles ({', '.join(self.profiles)})")
        for name in self.profiles:
            self.profiled(name)
        return self

    def profiled(self, name: str) -> Any:
        """``training`` under the profile ``name``."""
        base: BaseModel = self.training  # type: ignore[attr-defined]
        try:
            return type(base).model_validate(overlay(base.model_dump(), self.profiles[name]))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {'unknown key' if err['type'] == 'extra_forbidden' else err['msg']}"
                for err in exc.errors()
            )
            raise ValueError(f"profiles.{name}: {problems}") from None

    @property
    def active(self) -> Any:
        """The settings of the profile this run uses."""
        return self.profiled(self.profile)


class OutputsConfig(StrictModel):
    root: str = Field("outputs", description="Folder every generated artifact goes under (docs/outputs.md).")


class IngestConfig(StrictModel):
    """`rasterd ingest`: font files -> a new glyphs.db."""

    env_prefix: ClassVar[str | None] = "INGEST_"

    fonts: list[str] = Field(
        default_factory=lambda: ["/usr/share/fonts", "/usr/share/wine/fonts", "npm:fonts/package.json"],
        description="Font files, folders (searched recursively), glob patterns, or npm:<package.json> for the "
        "pinned npm packages that file depends on.",
    )
    npm_files: str = Field(
        "{package}-arabic-*.woff2",
        description="Glob inside each npm package's files/ folder ({package}: its name without the scope): "
        "the Arabic subsets, never their .woff twins.",
    )
    require_codepoint: int = Field(0x0628, description="Fonts whose cmap lacks this code point are skipped (U+0628 BEH).")
    database: str = Field("dataset/glyphs.db", description="Path of the new database; an existing file is never overwritten.")
    workers: int = Field(2, ge=1, description="Parallel font workers.")
    compose_runs: bool = Field(True, description="Compose shaped runs of several glyphs into one outline.")
    include_latin: bool = Field(False, description="Also record basic Latin letters and digits.")
    include_allah: bool = Field(True, description="Record the Allah ligature (shaped from its letters).")
    ligature_pairs: list[list[str]] = Field(
        default_factory=lambda: [["\u0644", c] for c in ("\u0627", "\u0622", "\u0623", "\u0625", "\u0671")],
        description="Letter sequences recorded as ligatures when the font shapes them to one glyph or run.",
    )
    unicode_blocks: list[list[int]] = Field(
        default_factory=lambda: [[0x0600, 0x06FF], [0x0750, 0x077F], [0x0870, 0x089F], [0x08A0, 0x08FF]],
        description="Inclusive code point ranges whose letters, marks, digits and punctuation are recorded.",
    )
    arabic_shaping: str = Field(
        "/usr/share/unicode/ArabicShaping.txt", description="Unicode joining data (Debian package unicode-data)."
    )
    outputs: OutputsConfig = OutputsConfig()


class LabelConfig(StrictModel):
    """Label filtering (docs/data.md)."""

    min_count: int = Field(5, ge=1, description="Keep labels seen at least this many times.")
    count_by: Literal["rows", "fonts", "design_groups"] = Field(
        "design_groups",
        description="What min_count counts; design groups keep a label only if enough independent designs draw it.",
    )
    drop_shaped: bool = Field(False, description="Drop contextual forms (_init, _medi, _final).")
    merge_identical_share: float = Field(
        0.5, gt=0, le=1, description="Report label pairs drawn identically in at least this share of shared fonts."
    )


class SplitConfig(StrictModel):
    """Font splits by design group (docs/data.md, DESIGN facts)."""

    seed: int = 42
    train: float = Field(0.8, gt=0, lt=1)
    val: float = Field(0.1, ge=0, lt=1)
    test: float = Field(0.1, ge=0, lt=1)
    identity_share: float = Field(
        0.5, gt=0, le=1, description="Fonts sharing at least this share of identical (label, contours) pairs are one design."
    )
    shape_threshold: float = Field(
        0.73,
        gt=0,
        le=1,
        description="Fonts whose rasters of the core letters agree at this mean IoU or more are one design (redrawn copies).",
    )
    shape_min_letters: int = Field(8, ge=1, description="Fonts sharing fewer core letters than this are never merged by shape.")
    shape_letters: list[str] = Field(
        default_factory=lambda: list(CORE_LETTERS), description="The labels compared by the shape rule."
    )

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> SplitConfig:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"train + val + test must be 1.0, got {total}")
        return self


class RasterConfig(StrictModel):
    """Rasterization policy (docs/raster-policy.md) and its ablation knobs (docs/evaluation.md)."""

    canvas_size: int = Field(128, ge=8, description="Side of the square output raster in pixels.")
    supersample: int = Field(2, ge=1, description="Render at canvas_size * supersample, then downsample.")
    curve_subdivisions: int = Field(8, ge=1, le=256, description="Line segments per quadratic or cubic curve.")
    diacritic_ratio: float = Field(0.25, gt=0, description="major_dim / em_height below this marks a diacritic.")
    diacritic_target: int = Field(64, ge=1, description="Largest dimension of a diacritic in pixels.")
    fill_rule: Literal["nonzero", "evenodd"] = "nonzero"
    anchoring: Literal["top_left", "center"] = "top_left"
    cell_size: Literal[4, 8, 16] = 8
    max_points: int = Field(100_000, ge=16, description="Outlines with more points are rejected.")

    @model_validator(mode="after")
    def _cells_tile_canvas(self) -> RasterConfig:
        if self.canvas_size % self.cell_size:
            raise ValueError(f"canvas_size {self.canvas_size} is not a multiple of cell_size {self.cell_size}")
        if self.diacritic_target > self.canvas_size:
            raise ValueError("diacritic_target cannot exceed canvas_size")
        return self


class DaskConfig(StrictModel):
    scheduler_address: str | None = Field(None, description="Dask scheduler to use; null starts a local cluster.")
    workers: int = Field(2, ge=1, description="Local cluster worker processes.")
    worker_wait_s: float = Field(
        120.0, gt=0, description="How long a build waits for the scheduler to have a worker before it fails."
    )


class BuildConfig(StrictModel):
    chunk_size: int = Field(1024, ge=1, description="Glyphs per zarr chunk, and per build task.")
    db_batch_size: int = Field(2000, ge=1, description="Rows fetched from the database per query.")


class OutlineAugmentConfig(StrictModel):
    """Outline-level augmentation written by `rasterd build` (docs/training.md "Augmented variants").

    Each train glyph gets ``variants`` copies whose contour points went through a random affine map
    (font units, about the glyph's own origin) and whose stroke weight changed on the supersampled
    canvas, each rendered by the build's raster policy: tight fit, top-left placement and size cues
    follow from the transformed outline exactly as for any stored glyph.
    """

    variants: int = Field(4, ge=0, le=32, description="Augmented variants per train glyph; 0 writes no variants store.")
    seed: int = Field(7, description="Variant v of glyph g is drawn from (seed, g, v): the same on any chunking or worker.")
    scale_jitter: float = Field(0.06, ge=0, le=0.3, description="Scale drawn from [1 - j, 1 + j] per axis.")
    slant_max: float = Field(0.15, ge=0, le=0.5, description="Horizontal shear drawn from [-s, s] (x += s * y, tops lean right).")
    rotate_deg: float = Field(3.0, ge=0, le=15, description="Rotation drawn from [-r, r] degrees.")
    stroke_px: float = Field(
        1.0, ge=0, le=3,
        description="Stroke weight change of up to this many output pixels, dilating or eroding on the supersampled canvas.",
    )  # fmt: skip


class RasterizerConfig(StrictModel):
    """`rasterd build` and `rasterd tokenize`: glyphs.db -> rasters store -> grids store."""

    env_prefix: ClassVar[str | None] = "RASTERIZER_"

    database: str = Field("dataset/glyphs.db", description="SQLite path or SQLAlchemy URL (opened read-only).")
    outputs: OutputsConfig = OutputsConfig()
    labels: LabelConfig = LabelConfig()
    splits: SplitConfig = SplitConfig()
    raster: RasterConfig = RasterConfig()
    build: BuildConfig = BuildConfig()
    augment: OutlineAugmentConfig = OutlineAugmentConfig()
    dask: DaskConfig = DaskConfig()


ModelT = TypeVar("ModelT", bound=BaseModel)


def _format_error(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key")
        else:
            lines.append(f"  {key}: {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)


class EnvOverridable(BaseSettings):
    """Base of a config model's settings face: environment variables ``<PREFIX><KEY>`` (``__`` between
    nested keys, e.g. ``RASTERIZER_DASK__SCHEDULER_ADDRESS``) override the values it is built with."""

    # An empty variable is no override (compose passes unset variables as ""); "null" is None.
    model_config = SettingsConfigDict(
        env_nested_delimiter="__", extra="forbid", frozen=True, env_ignore_empty=True, env_parse_none_str="null"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the YAML file, which is passed in as init values.
        return (env_settings, init_settings)


def env_overrides(prefix: str) -> dict[str, str]:
    """Environment variables that start with ``prefix`` (case-insensitive), by name."""
    return {name: value for name, value in os.environ.items() if name.upper().startswith(prefix.upper())}


def apply_env_overrides(config: ModelT, settings: type[EnvOverridable], prefix: str, path: Path) -> EnvOverridable:
    """``config`` with the ``prefix`` environment variables applied through ``settings`` (a subclass of
    both :class:`EnvOverridable` and the config's model); a variable naming no key is an error."""
    overrides = env_overrides(prefix)
    fields = type(config).model_fields
    for name in overrides:
        key = name[len(prefix) :].split("__", 1)[0].lower()
        if key not in fields:
            raise ConfigError(f"environment variable {name} names no key of {path} (keys: {', '.join(fields)})")
    try:
        return settings(**config.model_dump())
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc) + f"\n  (environment overrides: {', '.join(sorted(overrides))})") from None


def load_config(path: str | Path, model: type[ModelT], env_prefix: str | None = None) -> ModelT:
    """Load and validate a YAML config; raises :class:`ConfigError` naming the file and key.

    With ``env_prefix`` (a command passes its model's ``env_prefix``), environment variables
    ``<env_prefix><KEY>`` override the file (see :class:`EnvOverridable`): docker-compose uses this to
    point a step at a Dask cluster.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        config = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from None
    if not env_prefix or not env_overrides(env_prefix):
        return config

    class Overridden(EnvOverridable, model):  # type: ignore[valid-type, misc]
        model_config = SettingsConfigDict(env_prefix=env_prefix)

    merged: Any = apply_env_overrides(config, Overridden, env_prefix, path)
    return model.model_validate(merged.model_dump())


def config_hash(config: BaseModel) -> str:
    """sha256 of the canonical JSON of a config (keys sorted, defaults included)."""
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class DistributeConfig(StrictModel):
    """The tf.distribute strategy training runs under (docs/training.md)."""

    strategy: Literal["none", "mirrored", "multi_worker"] = Field(
        "none", description="mirrored: all local GPUs; multi_worker: several machines described by TF_CONFIG."
    )
    cpu_devices: int = Field(1, ge=1, description="Logical devices the CPU is split into; above 1 `mirrored` runs without GPUs.")
