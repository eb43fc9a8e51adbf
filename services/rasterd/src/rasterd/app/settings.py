"""The service's settings: ``configs/rasterd.yaml`` (model ``glyph_core.serve_config.RasterdConfig``, where
every default lives), overridden by environment variables ``RASTERD_<KEY>`` with ``__`` between
nested keys (``RASTERD_SERVER__HOST=0.0.0.0``, ``RASTERD_SERVER__WORKERS=2``)."""

from __future__ import annotations

import os
from pathlib import Path

from glyph_core.config import EnvOverridable, apply_env_overrides, load_config
from glyph_core.serve_config import RasterdConfig
from pydantic_settings import SettingsConfigDict

ENV_PREFIX = RasterdConfig.env_prefix
# Worker processes find the config file through this variable (uvicorn starts them by import string).
CONFIG_PATH_VARIABLE = "GLYPHGRID_RASTERD_CONFIG"
DEFAULT_CONFIG = "configs/rasterd.yaml"


class RasterdSettings(EnvOverridable, RasterdConfig):
    """RasterdConfig with environment overrides (the one settings class of the service)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)


def load_settings(path: str | Path = DEFAULT_CONFIG) -> RasterdSettings:
    """Read and validate the YAML, then apply ``RASTERD_*`` overrides; errors name the key and file."""
    config = load_config(path, RasterdConfig)
    return apply_env_overrides(config, RasterdSettings, ENV_PREFIX, Path(path))  # type: ignore[return-value]


def settings_from_environment() -> RasterdSettings:
    """Settings of a worker process: the config file `rasterd serve` was given, plus overrides."""
    return load_settings(os.environ.get(CONFIG_PATH_VARIABLE, DEFAULT_CONFIG))
