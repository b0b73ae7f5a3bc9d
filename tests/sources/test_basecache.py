"""Base files kept by commit: found again, a missing file remembered, bounded by bytes."""

from __future__ import annotations

from prgate.sources.basecache import BaseCache


def test_files_of_a_base_commit_are_found_again_and_missing_ones_remembered() -> None:
    cache = BaseCache(max_bytes=100_000)
    assert cache.get("o/r", "a" * 40, ".github/prgate.yml") == (False, None)
    cache.put("o/r", "a" * 40, ".github/prgate.yml", b"packs: [team]\n")
    cache.put("o/r", "a" * 40, ".github/prgate.yaml", None)
    cache.put("o/r", "a" * 40, "empty.toml", b"")
    assert cache.get("O/R", "a" * 40, ".github/prgate.yml") == (True, b"packs: [team]\n")
    assert cache.get("o/r", "a" * 40, ".github/prgate.yaml") == (True, None)
    assert cache.get("o/r", "a" * 40, "empty.toml") == (True, b"")
    # Another base commit is another content.
    assert cache.get("o/r", "b" * 40, ".github/prgate.yml") == (False, None)


def test_the_least_recently_used_go_first_past_the_bound() -> None:
    cache = BaseCache(max_bytes=40_000)
    for n in range(10):
        cache.put("o/r", f"{n:040}", "pyproject.toml", b"x" * 5_000)
        cache.get("o/r", f"{0:040}", "pyproject.toml")  # the first one stays in use
    assert cache.size <= 40_000
    assert cache.get("o/r", f"{0:040}", "pyproject.toml")[0]
    assert not cache.get("o/r", f"{1:040}", "pyproject.toml")[0]
    assert cache.get("o/r", f"{9:040}", "pyproject.toml")[0]
    cache.put("o/r", "c" * 40, "huge.toml", b"x" * 20_000)  # over a quarter: not kept
    assert not cache.get("o/r", "c" * 40, "huge.toml")[0]
