"""Tests of the fake GitHub itself, driven through the real githubkit client where it matters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import jwt
import pytest
from fakegithub import FakeGitHub, Gitlink, Symlink, generate_key_pair
from fakegithub.schemas import load_subset, shapes_for, to_jsonschema
from fakegithub.state import App, Installation, PullRequest, Repo
from fakegithub.webhooks import example_names, load_example
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub
from githubkit.exception import RequestFailed


@dataclass
class World:
    gh: FakeGitHub
    app: App
    inst: Installation
    repo: Repo
    pr: PullRequest


@pytest.fixture
def world() -> Iterator[World]:
    with FakeGitHub() as gh:
        app = gh.add_app(slug="prgate")
        inst = gh.add_installation(app, account="octo-org")
        repo = gh.create_repo(
            "octo-org/widgets",
            files={"app/x.py": "x = 1\n", "old.py": "old\n", "docs/readme.md": "# hi\n"},
            installation=inst,
        )
        pr = gh.open_pull_request(
            repo,
            head="feature",
            files={"app/x.py": "x = 2\n", "old.py": None, "new file.py": "print('n')\n"},
            labels=["safe"],
            author="builder",
        )
        yield World(gh, app, inst, repo, pr)
        assert gh.schema_errors == []


def client(w: World, *, installation: bool = True) -> GitHub[AppInstallationAuthStrategy]:
    auth = AppInstallationAuthStrategy(w.app.id, w.app.private_key_pem, w.inst.id)
    return GitHub(auth, base_url=w.gh.base_url, timeout=5.0, auto_retry=False, http_cache=False)


def app_client(w: World) -> GitHub[AppAuthStrategy]:
    auth = AppAuthStrategy(w.app.id, w.app.private_key_pem)
    return GitHub(auth, base_url=w.gh.base_url, timeout=5.0, auto_retry=False, http_cache=False)


def token_headers(w: World) -> dict[str, str]:
    return {"Authorization": f"token {w.gh.issue_token(w.inst).token}"}


def app_jwt(app_id: int, private_pem: str, *, lifetime: int = 540) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iat": now - 30, "exp": now + lifetime, "iss": str(app_id)}, private_pem, "RS256"
    )


# ---------------------------------------------------------------------------- auth


def test_githubkit_app_and_installation_auth_read_the_pull_request(world: World) -> None:
    w = world
    as_app = app_client(w)
    installation = as_app.rest.apps.get_repo_installation("octo-org", "widgets").parsed_data
    assert installation.id == w.inst.id
    gh = client(w)
    pull = gh.rest.pulls.get("octo-org", "widgets", w.pr.number).parsed_data
    assert pull.head.sha == w.gh.head_sha(w.pr)
    assert pull.head.ref == "feature"
    assert [label.name for label in pull.labels] == ["safe"]
    assert pull.base.ref == "main"
    # one JWT call for the installation lookup, one for the token, one with the token
    assert w.gh.count("POST", r"^/app/installations/\d+/access_tokens$") == 1
    assert w.gh.requests[-1].api_version == "2026-03-10"


def test_a_jwt_signed_with_another_key_is_refused(world: World) -> None:
    w = world
    other_private, _ = generate_key_pair()
    url = f"{w.gh.base_url}/app/installations/{w.inst.id}/access_tokens"
    bad = httpx.post(url, headers={"Authorization": f"Bearer {app_jwt(w.app.id, other_private)}"})
    assert bad.status_code == 401
    good = httpx.post(
        url, headers={"Authorization": f"Bearer {app_jwt(w.app.id, w.app.private_key_pem)}"}
    )
    assert good.status_code == 201
    assert good.json()["token"] in w.gh.tokens


def test_expired_or_too_long_jwt_and_missing_auth_are_refused(world: World) -> None:
    w = world
    url = f"{w.gh.base_url}/app/installations/{w.inst.id}/access_tokens"
    now = int(time.time())
    expired = jwt.encode(
        {"iat": now - 1200, "exp": now - 600, "iss": str(w.app.id)}, w.app.private_key_pem, "RS256"
    )
    assert httpx.post(url, headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    too_long = app_jwt(w.app.id, w.app.private_key_pem, lifetime=3600)
    assert httpx.post(url, headers={"Authorization": f"Bearer {too_long}"}).status_code == 401
    assert httpx.post(url).status_code == 401


def test_installation_tokens_expire_and_are_scoped_to_repositories(world: World) -> None:
    w = world
    w.gh.create_repo("octo-org/other", files={"a": "b"}, installation=w.inst, private=True)
    w.gh.create_repo("octo-org/open", files={"a": "b"}, installation=w.inst)
    jwt_headers = {"Authorization": f"Bearer {app_jwt(w.app.id, w.app.private_key_pem)}"}
    made = httpx.post(
        f"{w.gh.base_url}/app/installations/{w.inst.id}/access_tokens",
        headers=jwt_headers,
        json={"repositories": ["widgets"]},
    )
    assert made.status_code == 201
    assert [r["full_name"] for r in made.json()["repositories"]] == ["octo-org/widgets"]
    headers = {"Authorization": f"token {made.json()['token']}"}
    assert httpx.get(f"{w.gh.base_url}/repos/octo-org/widgets", headers=headers).status_code == 200
    assert httpx.get(f"{w.gh.base_url}/repos/octo-org/other", headers=headers).status_code == 404
    # Any installation token reads a public repository (and writes nothing there).
    assert httpx.get(f"{w.gh.base_url}/repos/octo-org/open", headers=headers).status_code == 200
    w.gh.expire_tokens()
    assert httpx.get(f"{w.gh.base_url}/repos/octo-org/widgets", headers=headers).status_code == 401
    assert (
        httpx.get(
            f"{w.gh.base_url}/repos/octo-org/widgets", headers={"Authorization": "token nope"}
        ).status_code
        == 401
    )


def test_repositories_outside_the_installation_are_not_found(world: World) -> None:
    w = world
    w.gh.create_repo("someone/private", files={"a": "b"}, private=True)
    response = httpx.get(f"{w.gh.base_url}/repos/someone/private", headers=token_headers(w))
    assert response.status_code == 404
    w.gh.create_repo("someone/public", files={"a": "b"})
    headers = token_headers(w)
    assert httpx.get(f"{w.gh.base_url}/repos/someone/public", headers=headers).status_code == 200
    assert (
        httpx.post(
            f"{w.gh.base_url}/repos/someone/public/check-runs",
            headers=headers,
            json={"name": "x", "head_sha": "0" * 40},
        ).status_code
        == 404
    )


def test_api_versions(world: World) -> None:
    w = world
    headers = token_headers(w)
    for version, status in (("2022-11-28", 200), ("2026-03-10", 200), ("2019-01-01", 400)):
        response = httpx.get(
            f"{w.gh.base_url}/repos/octo-org/widgets",
            headers={**headers, "X-GitHub-Api-Version": version},
        )
        assert response.status_code == status
        assert response.headers["x-github-api-version-selected"] == version
    assert int(response.headers["x-ratelimit-remaining"]) < 5000
    assert response.headers["x-ratelimit-resource"] == "core"


# ---------------------------------------------------------------------------- files & contents


def test_pull_request_files_are_computed_with_git(world: World) -> None:
    w = world
    w.gh.push(
        w.repo, "feature", {"docs/readme.md": None, "docs/guide.md": "# hi\n"}, message="rename"
    )
    gh = client(w)
    files = gh.rest.pulls.list_files("octo-org", "widgets", w.pr.number).parsed_data
    by_name = {f.filename: f for f in files}
    assert by_name["app/x.py"].status == "modified"
    assert by_name["app/x.py"].patch == "@@ -1 +1 @@\n-x = 1\n+x = 2"
    assert (by_name["app/x.py"].additions, by_name["app/x.py"].deletions) == (1, 1)
    assert by_name["old.py"].status == "removed"
    assert by_name["new file.py"].status == "added"
    assert by_name["docs/guide.md"].status == "renamed"
    assert by_name["docs/guide.md"].previous_filename == "docs/readme.md"


def test_pull_request_files_paginate_with_link_headers(world: World) -> None:
    w = world
    w.gh.push(w.repo, "feature", {f"many/f{i:03}.py": f"v = {i}\n" for i in range(250)})
    gh = client(w)
    names = [
        f.filename
        for f in gh.rest.paginate(
            gh.rest.pulls.list_files,
            owner="octo-org",
            repo="widgets",
            pull_number=w.pr.number,
            per_page=100,
        )
    ]
    assert len(names) == 253
    assert len(set(names)) == 253
    # github.rest.paginate follows the Link header: exactly 3 pages (the legacy github.paginate
    # would fetch a 4th, empty page)
    assert w.gh.count("GET", r"/pulls/\d+/files$") == 3
    first = httpx.get(
        f"{w.gh.base_url}/repos/octo-org/widgets/pulls/{w.pr.number}/files?per_page=100",
        headers=token_headers(w),
    )
    assert 'rel="next"' in first.headers["link"]
    assert "page=3" in first.headers["link"]


def test_pull_request_files_stop_at_githubs_cap(world: World) -> None:
    w = world
    w.gh.push(w.repo, "feature", {f"bulk/{i:04}.txt": "x\n" for i in range(3005)})
    headers = token_headers(w)
    total = 0
    for page in range(1, 40):
        response = httpx.get(
            f"{w.gh.base_url}/repos/octo-org/widgets/pulls/{w.pr.number}/files",
            params={"per_page": 100, "page": page},
            headers=headers,
        )
        if not response.json():
            break
        total += len(response.json())
    assert total == 3000
    pull = httpx.get(f"{w.gh.base_url}/repos/octo-org/widgets/pulls/{w.pr.number}", headers=headers)
    assert pull.json()["changed_files"] == 3008


def test_contents_at_a_ref(world: World) -> None:
    w = world
    gh = client(w)
    head = w.gh.head_sha(w.pr)
    content = gh.rest.repos.get_content("octo-org", "widgets", "app/x.py", ref=head).parsed_data
    assert getattr(content, "encoding", None) == "base64"
    import base64

    assert base64.b64decode(content.content) == b"x = 2\n"  # type: ignore[union-attr]
    with pytest.raises(RequestFailed) as missing:
        gh.rest.repos.get_content("octo-org", "widgets", "nope.py", ref=head)
    assert missing.value.response.status_code == 404
    on_default = gh.rest.repos.get_content("octo-org", "widgets", "app/x.py").parsed_data
    assert base64.b64decode(on_default.content) == b"x = 1\n"  # type: ignore[union-attr]


def test_graphql_reads_many_blobs_in_one_request(world: World) -> None:
    w = world
    w.gh.push(
        w.repo,
        "feature",
        {f"pkg/m{i}.py": f"value = {i}\n" for i in range(40)} | {"bin.dat": b"\0\1\2"},
    )
    head = w.gh.head_sha(w.pr)
    paths = [f"pkg/m{i}.py" for i in range(40)] + ["bin.dat", "missing.py"]
    aliases = " ".join(
        f"f{i}: object(expression: {json.dumps(f'{head}:{p}')}) {{ ... on Blob {{ text isBinary byteSize }} }}"
        for i, p in enumerate(paths)
    )
    query = f"query($owner: String!, $name: String!) {{ repository(owner: $owner, name: $name) {{ {aliases} }} }}"
    before = len(w.gh.requests)
    gh = client(w)
    data = gh.graphql.request(query, {"owner": "octo-org", "name": "widgets"})
    assert len(w.gh.requests) - before <= 2  # the token (first use) and ONE graphql call
    assert w.gh.count("POST", r"^/graphql$") == 1
    repo = data["repository"]
    assert repo["f7"] == {"text": "value = 7\n", "isBinary": False, "byteSize": 10}
    assert repo["f40"]["isBinary"] is True
    assert repo["f40"]["text"] is None
    assert repo["f41"] is None


def test_links_and_submodules_carry_their_modes_and_blobs_read_as_base64(world: World) -> None:
    w = world
    gitlink = "1" * 40
    w.gh.push(
        w.repo,
        "feature",
        {
            "app/link": Symlink("../docs"),
            "vendor/lib": Gitlink(gitlink),
            "app/data.bin": b"\0\xff bytes",
        },
    )
    head = w.gh.head_sha(w.pr)
    gh = client(w)
    tree = gh.rest.git.get_tree("octo-org", "widgets", head, recursive="1").parsed_data
    modes = {e.path: (e.mode, e.type, e.sha) for e in tree.tree}
    assert modes["app/link"][:2] == ("120000", "blob")
    assert modes["vendor/lib"] == ("160000", "commit", gitlink)
    assert modes["app/x.py"][:2] == ("100644", "blob")
    query = (
        "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {"
        f" d: object(expression: {json.dumps(head + ':app')}) "
        "{ ... on Tree { entries { name mode type oid } } }"
        f" l: object(expression: {json.dumps(head + ':app/link')}) {{ ... on Blob {{ text }} }}"
        " } }"
    )
    data = gh.graphql.request(query, {"owner": "octo-org", "name": "widgets"})
    entries = {e["name"]: e for e in data["repository"]["d"]["entries"]}
    assert entries["link"]["mode"] == 0o120000
    assert entries["x.py"]["mode"] == 0o100644
    assert data["repository"]["l"] == {"text": "../docs"}
    blob = gh.rest.git.get_blob("octo-org", "widgets", modes["app/data.bin"][2]).parsed_data
    assert blob.encoding == "base64"
    assert base64.b64decode(blob.content) == b"\0\xff bytes"
    assert blob.size == len(b"\0\xff bytes")
    with pytest.raises(RequestFailed) as missing:
        gh.rest.git.get_blob("octo-org", "widgets", "2" * 40)
    assert missing.value.response.status_code == 404


def test_graphql_reports_unknown_fields_and_hidden_repositories(world: World) -> None:
    w = world
    headers = token_headers(w)
    bad = httpx.post(
        f"{w.gh.base_url}/graphql",
        headers=headers,
        json={"query": '{ repository(owner: "octo-org", name: "widgets") { nope } }'},
    )
    assert bad.status_code == 200
    assert "nope" in bad.json()["errors"][0]["message"]
    hidden = httpx.post(
        f"{w.gh.base_url}/graphql",
        headers=headers,
        json={"query": '{ repository(owner: "x", name: "y") { name } }'},
    )
    assert hidden.json()["data"]["repository"] is None
    assert hidden.json()["errors"][0]["type"] == "NOT_FOUND"


# ---------------------------------------------------------------------------- checks & comments


def test_check_runs_accumulate_annotations_and_filter(world: World) -> None:
    w = world
    gh = client(w)
    head = w.gh.head_sha(w.pr)

    def note(line: int) -> dict[str, object]:
        return {
            "path": "app/x.py",
            "start_line": line,
            "end_line": line,
            "annotation_level": "failure",
            "message": f"line {line}",
        }

    run = gh.rest.checks.create(
        "octo-org",
        "widgets",
        name="prgate",
        head_sha=head,
        status="in_progress",
        output={
            "title": "Checking",
            "summary": "…",
            "annotations": [note(i) for i in range(1, 51)],
        },
    ).parsed_data
    gh.rest.checks.update(
        "octo-org",
        "widgets",
        run.id,
        conclusion="failure",
        output={"title": "2 problems", "summary": "done", "annotations": [note(51)]},
        actions=[
            {
                "label": "Apply fixes",
                "description": "Push a fix commit",
                "identifier": "apply-fixes",
            }
        ],
    )
    [stored] = w.gh.check_runs(w.repo)
    assert stored.status == "completed"
    assert stored.conclusion == "failure"
    assert len(stored.annotations) == 51
    assert stored.title == "2 problems"
    assert stored.actions[0]["identifier"] == "apply-fixes"
    listed = gh.rest.checks.list_for_ref(
        "octo-org", "widgets", head, check_name="prgate", app_id=w.app.id
    ).parsed_data
    assert listed.total_count == 1
    assert listed.check_runs[0].output.annotations_count == 51
    assert listed.check_runs[0].pull_requests[0].number == w.pr.number
    other = gh.rest.checks.list_for_ref("octo-org", "widgets", head, check_name="other").parsed_data
    assert other.total_count == 0


def test_invalid_check_run_bodies_are_refused_and_recorded(world: World) -> None:
    w = world
    headers = token_headers(w)
    head = w.gh.head_sha(w.pr)
    note = {
        "path": "a",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "failure",
        "message": "m",
    }
    too_many = httpx.post(
        f"{w.gh.base_url}/repos/octo-org/widgets/check-runs",
        headers=headers,
        json={
            "name": "prgate",
            "head_sha": head,
            "output": {"title": "t", "summary": "s", "annotations": [note] * 51},
        },
    )
    assert too_many.status_code == 422
    assert w.gh.check_runs(w.repo) == []
    assert len(w.gh.schema_errors) == 1
    w.gh.schema_errors.clear()
    unknown_sha = httpx.post(
        f"{w.gh.base_url}/repos/octo-org/widgets/check-runs",
        headers=headers,
        json={"name": "prgate", "head_sha": "f" * 40},
    )
    assert unknown_sha.status_code == 422


def test_one_comment_edited_in_place(world: World) -> None:
    w = world
    gh = client(w)
    made = gh.rest.issues.create_comment(
        "octo-org", "widgets", w.pr.number, body="<!-- prgate:report -->\nfirst"
    ).parsed_data
    assert made.user is not None and made.user.login == "prgate[bot]"
    gh.rest.issues.update_comment(
        "octo-org", "widgets", made.id, body="<!-- prgate:report -->\nsecond"
    )
    listed = gh.rest.issues.list_comments("octo-org", "widgets", w.pr.number).parsed_data
    assert [c.body for c in listed] == ["<!-- prgate:report -->\nsecond"]
    assert [c.body for c in w.gh.comments(w.repo, w.pr.number)] == [
        "<!-- prgate:report -->\nsecond"
    ]
    with pytest.raises(RequestFailed) as too_long:
        gh.rest.issues.create_comment("octo-org", "widgets", w.pr.number, body="x" * 65537)
    assert too_long.value.response.status_code == 422


def test_collaborator_permission(world: World) -> None:
    w = world
    w.gh.set_permission(w.repo, "maintainer", "write")
    gh = client(w)
    assert (
        gh.rest.repos.get_collaborator_permission_level(
            "octo-org", "widgets", "maintainer"
        ).parsed_data.permission
        == "write"
    )
    assert (
        gh.rest.repos.get_collaborator_permission_level(
            "octo-org", "widgets", "stranger"
        ).parsed_data.permission
        == "read"  # anyone may read a public repository
    )
    w.gh.set_permission(w.repo, "deployer", "write", custom_role="deployer")
    answer = gh.rest.repos.get_collaborator_permission_level(
        "octo-org", "widgets", "deployer"
    ).parsed_data
    assert (answer.permission, answer.role_name) == ("write", "deployer")
    w.gh.create_repo("octo-org/secret", files={"a": "b"}, installation=w.inst, private=True)
    assert (
        gh.rest.repos.get_collaborator_permission_level(
            "octo-org", "secret", "stranger"
        ).parsed_data.permission
        == "none"
    )


# ---------------------------------------------------------------------------- git data


def _fix_commit(gh: GitHub[AppInstallationAuthStrategy], head: str) -> str:
    blob = gh.rest.git.create_blob(
        "octo-org", "widgets", content="x = 3\n", encoding="utf-8"
    ).parsed_data
    tree = gh.rest.git.create_tree(
        "octo-org",
        "widgets",
        base_tree=head,
        tree=[
            {"path": "app/x.py", "mode": "100644", "type": "blob", "sha": blob.sha},
            {"path": "app/fixed.py", "mode": "100644", "type": "blob", "content": "ok = True\n"},
        ],
    ).parsed_data
    commit = gh.rest.git.create_commit(
        "octo-org", "widgets", message="prgate: apply fixes", tree=tree.sha, parents=[head]
    ).parsed_data
    return commit.sha


def test_fix_commit_through_the_git_data_api(world: World) -> None:
    w = world
    gh = client(w)
    head = w.gh.head_sha(w.pr)
    assert (
        gh.rest.git.get_ref("octo-org", "widgets", "heads/feature").parsed_data.object_.sha == head
    )
    new = _fix_commit(gh, head)
    updated = gh.rest.git.update_ref(
        "octo-org", "widgets", "heads/feature", sha=new, force=False
    ).parsed_data
    assert updated.object_.sha == new
    assert w.gh.branch_head(w.repo, "feature") == new
    assert w.gh.commit_parents(w.repo, new) == [head]
    assert w.gh.commit_message(w.repo, new) == "prgate: apply fixes"
    files = w.gh.files_at(w.repo, new)
    assert files["app/x.py"] == b"x = 3\n"
    assert files["app/fixed.py"] == b"ok = True\n"
    assert files["new file.py"] == b"print('n')\n"
    assert w.gh.head_sha(w.pr) == new
    tree = gh.rest.git.get_tree("octo-org", "widgets", new, recursive="1").parsed_data
    assert {e.path for e in tree.tree} >= {"app", "app/x.py", "app/fixed.py"}


def test_ref_update_that_is_not_a_fast_forward_is_refused(world: World) -> None:
    w = world
    gh = client(w)
    old_head = w.gh.head_sha(w.pr)
    new = _fix_commit(gh, old_head)
    moved = w.gh.push(w.repo, "feature", {"app/x.py": "x = 99\n"}, message="builder pushed")
    with pytest.raises(RequestFailed) as refused:
        gh.rest.git.update_ref("octo-org", "widgets", "heads/feature", sha=new, force=False)
    assert refused.value.response.status_code == 422
    assert "fast forward" in refused.value.response.text
    assert w.gh.branch_head(w.repo, "feature") == moved
    forced = gh.rest.git.update_ref(
        "octo-org", "widgets", "heads/feature", sha=new, force=True
    ).parsed_data
    assert forced.object_.sha == new


def test_pull_request_from_a_fork(world: World) -> None:
    w = world
    pr = w.gh.open_pull_request(
        w.repo, head="patch-1", files={"app/x.py": "x = 5\n"}, fork_owner="outsider"
    )
    assert pr.is_fork
    gh = client(w)
    pull = gh.rest.pulls.get("octo-org", "widgets", pr.number).parsed_data
    assert pull.head.repo is not None and pull.head.repo.full_name == "outsider/widgets"
    assert pull.head.repo.fork is True
    files = gh.rest.pulls.list_files("octo-org", "widgets", pr.number).parsed_data
    assert [f.filename for f in files] == ["app/x.py"]
    # the fork's head commit is readable in the base repository, as on GitHub
    content = gh.rest.repos.get_content(
        "octo-org", "widgets", "app/x.py", ref=pull.head.sha
    ).parsed_data
    assert content.sha  # type: ignore[union-attr]
    moved = w.gh.push(pr.head_repo, "patch-1", {"app/y.py": "y = 1\n"})
    assert w.gh.head_sha(pr) == moved
    assert gh.rest.pulls.get("octo-org", "widgets", pr.number).parsed_data.head.sha == moved


# ---------------------------------------------------------------------------- faults


def test_injected_502_on_a_write_creates_nothing(world: World) -> None:
    w = world
    gh = client(w)
    head = w.gh.head_sha(w.pr)
    w.gh.fail_next("POST", r"/check-runs$", status=502)
    with pytest.raises(RequestFailed) as failed:
        gh.rest.checks.create("octo-org", "widgets", name="prgate", head_sha=head)
    assert failed.value.response.status_code == 502
    assert w.gh.check_runs(w.repo) == []
    gh.rest.checks.create("octo-org", "widgets", name="prgate", head_sha=head)
    assert len(w.gh.check_runs(w.repo)) == 1
    statuses = [
        r.status for r in w.gh.requests if r.method == "POST" and r.path.endswith("/check-runs")
    ]
    assert statuses == [502, 201]


def test_injected_rate_limits_carry_their_headers(world: World) -> None:
    w = world
    headers = token_headers(w)
    w.gh.fail_next(
        "GET",
        r"/pulls/\d+$",
        status=403,
        times=2,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000000"},
        body={"message": "API rate limit exceeded"},
    )
    w.gh.fail_next("POST", r"^/graphql$", status=429, headers={"retry-after": "7"})
    url = f"{w.gh.base_url}/repos/octo-org/widgets/pulls/{w.pr.number}"
    for _ in range(2):
        limited = httpx.get(url, headers=headers)
        assert limited.status_code == 403
        assert limited.headers["x-ratelimit-remaining"] == "0"
        assert limited.headers["x-ratelimit-reset"] == "1700000000"
    assert httpx.get(url, headers=headers).status_code == 200
    slow = httpx.post(
        f"{w.gh.base_url}/graphql", headers=headers, json={"query": "{ rateLimit { cost } }"}
    )
    assert (slow.status_code, slow.headers["retry-after"]) == (429, "7")


# ---------------------------------------------------------------------------- manifest


def test_manifest_conversion_creates_a_working_app(world: World) -> None:
    w = world
    w.gh.add_manifest_code("abc123", manifest={"name": "prgate-test"})
    converted = httpx.post(f"{w.gh.base_url}/app-manifests/abc123/conversions")
    assert converted.status_code == 201
    body = converted.json()
    assert body["slug"] == "prgate-test"
    assert {"pem", "webhook_secret", "client_id", "client_secret", "id"} <= body.keys()
    signed = app_jwt(body["id"], body["pem"])
    assert (
        httpx.get(f"{w.gh.base_url}/app", headers={"Authorization": f"Bearer {signed}"}).json()[
            "id"
        ]
        == body["id"]
    )
    assert httpx.post(f"{w.gh.base_url}/app-manifests/abc123/conversions").status_code == 404


# ---------------------------------------------------------------------------- webhooks


EXPECTED_EXAMPLES = {
    "pull_request.opened",
    "pull_request.synchronize",
    "pull_request.reopened",
    "pull_request.closed",
    "pull_request.labeled",
    "pull_request.unlabeled",
    "pull_request.edited",
    "pull_request.ready_for_review",
    "pull_request_review.submitted",
    "pull_request_review.edited",
    "pull_request_review.dismissed",
    "check_suite.requested",
    "check_suite.rerequested",
    "check_run.rerequested",
    "check_run.requested_action",
    "issue_comment.created",
    "installation.created",
    "installation.deleted",
    "installation_repositories.added",
    "merge_group.checks_requested",
    "merge_group.destroyed",
    "ping",
}


def test_the_pull_requests_of_a_commit_are_the_open_ones_whose_head_it_is_or_holds(
    world: World,
) -> None:
    w = world
    head = w.gh.head_sha(w.pr)
    parent = w.gh.commit_parents(w.repo, head)[0]
    same = w.gh.open_pull_request(w.repo, head="feature", base="main", title="Same head")
    other = w.gh.open_pull_request(w.repo, head="other", files={"o.py": "o = 1\n"})
    gh = client(w)

    def numbers(sha: str) -> list[int]:
        found = gh.rest.repos.list_pull_requests_associated_with_commit(
            "octo-org", "widgets", sha
        ).parsed_data
        return [p.number for p in found]

    assert numbers(head) == [same.number, w.pr.number]
    assert numbers(parent) == [other.number, same.number, w.pr.number]  # main's commit
    w.gh.close_pull_request(same)
    assert numbers(head) == [w.pr.number]
    closed = gh.rest.pulls.get("octo-org", "widgets", same.number).parsed_data
    assert closed.state == "closed" and closed.closed_at is not None
    w.gh.reopen_pull_request(same)
    assert numbers(head) == [same.number, w.pr.number]
    assert gh.rest.pulls.get("octo-org", "widgets", same.number).parsed_data.closed_at is None


def test_every_vendored_example_is_present_and_parses() -> None:
    assert set(example_names()) == EXPECTED_EXAMPLES
    for name in EXPECTED_EXAMPLES:
        event, _, action = name.partition(".")
        payload = load_example(event, action or None)
        assert "sender" in payload
        if action:
            assert payload["action"] == action


@pytest.mark.parametrize("name", sorted(EXPECTED_EXAMPLES))
def test_deliveries_are_patched_and_signed(world: World, name: str) -> None:
    w = world
    event, _, action = name.partition(".")
    extra: dict[str, object] = {}
    if event == "check_run":
        gh = client(w)
        gh.rest.checks.create("octo-org", "widgets", name="prgate", head_sha=w.gh.head_sha(w.pr))
        extra["check_run"] = w.gh.check_runs(w.repo)[0]
    if event == "issue_comment":
        extra["comment_body"] = "/prgate fix"
    if event == "pull_request_review":
        extra["review"] = w.gh.add_review(w.pr, "lead")
    if event == "merge_group":
        extra["group"] = w.gh.queue_merge_group([w.pr])
    delivery = w.gh.webhook(
        event, action or None, installation=w.inst, repo=w.repo, pr=w.pr, sender="builder", **extra
    )
    expected = (
        "sha256="
        + hmac.new(w.app.webhook_secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    )
    assert delivery.headers["X-Hub-Signature-256"] == expected
    assert delivery.headers["X-GitHub-Event"] == event
    assert delivery.headers["X-GitHub-Delivery"] == delivery.delivery_id
    payload = json.loads(delivery.body)
    assert payload == delivery.payload
    assert payload["sender"]["login"] == "builder"
    if event not in ("ping",):
        assert payload["installation"]["id"] == w.inst.id
    head = w.gh.head_sha(w.pr)
    if event == "pull_request":
        assert payload["number"] == w.pr.number
        assert payload["pull_request"]["head"]["sha"] == head
        assert payload["repository"]["full_name"] == "octo-org/widgets"
    if event == "check_suite":
        assert payload["check_suite"]["head_sha"] == head
        assert payload["check_suite"]["pull_requests"][0]["number"] == w.pr.number
    if event == "check_run":
        assert payload["check_run"]["id"] == w.gh.check_runs(w.repo)[0].id
        assert payload["check_run"]["app"]["id"] == w.app.id
        if action == "requested_action":
            assert payload["requested_action"] == {"identifier": "apply-fixes"}
    if event == "issue_comment":
        assert payload["issue"]["number"] == w.pr.number
        assert "pull_request" in payload["issue"]
        assert payload["comment"]["body"] == "/prgate fix"
    if event == "installation_repositories":
        assert [r["full_name"] for r in payload["repositories_added"]] == ["octo-org/widgets"]
    if event == "ping":
        assert payload["hook"]["app_id"] == w.app.id
    if event == "merge_group":
        group = payload["merge_group"]
        assert group["head_sha"] == group["head_commit"]["id"] == extra["group"].head_sha  # type: ignore[attr-defined]
        assert group["base_sha"] == w.gh.branch_head(w.repo, "main")
        assert group["head_ref"].endswith(f"/pr-{w.pr.number}-{group['base_sha']}")
        assert group["base_ref"] == "refs/heads/main"


def test_a_merge_group_is_compared_with_its_base(world: World) -> None:
    w = world
    second = w.gh.open_pull_request(w.repo, head="other", files={"o.py": "o = 1\n"}, title="O")
    group = w.gh.queue_merge_group([w.pr, second])
    assert w.gh.branch_head(w.repo, "main") == group.base_sha  # the base branch stays
    gh = client(w)
    found = gh.rest.repos.compare_commits(
        "octo-org", "widgets", f"{group.base_sha}...{group.head_sha}"
    ).parsed_data
    assert found.status == "ahead" and found.ahead_by == 2 and found.total_commits == 2
    assert [c.commit.message for c in found.commits] == [
        f"{w.pr.title} (#{w.pr.number})",
        f"O (#{second.number})",
    ]
    pr_files = {f.filename for f in gh.rest.pulls.list_files("octo-org", "widgets", 1).parsed_data}
    assert {f.filename for f in found.files or []} == pr_files | {"o.py"}
    assert w.gh.schema_errors == []


# ---------------------------------------------------------------------------- schemas


def test_nullable_is_translated_for_jsonschema() -> None:
    translated = to_jsonschema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "nullable": True, "enum": ["x"]},
                "nullable": {"type": "integer"},
                "b": {"allOf": [{"type": "integer"}], "nullable": True},
            },
        },
        "2022-11-28",
    )
    assert translated["properties"]["a"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert translated["properties"]["nullable"] == {"type": "integer"}
    assert translated["properties"]["b"]["anyOf"][0] == {"type": "null"}


def test_breaking_changes_apply_from_their_version() -> None:
    pull = load_subset()["components"]["schemas"]["pull-request"]
    old = to_jsonschema(pull, "2022-11-28")
    new = to_jsonschema(pull, "2026-03-10")
    assert "merge_commit_sha" in old["properties"]
    assert "merge_commit_sha" not in new["properties"]


ENTERPRISE = {
    "name": "octocat",
    "slug": "octocat",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


def test_every_vendored_example_response_validates_except_githubs_own_slip() -> None:
    for version in ("2022-11-28", "2026-03-10"):
        shapes = shapes_for(version)
        for key, op in load_subset()["operations"].items():
            for status, response in op["responses"].items():
                if "example" not in response:
                    continue
                example = response["example"]
                # GitHub's own examples omit a few required keys; everything else validates
                if key == "GET /repos/{owner}/{repo}/pulls/{pull_number}":
                    example = {**example, "requested_teams": []}
                if key == "GET /repos/{owner}/{repo}":
                    example = {
                        **example,
                        "language": None,
                        "source": {**example["source"], "language": None},
                    }
                if key == "GET /repos/{owner}/{repo}/collaborators/{username}/permission":
                    example = {**example, "user": {**example["user"], "role_name": "admin"}}
                if key in (  # a team without its type
                    "GET /repos/{owner}/{repo}/pulls",
                    "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
                ):
                    example = [{**pr, "requested_teams": []} for pr in example]
                if key == "GET /app/installations":  # account: user allOf enterprise
                    example = [{**i, "account": {**i["account"], **ENTERPRISE}} for i in example]
                assert shapes.response_errors(key, int(status), example) == [], key


def test_response_validation_catches_a_wrong_shape() -> None:
    shapes = shapes_for("2026-03-10")
    key = "GET /repos/{owner}/{repo}/pulls/{pull_number}"
    assert any("required" in e for e in shapes.response_errors(key, 200, {"id": 1}))
    assert shapes.response_errors(key, 418, {}) == [f"{key}: status 418 is not documented"]
    assert shapes.request_errors("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {"force": True})


def test_the_fakes_responses_validate_against_the_description(world: World) -> None:
    w = world
    headers = token_headers(w)
    head = w.gh.head_sha(w.pr)
    base = f"{w.gh.base_url}/repos/octo-org/widgets"
    httpx.post(f"{base}/check-runs", headers=headers, json={"name": "prgate", "head_sha": head})
    httpx.post(f"{base}/issues/{w.pr.number}/comments", headers=headers, json={"body": "hi"})
    for path in (
        "",
        f"/pulls/{w.pr.number}",
        f"/pulls/{w.pr.number}/files",
        "/contents/app",
        "/contents/app/x.py",
        f"/commits/{head}/check-runs",
        f"/issues/{w.pr.number}/comments",
        "/git/ref/heads/main",
        f"/git/trees/{head}",
        f"/git/commits/{head}",
        "/collaborators/builder/permission",
    ):
        assert httpx.get(base + path, headers=headers).status_code == 200, path
    # every one of these was validated as it was served; the fixture asserts none failed
    validated = [r for r in w.gh.requests if 200 <= r.status < 300]
    assert len(validated) >= 13
    assert w.gh.schema_errors == []


# ---------------------------------------------------------------------------- reviews and teams


def test_reviews_commits_and_team_memberships(world: World) -> None:
    w = world
    first = w.gh.add_review(w.pr, "lead")
    w.gh.push(w.repo, "feature", {"app/y.py": "y = 1\n"}, author="helper", committer="web-flow")
    w.gh.add_review(w.pr, "ops", "CHANGES_REQUESTED")
    w.gh.dismiss_review(first)
    w.gh.add_team_member("octo-org/dba", "Dana")
    gh = client(w)
    reviews = gh.rest.pulls.list_reviews("octo-org", "widgets", w.pr.number).parsed_data
    assert [(r.user.login if r.user else None, r.state) for r in reviews] == [
        ("lead", "DISMISSED"),
        ("ops", "CHANGES_REQUESTED"),
    ]
    assert reviews[1].commit_id == w.gh.head_sha(w.pr) != reviews[0].commit_id
    commits = gh.rest.pulls.list_commits("octo-org", "widgets", w.pr.number).parsed_data
    people = [
        (getattr(c.author, "login", None), getattr(c.committer, "login", None)) for c in commits
    ]
    assert people == [("builder", "builder"), ("helper", "web-flow")]
    assert commits[-1].sha == w.gh.head_sha(w.pr)
    member = gh.rest.teams.get_membership_for_user_in_org("octo-org", "dba", "dana")
    assert member.parsed_data.state == "active"
    for org, login in (("octo-org", "lead"), ("other-org", "dana")):
        with pytest.raises(RequestFailed) as err:
            gh.rest.teams.get_membership_for_user_in_org(org, "dba", login)
        assert err.value.response.status_code == 404
    w.inst.permissions.pop("members")  # an installation that did not grant Members: read
    url = f"{w.gh.base_url}/orgs/octo-org/teams/dba/memberships/dana"
    assert httpx.get(url, headers=token_headers(w)).status_code == 403
    assert w.gh.schema_errors == []


# ---------------------------------------------------------------------------- merged pull requests


def test_a_merged_pull_request_keeps_its_base_and_is_listed_with_its_merge(world: World) -> None:
    w = world
    main_before = w.gh.branch_head(w.repo, "main")
    head = w.gh.head_sha(w.pr)
    merge = w.gh.merge_pull_request(w.pr)
    assert w.gh.commit_parents(w.repo, merge) == [main_before, head]
    after = w.gh.files_at(w.repo, "main")
    assert after["app/x.py"] == b"x = 2\n" and "old.py" not in after
    # A later change of main does not change what the merged pull request shows.
    w.gh.push(w.repo, "main", {"later.py": "y = 1\n"}, message="later")
    other = w.gh.open_pull_request(w.repo, head="other", files={"o.py": "o\n"}, base="main")
    headers = token_headers(w)
    base = f"{w.gh.base_url}/repos/octo-org/widgets"
    pull = httpx.get(f"{base}/pulls/{w.pr.number}", headers=headers).json()
    assert (pull["merged"], pull["merge_commit_sha"]) == (True, merge)
    assert pull["base"]["sha"] == main_before and pull["state"] == "closed"
    files = httpx.get(f"{base}/pulls/{w.pr.number}/files", headers=headers).json()
    assert {f["filename"] for f in files} == {"app/x.py", "old.py", "new file.py"}
    listed = httpx.get(
        f"{base}/pulls",
        headers=headers,
        params={"state": "closed", "base": "main", "sort": "updated", "direction": "desc"},
    ).json()
    assert [(p["number"], p["merged_at"] is not None) for p in listed] == [(w.pr.number, True)]
    assert [p["number"] for p in httpx.get(f"{base}/pulls", headers=headers).json()] == [
        other.number
    ]
    assert httpx.get(f"{base}/pulls", headers=headers, params={"base": "dev"}).json() == []
