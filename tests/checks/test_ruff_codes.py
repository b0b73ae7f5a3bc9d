"""What the bundled ruff knows is asked once and kept in the user's cache folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from prgate.checks.ruff import codes


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    codes.known_codes.cache_clear()
    yield tmp_path / "cache" / "prgate"
    codes.known_codes.cache_clear()


def test_the_listing_is_asked_once_then_read_from_the_cache(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = codes.known_codes()
    assert first is not None and "F401" in first.codes and "PLC" in first.heads
    (cached,) = cache_home.glob("ruff-codes-*.json")
    assert cached.stat().st_mode & 0o077 == 0  # the owner's alone

    def no_ruff(*args: str) -> list[dict[str, object]]:
        raise AssertionError("ruff was asked again")

    monkeypatch.setattr(codes, "_listing", no_ruff)
    codes.known_codes.cache_clear()
    again = codes.known_codes()
    assert again == first
    assert again is not None and again.problems(["F401", "E7"]) is None
    assert "F999" in (again.problems(["F999"]) or "")


def test_a_damaged_cache_is_asked_again_and_replaced(cache_home: Path) -> None:
    assert codes.known_codes() is not None
    (cached,) = cache_home.glob("ruff-codes-*.json")
    for damaged in (b"{not json", b'{"heads": [], "codes": [], "removed": []}', b"[1, 2]"):
        cached.write_bytes(damaged)
        codes.known_codes.cache_clear()
        known = codes.known_codes()
        assert known is not None and "F401" in known.codes
        assert "F401" in json.loads(cached.read_bytes())["codes"]


def test_a_cache_folder_that_cannot_be_written_costs_nothing_but_time(
    cache_home: Path, tmp_path: Path
) -> None:
    cache_home.parent.mkdir(parents=True)
    cache_home.write_text("a file where the folder should be")
    known = codes.known_codes()
    assert known is not None and "F401" in known.codes


def test_a_link_in_place_of_the_cache_file_is_not_followed(
    cache_home: Path, tmp_path: Path
) -> None:
    assert codes.known_codes() is not None
    (cached,) = cache_home.glob("ruff-codes-*.json")
    elsewhere = tmp_path / "planted.json"
    elsewhere.write_text(json.dumps({"heads": ["F"], "codes": ["F401"], "removed": []}))
    cached.unlink()
    cached.symlink_to(elsewhere)
    codes.known_codes.cache_clear()
    known = codes.known_codes()
    assert known is not None and "E501" in known.codes  # asked ruff, not the planted list
