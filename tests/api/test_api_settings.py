"""api.settings.Settings: explicit defaults, NOTECHECK_* variables, errors that name the variable."""

from __future__ import annotations

import pytest

from api.settings import Settings
from notecheck.errors import ConfigError


def test_defaults_read_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTECHECK_DATABASE_URL", "sqlite:///elsewhere.db")
    settings = Settings()
    assert settings.db_url == "sqlite:///notecheck.db"
    assert settings.max_text_chars == 65536 and settings.example_page and settings.cors_origins == ()


def test_from_env_then_overrides() -> None:
    env = {
        "NOTECHECK_DATABASE_URL": "postgresql://db/notecheck",
        "NOTECHECK_MAX_TEXT_CHARS": "1000",
        "NOTECHECK_KEY_CACHE_SECONDS": "2.5",
        "NOTECHECK_EXAMPLE_PAGE": "off",
        "NOTECHECK_CORS_ORIGINS": "https://a.example, https://b.example",
        "NOTECHECK_SCAN_WORKERS": "2",
        "NOTECHECK_WORKER_THREADS": "",
    }
    settings = Settings.from_env(env, db_url=None, max_body_bytes=4096)
    assert settings.db_url == "postgresql://db/notecheck" and settings.max_text_chars == 1000
    assert settings.key_cache_seconds == 2.5 and settings.example_page is False
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.scan_workers == 2 and settings.worker_threads == 4 and settings.max_body_bytes == 4096


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"NOTECHECK_MAX_TEXT_CHARS": "lots"}, "NOTECHECK_MAX_TEXT_CHARS"),
        ({"NOTECHECK_EXAMPLE_PAGE": "maybe"}, "NOTECHECK_EXAMPLE_PAGE"),
        ({"NOTECHECK_WORKER_THREADS": "0"}, "worker_threads"),
        ({"NOTECHECK_SCAN_WORKERS": "0"}, "scan_workers"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)
