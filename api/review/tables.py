"""The reviewer queue's own tables (migration 0002_review): server-side sessions and login failures.

Kept as SQLAlchemy Core tables on a private MetaData so the shared models module stays as it is.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

metadata = MetaData()

review_sessions = Table(
    "review_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie token
    Column("user_id", Integer, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

login_failures = Table(
    "review_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(200), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
)
