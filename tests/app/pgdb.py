"""A fresh database on the machine's PostgreSQL for one test, dropped afterwards.

PostgreSQL is part of the test environment (127.0.0.1:5432, user ``postgres``, no password):
when it cannot be reached the test fails and says so, it is never skipped.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432"


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create ``prgate_test_<random>``; yield its URL; drop it (closing what still uses it)."""
    name = f"prgate_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            "these tests need the PostgreSQL server at 127.0.0.1:5432 (user postgres, trust "
            f"auth), and it cannot be reached: {exc}"
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
        try:
            yield f"{SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of ``sql`` on the database at ``url`` (a connection of its own)."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql.encode()).fetchall()
