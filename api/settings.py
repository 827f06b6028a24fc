"""The HTTP service's configuration: one frozen object, built explicitly (`Settings(...)`, which reads nothing) or
from the environment (`Settings.from_env()`).

| field | environment variable | default |
| --- | --- | --- |
| db_url | NOTECHECK_DATABASE_URL | sqlite:///notecheck.db |
| max_text_chars | NOTECHECK_MAX_TEXT_CHARS | 65536 (64 KiB of text; longer notes get 413) |
| max_body_bytes | NOTECHECK_MAX_BODY_BYTES | 1 MiB (larger request bodies are refused before parsing) |
| worker_threads | NOTECHECK_WORKER_THREADS | 4 (checks running at once, off the event loop) |
| key_cache_seconds | NOTECHECK_KEY_CACHE_SECONDS | 30 (a revoked key keeps working at most this long) |
| key_cache_size | NOTECHECK_KEY_CACHE_SIZE | 1024 |
| scan_root | NOTECHECK_SCAN_ROOT | . (the working directory: POST /v1/scans reads files only below it) |
| max_running_scans | NOTECHECK_MAX_RUNNING_SCANS | 1 |
| scan_workers | NOTECHECK_SCAN_WORKERS | the scanner's default (one process per CPU) |
| example_page | NOTECHECK_EXAMPLE_PAGE | true (serve /example, the demo form using the JS gate) |
| cors_origins | NOTECHECK_CORS_ORIGINS | none (comma-separated origins whose pages may call /v1/check and /v1/gate) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from notecheck.errors import ConfigError
from notecheck.note import DEFAULT_MAX_CHARS
from notecheck.store.db import DEFAULT_URL

_ENV = {
    "db_url": "NOTECHECK_DATABASE_URL",
    "max_text_chars": "NOTECHECK_MAX_TEXT_CHARS",
    "max_body_bytes": "NOTECHECK_MAX_BODY_BYTES",
    "worker_threads": "NOTECHECK_WORKER_THREADS",
    "key_cache_seconds": "NOTECHECK_KEY_CACHE_SECONDS",
    "key_cache_size": "NOTECHECK_KEY_CACHE_SIZE",
    "scan_root": "NOTECHECK_SCAN_ROOT",
    "max_running_scans": "NOTECHECK_MAX_RUNNING_SCANS",
    "scan_workers": "NOTECHECK_SCAN_WORKERS",
    "example_page": "NOTECHECK_EXAMPLE_PAGE",
    "cors_origins": "NOTECHECK_CORS_ORIGINS",
}


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_URL
    max_text_chars: int = DEFAULT_MAX_CHARS
    max_body_bytes: int = 1024 * 1024
    worker_threads: int = 4
    key_cache_seconds: float = 30.0
    key_cache_size: int = 1024
    scan_root: str = "."
    max_running_scans: int = 1
    scan_workers: int | None = None
    example_page: bool = True
    cors_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("max_text_chars", "max_body_bytes", "worker_threads", "key_cache_size", "max_running_scans"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, not {getattr(self, name)}", key=name)
        if self.scan_workers is not None and self.scan_workers < 1:
            raise ConfigError(f"scan_workers must be at least 1, not {self.scan_workers}", key="scan_workers")
        if self.key_cache_seconds < 0:
            raise ConfigError("key_cache_seconds must not be negative", key="key_cache_seconds")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from NOTECHECK_* variables (see the module docstring), then `overrides` (None values ignored)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, variable in _ENV.items():
            raw = env.get(variable)
            if raw is None or raw.strip() == "":
                continue
            values[name] = _parse(raw.strip(), types[name], variable)
        settings = cls(**values)
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **given) if given else settings


def _parse(raw: str, kind: Any, variable: str) -> Any:
    kind = str(kind)
    try:
        if kind in ("int", "int | None"):
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"{variable} must be a number, not {raw!r}", key=variable) from None
    if kind.startswith("tuple"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if kind == "bool":
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{variable} must be true or false, not {raw!r}", key=variable)
    return raw
