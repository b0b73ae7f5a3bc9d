"""The pytest fixture of the fake GitHub, and its lifecycle."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fakegithub import FakeGitHub
from fakegithub.plugin import fake_github

__all__ = ["fake_github"]


def test_the_fixture_serves_on_loopback(fake_github: FakeGitHub) -> None:
    assert fake_github.base_url.startswith("http://127.0.0.1:")
    assert fake_github.graphql_url == f"{fake_github.base_url}/graphql"
    response = httpx.get(f"{fake_github.base_url}/repos/a/b")
    assert response.status_code == 401
    assert fake_github.count("GET", r"^/repos/a/b$") == 1


def test_stopping_removes_the_repositories() -> None:
    with FakeGitHub() as gh:
        repo = gh.create_repo("octo-org/gone", files={"a.txt": "a\n"})
        path = Path(repo.path)
        assert (path / "HEAD").exists()
        url = gh.base_url
    assert not path.exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/app", timeout=1)
    with pytest.raises(RuntimeError):
        _ = gh.base_url
