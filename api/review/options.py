"""Settings of the reviewer queue. Read from the app's Settings object by attribute name when it has them
(`review_cookie_secure`, `review_session_hours`, ...), else these defaults; tests and embedders may pass their own."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ReviewOptions:
    cookie_secure: bool | None = None  # None: Secure when the request came over https (or X-Forwarded-Proto: https)
    session_hours: float = 8.0  # absolute lifetime of a login
    idle_minutes: float = 60.0  # a session unused this long ends
    login_max_failures: int = 5  # failed logins per username and client address ...
    login_window_minutes: float = 15.0  # ... within this window, then 429 until the window passes
    page_size: int = 50
    min_password_chars: int = 8

    @classmethod
    def from_settings(cls, settings: Any) -> ReviewOptions:
        given = {
            f.name: getattr(settings, f"review_{f.name}") for f in fields(cls) if hasattr(settings, f"review_{f.name}")
        }
        return cls(**given)
