"""The fake GitHub's HTTP surface: one Starlette endpoint dispatching to handlers by regex.

Every request is logged; the added latency is slept first (on the event loop, holding nothing);
injected faults are answered next; then, in a worker thread, the API version, the credentials,
the request body's shape (against the vendored OpenAPI description) are checked and the handler
runs under the fake's state lock: shared with other readers for reads (``GET``, ``/graphql``),
alone for writes. Responses carry GitHub's rate-limit headers and, when ``validate_responses`` is
on, are checked against the description too, after the lock is released (mismatches are collected
in ``FakeGitHub.schema_errors``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

import jwt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fakegithub import graphql
from fakegithub.gitrepo import ZERO_SHA, DiffEntry, GitError, TreeEntry
from fakegithub.schemas import BASE_VERSION, SUPPORTED_VERSIONS, shapes_for
from fakegithub.state import (
    App,
    CheckRun,
    Comment,
    Fault,
    Installation,
    LoggedRequest,
    PullRequest,
    Repo,
    Review,
    Token,
)

if TYPE_CHECKING:
    from fakegithub.fake import FakeGitHub

DOCS = "https://docs.github.com/rest"
MAX_FILES = 3000
RATE_LIMIT = 5000


class HttpError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message": self.message,
            "documentation_url": DOCS,
            "status": str(self.status),
        }
        if self.errors:
            out["errors"] = self.errors
        return out


@dataclass
class Ctx:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    body: Any
    version: str
    params: dict[str, str]
    op: str | None
    token: Token | None = None
    app: App | None = None
    repo: Repo | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteSpec:
    method: str
    pattern: re.Pattern[str]
    op: str | None  # key in the vendored subset ("METHOD /template"), None = not REST
    auth: str  # "jwt" | "token" | "graphql" | "none"
    handler: Callable[[FakeGitHub, Ctx], tuple[int, Any]]


Handler = Callable[["FakeGitHub", Ctx], tuple[int, Any]]
_ROUTES: list[RouteSpec] = []


def route(
    method: str, template: str, *, auth: str = "token", rest: bool = True
) -> Callable[[Handler], Handler]:
    regex = (
        "^"
        + re.sub(
            r"\{(\w+)\}",
            lambda m: (
                f"(?P<{m.group(1)}>.+)"
                if m.group(1) in ("path", "ref")
                else f"(?P<{m.group(1)}>[^/]+)"
            ),
            template,
        )
        + "$"
    )

    def deco(fn: Handler) -> Handler:
        _ROUTES.append(
            RouteSpec(method, re.compile(regex), f"{method} {template}" if rest else None, auth, fn)
        )
        return fn

    return deco


def build_asgi_app(fake: FakeGitHub) -> Starlette:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        if fake.latency > 0:
            await asyncio.sleep(fake.latency)
        kind, hang = _chaos(fake, request.method, request.url.path)
        if kind == "hang":  # no effect, and no answer before the client gives up
            await _hang(fake, hang)
            _log_fault(fake, request, 504)
            return Response(content=b"", status_code=504)
        if kind in ("502", "429"):
            status = int(kind)
            _log_fault(fake, request, status)
            headers = {"content-type": "application/json; charset=utf-8"}
            if status == 429:
                headers["retry-after"] = "1"
                message = "You have exceeded a secondary rate limit. Please wait a few seconds."
            else:
                message = "Server Error"
            return Response(
                content=json.dumps({"message": message, "documentation_url": DOCS}).encode(),
                status_code=status,
                headers=headers,
            )
        status, headers, content = await run_in_threadpool(
            _answer,
            fake,
            method=request.method,
            path=request.url.path,
            query_string=request.url.query,
            headers={k.lower(): v for k, v in request.headers.items()},
            raw=raw,
        )
        if kind == "lost":  # the call took effect, but its answer comes too late
            await _hang(fake, hang)
        return Response(content=content, status_code=status, headers=headers)

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]
    return Starlette(routes=[Route("/{rest:path}", endpoint, methods=methods)])


def _answer(
    fake: FakeGitHub,
    *,
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    raw: bytes,
) -> tuple[int, dict[str, str], bytes]:
    """``dispatch`` and the answer's bytes (run in a worker thread, off the event loop)."""
    status, out_headers, payload = dispatch(
        fake, method=method, path=path, query_string=query_string, headers=headers, raw=raw
    )
    if payload is None:
        return status, out_headers, b""
    out_headers.setdefault("content-type", "application/json; charset=utf-8")
    return status, out_headers, json.dumps(payload).encode()


def _reads_only(spec: RouteSpec) -> bool:
    """Whether the handler only reads the state (so it may run alongside other readers)."""
    return spec.method == "GET" or spec.auth == "graphql"


def dispatch(
    fake: FakeGitHub,
    *,
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    raw: bytes,
) -> tuple[int, dict[str, str], Any]:
    query = {k: v[0] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
    version_header = headers.get("x-github-api-version")
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
    auth_kind = None
    if "authorization" in headers:
        auth_kind = "jwt" if headers["authorization"].count(".") == 2 else "token"
    spec, params = _match(method, path)
    version = version_header or BASE_VERSION
    ctx = Ctx(
        method=method,
        path=path,
        query=query,
        headers=headers,
        raw=raw,
        body=body,
        version=version,
        params=params,
        op=spec.op if spec else None,
    )
    status: int
    payload: Any
    out_headers: dict[str, str] = {}
    with fake.fault_lock:
        fault = _take_fault(fake, method, path)
    spent, window_headers = _rate_window(fake, headers)
    if spent is not None and fault is None:
        fault = spent
    if fault is not None:
        status, payload, out_headers = fault.status, fault.body, dict(fault.headers)
    else:
        try:
            if spec is None:
                raise HttpError(404, "Not Found")
            if version_header is not None and version_header not in SUPPORTED_VERSIONS:
                raise HttpError(400, f"API version {version_header!r} is not supported.")
            # The body's shape needs no state: checked before the lock, refused after the
            # credentials (as before: a bad token is a 401 whatever the body).
            problems: list[str] = []
            if spec.op is not None and method in ("POST", "PATCH", "PUT"):
                problems = shapes_for(version).request_errors(
                    spec.op, body if body is not None else {}
                )
            with fake.lock.shared() if _reads_only(spec) else fake.lock:
                _authenticate(fake, ctx, spec)
                if problems:
                    with fake.log_lock:
                        fake.schema_errors.append(f"request {spec.op}: {problems}")
                    raise HttpError(422, "Invalid request.\n\n" + "\n".join(problems))
                # Handlers answer with new dicts and lists (holding strings and numbers taken
                # from the state), so the answer is encoded and checked after the lock is let go.
                status, payload = spec.handler(fake, ctx)
            out_headers = ctx.extra_headers
            if fake.validate_responses and spec.op is not None and 200 <= status < 300:
                problems = shapes_for(version).response_errors(spec.op, status, payload)
                if problems:
                    with fake.log_lock:
                        fake.schema_errors.append(f"response {spec.op} {status}: {problems}")
        except HttpError as err:
            status, payload = err.status, err.body()
            out_headers = dict(err.headers)
        except GitError as err:
            status, payload = 422, {"message": str(err), "documentation_url": DOCS}
    with fake.log_lock:
        base = _standard_headers(fake, ctx, path)
        fake.requests.append(
            LoggedRequest(
                method=method,
                path=path,
                query=query_string,
                status=status,
                api_version=version_header,
                auth=auth_kind,
                body=body,
            )
        )
    base.update(window_headers)
    base.update({k.lower(): v for k, v in out_headers.items()})
    return status, base, payload


def _rate_window(fake: FakeGitHub, headers: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """The scripted rate limit of the installation whose token made the request: a 403 fault
    when it is spent, and the headers that say what is left."""
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    token = fake.tokens.get(credential.strip()) if scheme.lower() in ("token", "bearer") else None
    if token is None:
        return None, {}
    now = time.time()
    with fake.log_lock:
        w = fake.rate_windows.get(token.installation_id)
        if w is None:
            return None, {}
        if now >= w.reset_at:
            if w.window is None:
                del fake.rate_windows[token.installation_id]
                return None, {}
            w.remaining = w.limit
            w.reset_at = now + w.window
        out = {
            "x-ratelimit-limit": str(w.limit),
            "x-ratelimit-reset": str(int(w.reset_at + 0.999)),
        }
        if w.remaining <= 0:
            out["x-ratelimit-remaining"] = "0"
            out["x-ratelimit-used"] = str(w.limit)
            fault = Fault(
                method="",
                pattern=re.compile(""),
                status=403,
                headers=dict(out),
                body={"message": "API rate limit exceeded for installation."},
                remaining=0,
            )
            return fault, out
        w.remaining -= 1
        out["x-ratelimit-remaining"] = str(w.remaining)
        out["x-ratelimit-used"] = str(w.limit - w.remaining)
        return None, out


def _chaos(fake: FakeGitHub, method: str, path: str) -> tuple[str | None, float]:
    """Which random fault (if any) answers this request, and how long a hang lasts."""
    with fake.fault_lock:
        chaos = fake.chaos
        if chaos is None:
            return None, 0.0
        if chaos.method is not None and chaos.method != method:
            return None, 0.0
        if chaos.pattern is not None and not chaos.pattern.search(path):
            return None, 0.0
        if chaos.rng.random() >= chaos.rate:
            return None, 0.0
        kind = chaos.rng.choice(chaos.kinds)
        chaos.injected[kind] = chaos.injected.get(kind, 0) + 1
        return kind, chaos.hang_seconds


async def _hang(fake: FakeGitHub, seconds: float) -> None:
    """Sleep ``seconds``, or less when the fake is stopping."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not fake.stopping:
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _log_fault(fake: FakeGitHub, request: Request, status: int) -> None:
    with fake.log_lock:
        fake.requests.append(
            LoggedRequest(
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                status=status,
                api_version=request.headers.get("x-github-api-version"),
                auth=None,
                body=None,
            )
        )


def _match(method: str, path: str) -> tuple[RouteSpec | None, dict[str, str]]:
    for spec in _ROUTES:
        if spec.method != method:
            continue
        m = spec.pattern.match(path)
        if m:
            return spec, m.groupdict()
    return None, {}


def _take_fault(fake: FakeGitHub, method: str, path: str) -> Any:
    for fault in fake.faults:
        if fault.remaining > 0 and fault.method == method and fault.pattern.search(path):
            if fault.skip > 0:
                fault.skip -= 1
                return None
            fault.remaining -= 1
            return fault
    return None


def _standard_headers(fake: FakeGitHub, ctx: Ctx, path: str) -> dict[str, str]:
    key = ctx.token.token if ctx.token else (f"app:{ctx.app.id}" if ctx.app else "anonymous")
    resource = "graphql" if path == "/graphql" else "core"
    used = fake.rate_used.get(f"{key}:{resource}", 0) + 1
    fake.rate_used[f"{key}:{resource}"] = used
    return {
        "x-ratelimit-limit": str(RATE_LIMIT),
        "x-ratelimit-remaining": str(max(RATE_LIMIT - used, 0)),
        "x-ratelimit-reset": str(int(time.time()) + 3600),
        "x-ratelimit-used": str(used),
        "x-ratelimit-resource": resource,
        "x-github-request-id": uuid.uuid4().hex[:20].upper(),
        "x-github-api-version-selected": ctx.version,
    }


# ---------------------------------------------------------------------------- authentication
def _authenticate(fake: FakeGitHub, ctx: Ctx, spec: RouteSpec) -> None:
    if spec.auth == "none":
        return
    header = ctx.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if not credential or scheme.lower() not in ("token", "bearer"):
        raise HttpError(401, "Requires authentication")
    if spec.auth == "jwt":
        ctx.app = _verify_jwt(fake, credential)
        return
    token = fake.tokens.get(credential)
    if token is None:
        raise HttpError(401, "Bad credentials")
    if token.expires_at <= time.time():
        raise HttpError(401, "Bad credentials")
    inst = fake.installations.get(token.installation_id)
    if inst is None:
        raise HttpError(401, "Bad credentials")
    ctx.token = token
    ctx.app = fake.apps.get(inst.app_id)
    if "owner" in ctx.params and "repo" in ctx.params:
        ctx.repo = _visible_repo(
            fake, token, ctx.params["owner"], ctx.params["repo"], reading=ctx.method == "GET"
        )


def _verify_jwt(fake: FakeGitHub, credential: str) -> App:
    try:
        claims = jwt.decode(credential, options={"verify_signature": False})
        header = jwt.get_unverified_header(credential)
    except jwt.PyJWTError as err:
        raise HttpError(401, "A JSON web token could not be decoded") from err
    if header.get("alg") != "RS256":
        raise HttpError(401, "A JSON web token could not be decoded")
    iss = str(claims.get("iss", ""))
    app = next((a for a in fake.apps.values() if str(a.id) == iss or a.client_id == iss), None)
    if app is None:
        raise HttpError(401, "'Issuer' claim ('iss') must be an Integer or a client ID")
    try:
        verified = jwt.decode(
            credential,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"]},
            leeway=60,
        )
    except jwt.ExpiredSignatureError as err:
        raise HttpError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ) from err
    except jwt.PyJWTError as err:
        raise HttpError(401, "A JSON web token could not be decoded") from err
    if int(verified["exp"]) - int(verified["iat"]) > 660:
        raise HttpError(401, "'Expiration time' claim ('exp') is too far in the future")
    return app


def _visible_repo(
    fake: FakeGitHub, token: Token, owner: str, name: str, *, reading: bool = False
) -> Repo:
    """The repository a token may use; 404 for one it may not (as GitHub answers). As on
    GitHub, any installation token may *read* a public repository, installed there or not."""
    repo = fake.repos.get(f"{owner}/{name}".lower())
    if repo is not None and reading and not repo.private:
        return repo
    inst = fake.installations[token.installation_id]
    if repo is None or repo.id not in inst.repository_ids:
        raise HttpError(404, "Not Found")
    if token.repository_ids is not None and repo.id not in token.repository_ids:
        raise HttpError(404, "Not Found")
    return repo


def _require_permission(ctx: Ctx, permission: str, level: str = "write") -> None:
    assert ctx.token is not None
    have = ctx.token.permissions.get(permission)
    if have is None or (level == "write" and have != "write"):
        raise HttpError(403, "Resource not accessible by integration")


# ---------------------------------------------------------------------------- object shapes
def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _rewrite_urls(obj: Any, base_url: str) -> Any:
    if isinstance(obj, dict):
        return {k: _rewrite_urls(v, base_url) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rewrite_urls(v, base_url) for v in obj]
    if isinstance(obj, str) and obj.startswith("https://api.github.com"):
        return base_url + obj[len("https://api.github.com") :]
    return obj


def user_obj(
    fake: FakeGitHub, login: str, *, user_id: int | None = None, type_: str = "User"
) -> dict[str, Any]:
    api = f"{fake.base_url}/users/{login}"
    uid = user_id if user_id is not None else _stable_id(login)
    return {
        "login": login,
        "id": uid,
        "node_id": base64.b64encode(f"04:User{uid}".encode()).decode(),
        "avatar_url": f"https://avatars.example.invalid/u/{uid}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": type_,
        "site_admin": False,
        "user_view_type": "public",
    }


def _stable_id(text: str) -> int:
    return 100_000 + int.from_bytes(text.encode()[:6].ljust(6, b"\0"), "big") % 10_000_000


def app_user(fake: FakeGitHub, app: App) -> dict[str, Any]:
    return user_obj(fake, app.bot_login, user_id=app.id + 40_000_000, type_="Bot")


def app_obj(fake: FakeGitHub, app: App) -> dict[str, Any]:
    obj: dict[str, Any] = _rewrite_urls(
        shapes_for(BASE_VERSION).example("GET /app", "200"), fake.base_url
    )
    obj.update(
        {
            "id": app.id,
            "slug": app.slug,
            "name": app.name,
            "client_id": app.client_id,
            "node_id": base64.b64encode(f"Integration{app.id}".encode()).decode(),
            "owner": user_obj(fake, app.owner, type_="Organization"),
            "html_url": f"https://github.com/apps/{app.slug}",
            "events": ["check_run", "check_suite", "issue_comment", "pull_request"],
            "permissions": {
                "checks": "write",
                "contents": "write",
                "metadata": "read",
                "pull_requests": "write",
                "issues": "write",
            },
        }
    )
    for key in ("client_secret", "webhook_secret", "pem", "installations_count"):
        obj.pop(key, None)
    return obj


def repo_obj(fake: FakeGitHub, repo: Repo, *, full: bool = False) -> dict[str, Any]:
    shapes = shapes_for(BASE_VERSION)
    if full:
        template = shapes.example("GET /repos/{owner}/{repo}", "200")
    else:
        template = shapes.example("GET /repos/{owner}/{repo}/pulls/{pull_number}", "200")["head"][
            "repo"
        ]
    template = json.loads(json.dumps(template).replace("octocat/Hello-World", repo.full_name))
    obj: dict[str, Any] = _rewrite_urls(template, fake.base_url)
    owner_type = (
        "Organization"
        if any(
            i.account == repo.owner and i.account_type == "Organization"
            for i in fake.installations.values()
        )
        else "User"
    )
    obj.update(
        {
            "id": repo.id,
            "node_id": base64.b64encode(f"010:Repository{repo.id}".encode()).decode(),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": user_obj(fake, repo.owner, type_=owner_type),
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "fork": repo.fork_of is not None,
            "default_branch": repo.default_branch,
            "html_url": f"https://github.com/{repo.full_name}",
            "url": f"{fake.base_url}/repos/{repo.full_name}",
            "description": None,
            "homepage": None,
            "language": "Python",
            "archived": False,
            "disabled": False,
        }
    )
    if full:
        for key in (
            "parent",
            "source",
            "template_repository",
            "organization",
            "security_and_analysis",
            "code_of_conduct",
        ):
            obj.pop(key, None)
        obj["license"] = None
        if repo.fork_of is not None:
            parent = repo_obj(fake, repo.fork_of)
            obj["parent"] = parent
            obj["source"] = parent
    return obj


def installation_obj(fake: FakeGitHub, inst: Installation) -> dict[str, Any]:
    app = fake.apps[inst.app_id]
    obj: dict[str, Any] = _rewrite_urls(
        shapes_for(BASE_VERSION).example("GET /repos/{owner}/{repo}/installation", "200"),
        fake.base_url,
    )
    obj.update(
        {
            "id": inst.id,
            "app_id": app.id,
            "app_slug": app.slug,
            "client_id": app.client_id,
            "account": user_obj(fake, inst.account, type_=inst.account_type),
            "target_id": _stable_id(inst.account),
            "target_type": inst.account_type,
            "repository_selection": "selected",
            "permissions": dict(inst.permissions),
            "events": ["check_run", "check_suite", "issue_comment", "pull_request"],
            "access_tokens_url": f"{fake.base_url}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{fake.base_url}/installation/repositories",
            "html_url": f"https://github.com/organizations/{inst.account}/settings/installations/{inst.id}",
            "suspended_at": None,
            "suspended_by": None,
        }
    )
    return obj


def _ref_obj(fake: FakeGitHub, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    api = f"{fake.base_url}/repos/{repo.full_name}"
    return {
        "ref": ref,
        "node_id": base64.b64encode(f"Ref:{ref}".encode()).decode(),
        "url": f"{api}/git/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{api}/git/commits/{sha}"},
    }


def _pr_branch(
    fake: FakeGitHub, pr: PullRequest, *, head: bool, template: dict[str, Any]
) -> dict[str, Any]:
    repo = pr.head_repo if head else pr.repo
    ref = pr.head_ref if head else pr.base_ref
    sha = fake.head_sha(pr) if head else fake.base_sha(pr)
    out = dict(template)
    out.update(
        {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": user_obj(fake, repo.owner),
            "repo": repo_obj(fake, repo),
        }
    )
    return out


def _label_obj(fake: FakeGitHub, repo: Repo, name: str) -> dict[str, Any]:
    lid = _stable_id(f"{repo.full_name}:{name}")
    return {
        "id": lid,
        "node_id": base64.b64encode(f"Label{lid}".encode()).decode(),
        "url": f"{fake.base_url}/repos/{repo.full_name}/labels/{name}",
        "name": name,
        "description": None,
        "color": "ededed",
        "default": False,
        "archived_at": None,
        "archived_by": None,
    }


def pull_obj(fake: FakeGitHub, pr: PullRequest, *, simple: bool = False) -> dict[str, Any]:
    """A pull request as ``GET .../pulls/{n}`` shows it, or (``simple``) as the list shows it,
    without the counts that need a diff."""
    template = shapes_for(BASE_VERSION).example(
        "GET /repos/{owner}/{repo}/pulls/{pull_number}", "200"
    )
    api = f"{fake.base_url}/repos/{pr.repo.full_name}"
    html = f"https://github.com/{pr.repo.full_name}/pull/{pr.number}"
    diff = [] if simple else _pr_diff(fake, pr)
    obj: dict[str, Any] = _rewrite_urls(template, fake.base_url)
    obj.update(
        {
            "id": pr.id,
            "node_id": base64.b64encode(f"PR{pr.id}".encode()).decode(),
            "number": pr.number,
            "state": pr.state,
            "title": pr.title,
            "body": pr.body,
            "user": user_obj(fake, pr.author),
            "labels": [_label_obj(fake, pr.repo, n) for n in pr.labels],
            "draft": pr.draft,
            "locked": False,
            "merged": pr.merged_at is not None,
            "merged_at": pr.merged_at,
            "merged_by": None,
            "closed_at": pr.updated_at if pr.state == "closed" else None,
            "created_at": pr.created_at,
            "updated_at": pr.updated_at,
            "url": f"{api}/pulls/{pr.number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{pr.number}",
            "commits_url": f"{api}/pulls/{pr.number}/commits",
            "comments_url": f"{api}/issues/{pr.number}/comments",
            "review_comments_url": f"{api}/pulls/{pr.number}/comments",
            "statuses_url": f"{api}/statuses/{fake.head_sha(pr)}",
            "head": _pr_branch(fake, pr, head=True, template=template["head"]),
            "base": _pr_branch(fake, pr, head=False, template=template["base"]),
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "milestone": None,
            "auto_merge": None,
            "author_association": "CONTRIBUTOR",
            "mergeable": True,
            "mergeable_state": "clean",
            "merge_commit_sha": pr.merge_commit,
            "additions": sum(d.additions for d in diff),
            "deletions": sum(d.deletions for d in diff),
            "changed_files": len(diff),
            "commits": 1,
            "comments": sum(
                1
                for c in fake.comments_by_id.values()
                if c.repo is pr.repo and c.issue_number == pr.number
            ),
            "review_comments": 0,
            "maintainer_can_modify": pr.is_fork,
        }
    )
    for key in ("_links",):
        obj[key] = {
            name: {"href": f"{api}/pulls/{pr.number}"}
            for name in (
                "self",
                "html",
                "issue",
                "comments",
                "review_comments",
                "review_comment",
                "commits",
                "statuses",
            )
        }
    if simple:
        for key in _DETAIL_ONLY:
            obj.pop(key, None)
        # The list's label shape has a non-null description (GitHub sends "" there).
        obj["labels"] = [{**lb, "description": lb["description"] or ""} for lb in obj["labels"]]
    return obj


#: Fields of a full pull request that the list of pull requests does not carry.
_DETAIL_ONLY = (
    "additions",
    "deletions",
    "changed_files",
    "commits",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "mergeable",
    "mergeable_state",
    "rebaseable",
    "merged",
    "merged_by",
)


def _pr_diff(fake: FakeGitHub, pr: PullRequest) -> list[Any]:
    head = fake.head_sha(pr)
    base = fake.base_sha(pr)
    merge_base = pr.repo.git.merge_base(base, head) or base
    return pr.repo.git.diff(merge_base, head)


def check_run_obj(fake: FakeGitHub, run: CheckRun) -> dict[str, Any]:
    template = shapes_for(BASE_VERSION).example(
        "GET /repos/{owner}/{repo}/check-runs/{check_run_id}", "200"
    )
    api = f"{fake.base_url}/repos/{run.repo.full_name}"
    obj: dict[str, Any] = _rewrite_urls(template, fake.base_url)
    app = fake.apps[run.app_id]
    pulls = []
    for pr in fake.pulls.values():
        if pr.repo is run.repo and pr.state == "open" and fake.head_sha(pr) == run.head_sha:
            pulls.append(
                {
                    "id": pr.id,
                    "number": pr.number,
                    "url": f"{api}/pulls/{pr.number}",
                    "head": {
                        "ref": pr.head_ref,
                        "sha": run.head_sha,
                        "repo": {
                            "id": pr.head_repo.id,
                            "name": pr.head_repo.name,
                            "url": f"{fake.base_url}/repos/{pr.head_repo.full_name}",
                        },
                    },
                    "base": {
                        "ref": pr.base_ref,
                        "sha": fake.base_sha(pr),
                        "repo": {
                            "id": pr.repo.id,
                            "name": pr.repo.name,
                            "url": f"{fake.base_url}/repos/{pr.repo.full_name}",
                        },
                    },
                }
            )
    obj.update(
        {
            "id": run.id,
            "node_id": base64.b64encode(f"CheckRun{run.id}".encode()).decode(),
            "head_sha": run.head_sha,
            "name": run.name,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
            "external_id": run.external_id,
            "details_url": run.details_url,
            "url": f"{api}/check-runs/{run.id}",
            "html_url": f"https://github.com/{run.repo.full_name}/runs/{run.id}",
            "output": {
                "title": run.title,
                "summary": run.summary,
                "text": run.text,
                "annotations_count": len(run.annotations),
                "annotations_url": f"{api}/check-runs/{run.id}/annotations",
            },
            "check_suite": {"id": run.check_suite_id},
            "app": app_obj(fake, app),
            "pull_requests": pulls,
        }
    )
    obj.pop("deployment", None)
    return obj


def comment_obj(fake: FakeGitHub, comment: Comment) -> dict[str, Any]:
    api = f"{fake.base_url}/repos/{comment.repo.full_name}"
    if comment.user_type == "Bot" and comment.app_id in fake.apps:
        user = app_user(fake, fake.apps[comment.app_id])
    else:
        user = user_obj(fake, comment.user)
    return {
        "id": comment.id,
        "node_id": base64.b64encode(f"IC{comment.id}".encode()).decode(),
        "url": f"{api}/issues/comments/{comment.id}",
        "html_url": f"https://github.com/{comment.repo.full_name}/pull/{comment.issue_number}#issuecomment-{comment.id}",
        "body": comment.body,
        "user": user,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "issue_url": f"{api}/issues/{comment.issue_number}",
        "author_association": "NONE" if comment.user_type == "Bot" else "CONTRIBUTOR",
    }


def _git_person(fake: FakeGitHub, name: str, email: str, ts: int) -> dict[str, Any]:
    return {"name": name, "email": email, "date": _iso(ts)}


def git_commit_obj(fake: FakeGitHub, repo: Repo, sha: str) -> dict[str, Any]:
    info = repo.git.commit_info(sha)
    api = f"{fake.base_url}/repos/{repo.full_name}"
    return {
        "sha": sha,
        "node_id": base64.b64encode(f"Commit{sha}".encode()).decode(),
        "url": f"{api}/git/commits/{sha}",
        "html_url": f"https://github.com/{repo.full_name}/commit/{sha}",
        "author": _git_person(fake, info.author_name, info.author_email, info.author_date),
        "committer": _git_person(
            fake, info.committer_name, info.committer_email, info.committer_date
        ),
        "message": info.message.rstrip("\n") if info.message.endswith("\n") else info.message,
        "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
        "parents": [
            {
                "sha": p,
                "url": f"{api}/git/commits/{p}",
                "html_url": f"https://github.com/{repo.full_name}/commit/{p}",
            }
            for p in info.parents
        ],
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def tree_obj(fake: FakeGitHub, repo: Repo, sha: str, *, recursive: bool) -> dict[str, Any]:
    api = f"{fake.base_url}/repos/{repo.full_name}"
    entries = []
    for e in repo.git.tree_entries(sha, recursive=recursive):
        item: dict[str, Any] = {"path": e.path, "mode": e.mode, "type": e.type, "sha": e.sha}
        if e.type == "blob":
            item["size"] = e.size
            item["url"] = f"{api}/git/blobs/{e.sha}"
        elif e.type == "tree":
            item["url"] = f"{api}/git/trees/{e.sha}"
        entries.append(item)
    return {"sha": sha, "url": f"{api}/git/trees/{sha}", "tree": entries, "truncated": False}


# ---------------------------------------------------------------------------- pagination
def _paginate(fake: FakeGitHub, ctx: Ctx, items: list[Any], *, default: int = 30) -> list[Any]:
    try:
        per_page = int(ctx.query.get("per_page", default))
        page = int(ctx.query.get("page", 1))
    except ValueError as err:
        raise HttpError(422, "Invalid pagination parameters") from err
    per_page = max(1, min(per_page, 100))
    page = max(page, 1)
    last = max(1, -(-len(items) // per_page))
    links = []

    def url(n: int) -> str:
        q = dict(ctx.query)
        q["per_page"] = str(per_page)
        q["page"] = str(n)
        return f"<{fake.base_url}{ctx.path}?{urlencode(q)}>"

    if page < last:
        links += [f'{url(page + 1)}; rel="next"', f'{url(last)}; rel="last"']
    if page > 1:
        links += [f'{url(1)}; rel="first"', f'{url(page - 1)}; rel="prev"']
    if links:
        ctx.extra_headers["link"] = ", ".join(links)
    return items[(page - 1) * per_page : page * per_page]


# ---------------------------------------------------------------------------- handlers: apps
@route("GET", "/app", auth="jwt")
def get_app(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    assert ctx.app is not None
    return 200, app_obj(fake, ctx.app)


@route("POST", "/app/installations/{installation_id}/access_tokens", auth="jwt")
def create_token(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    assert ctx.app is not None
    inst = (
        fake.installations.get(int(ctx.params["installation_id"]))
        if ctx.params["installation_id"].isdigit()
        else None
    )
    if inst is None or inst.app_id != ctx.app.id:
        raise HttpError(404, "Not Found")
    body = ctx.body if isinstance(ctx.body, dict) else {}
    ids: set[int] | None = None
    if body.get("repositories") or body.get("repository_ids"):
        ids = set()
        for name in body.get("repositories") or []:
            repo = fake.repos.get(f"{inst.account}/{name}".lower())
            if repo is None or repo.id not in inst.repository_ids:
                raise HttpError(
                    422,
                    "There is at least one repository that does not exist or is not accessible to the parent installation.",
                )
            ids.add(repo.id)
        for rid in body.get("repository_ids") or []:
            if rid not in inst.repository_ids:
                raise HttpError(
                    422,
                    "There is at least one repository that does not exist or is not accessible to the parent installation.",
                )
            ids.add(rid)
    token = fake.issue_token(inst, repository_ids=frozenset(ids) if ids is not None else None)
    if isinstance(body.get("permissions"), dict):
        token.permissions = {k: v for k, v in body["permissions"].items() if k in inst.permissions}
    out: dict[str, Any] = {
        "token": token.token,
        "expires_at": _iso(token.expires_at),
        "permissions": dict(token.permissions),
        "repository_selection": "selected",
    }
    if ids is not None:
        out["repositories"] = [repo_obj(fake, r) for r in fake.repos.values() if r.id in ids]
    return 201, out


@route("GET", "/repos/{owner}/{repo}/installation", auth="jwt")
def get_repo_installation(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    assert ctx.app is not None
    repo = fake.repos.get(f"{ctx.params['owner']}/{ctx.params['repo']}".lower())
    if repo is not None:
        for inst in fake.installations.values():
            if inst.app_id == ctx.app.id and repo.id in inst.repository_ids:
                return 200, installation_obj(fake, inst)
    raise HttpError(404, "Not Found")


@route("GET", "/app/installations", auth="jwt")
def list_installations(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    assert ctx.app is not None
    app_id = ctx.app.id
    mine = sorted(
        (i for i in fake.installations.values() if i.app_id == app_id), key=lambda i: i.id
    )
    out = []
    for inst in _paginate(fake, ctx, mine):
        obj = installation_obj(fake, inst)
        # This operation's description combines the user and enterprise shapes of ``account``
        # with allOf (where anyOf is meant elsewhere), so the account carries both sets of keys.
        obj["account"].update(
            name=inst.account,
            slug=inst.account.lower(),
            description=None,
            website_url=None,
            created_at="2026-01-01T00:00:00Z",
            updated_at="2026-01-01T00:00:00Z",
        )
        out.append(obj)
    return 200, out


@route("GET", "/installation/repositories")
def list_installation_repos(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    token = ctx.token
    assert token is not None
    inst = fake.installations[token.installation_id]
    repos = sorted(
        (
            r
            for r in fake.repos.values()
            if r.id in inst.repository_ids
            and (token.repository_ids is None or r.id in token.repository_ids)
        ),
        key=lambda r: r.id,
    )
    page = _paginate(fake, ctx, repos)
    return 200, {
        "total_count": len(repos),
        "repositories": [repo_obj(fake, r) for r in page],
        "repository_selection": "selected",
    }


@route("GET", "/app/hook/deliveries", auth="jwt")
def list_hook_deliveries(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    """Newest first; ``cursor`` pagination with a ``Link`` header, as GitHub does."""
    assert ctx.app is not None
    app_id = ctx.app.id
    items = sorted((d for d in fake.hook_log if d.app_id == app_id), key=lambda d: -d.id)
    status = ctx.query.get("status")
    if status == "success":
        items = [d for d in items if 200 <= d.status_code < 400]
    elif status == "failure":
        items = [d for d in items if not 200 <= d.status_code < 400]
    elif status is not None:
        raise HttpError(422, "Invalid status")
    try:
        per_page = max(1, min(int(ctx.query.get("per_page", 30)), 100))
    except ValueError as err:
        raise HttpError(422, "Invalid pagination parameters") from err
    cursor = ctx.query.get("cursor")
    if cursor:
        if not cursor.startswith("v1_") or not cursor[3:].isdigit():
            raise HttpError(400, "Invalid cursor")
        below = int(cursor[3:])
        items = [d for d in items if d.id <= below]
    page, rest = items[:per_page], items[per_page:]
    if rest:
        q = {k: v for k, v in ctx.query.items() if k != "cursor"}
        q.update(per_page=str(per_page), cursor=f"v1_{rest[0].id}")
        ctx.extra_headers["link"] = f'<{fake.base_url}{ctx.path}?{urlencode(q)}>; rel="next"'
    return 200, [
        {
            "id": d.id,
            "guid": d.guid,
            "delivered_at": _iso(d.delivered_at),
            "redelivery": d.redelivery,
            "duration": d.duration,
            "status": d.status,
            "status_code": d.status_code,
            "event": d.event,
            "action": d.action,
            "installation_id": d.installation_id,
            "repository_id": d.repository_id,
            "throttled_at": None,
        }
        for d in page
    ]


@route("POST", "/app/hook/deliveries/{delivery_id}/attempts", auth="jwt")
def redeliver_hook(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    assert ctx.app is not None
    wanted = ctx.params["delivery_id"]
    hook = next((d for d in fake.hook_log if str(d.id) == wanted and d.app_id == ctx.app.id), None)
    if hook is None:
        raise HttpError(404, "Not Found")
    fake.redeliver(hook)
    return 202, {}


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    state = ctx.query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise HttpError(422, "Validation Failed")
    base = ctx.query.get("base")
    sort = ctx.query.get("sort", "created")
    if sort not in ("created", "updated", "popularity", "long-running"):
        raise HttpError(422, "Validation Failed")
    # GitHub's default: newest first when sorted by creation, else oldest first.
    newest_first = ctx.query.get("direction", "desc" if sort == "created" else "asc") == "desc"
    pulls = [
        pr
        for (name, _n), pr in fake.pulls.items()
        if name == repo.full_name.lower()
        and state in ("all", pr.state)
        and (base is None or pr.base_ref == base)
    ]
    # Created in number order; the fake's other sorts go by the last update.
    pulls.sort(
        key=lambda pr: (pr.updated_at, pr.number) if sort == "updated" else (pr.number,),
        reverse=newest_first,
    )
    return 200, [pull_obj(fake, pr, simple=True) for pr in _paginate(fake, ctx, pulls)]


@route("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls")
def list_commit_pulls(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    """The open pull requests whose head is the commit (or that contain it), newest first.
    (GitHub also lists the merged one that brought the commit in; the fake never merges.)
    Like GitHub, it leaves out pull requests from forks: their commits are not the
    repository's own, and GitHub lists none for them."""
    repo = ctx.repo
    assert repo is not None
    sha = repo.git.resolve(ctx.params["commit_sha"])
    if sha is None:
        raise HttpError(422, f"No commit found for SHA: {ctx.params['commit_sha']}")
    found = _open_pulls_at(fake, repo, sha)
    return 200, [pull_obj(fake, pr, simple=True) for pr in _paginate(fake, ctx, found)]


@route("POST", "/app-manifests/{code}/conversions", auth="none")
def convert_manifest(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    code = ctx.params["code"]
    manifest = fake.manifest_codes.pop(code, None)
    if manifest is None:
        raise HttpError(404, "Not Found")
    app = fake.add_app(
        slug=str(manifest.get("name", "prgate")).lower().replace(" ", "-"),
        name=str(manifest.get("name", "prgate")),
        fresh_key=True,
    )
    obj = app_obj(fake, app)
    obj.update(
        {
            "pem": app.private_key_pem,
            "webhook_secret": app.webhook_secret,
            "client_secret": app.client_secret,
            "permissions": dict(manifest.get("default_permissions") or obj["permissions"]),
            "events": list(manifest.get("default_events") or obj["events"]),
        }
    )
    return 201, obj


# ---------------------------------------------------------------------------- handlers: repos & PRs
@route("GET", "/repos/{owner}/{repo}")
def get_repo(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    assert ctx.repo is not None
    return 200, repo_obj(fake, ctx.repo, full=True)


def _pull(fake: FakeGitHub, ctx: Ctx, number: str) -> PullRequest:
    assert ctx.repo is not None
    pr = fake.pulls.get((ctx.repo.full_name.lower(), int(number))) if number.isdigit() else None
    if pr is None:
        raise HttpError(404, "Not Found")
    return pr


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    return 200, pull_obj(fake, _pull(fake, ctx, ctx.params["pull_number"]))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files")
def list_pull_files(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    pr = _pull(fake, ctx, ctx.params["pull_number"])
    head = fake.head_sha(pr)
    api = f"{fake.base_url}/repos/{pr.repo.full_name}"
    entries = _pr_diff(fake, pr)[:MAX_FILES]
    page = _paginate(fake, ctx, entries)
    return 200, [_file_item(d, full_name=pr.repo.full_name, head=head, api=api) for d in page]


def review_obj(fake: FakeGitHub, review: Review) -> dict[str, Any]:
    pr = review.pr
    api = f"{fake.base_url}/repos/{pr.repo.full_name}/pulls/{pr.number}"
    html = f"https://github.com/{pr.repo.full_name}/pull/{pr.number}#pullrequestreview-{review.id}"
    permission = pr.repo.permissions.get(review.user, "none")
    association = {"admin": "OWNER", "maintain": "MEMBER", "write": "COLLABORATOR"}.get(
        permission, "CONTRIBUTOR" if review.user == pr.author else "NONE"
    )
    return {
        "id": review.id,
        "node_id": base64.b64encode(f"PullRequestReview{review.id}".encode()).decode(),
        "user": user_obj(fake, review.user),
        "body": review.body,
        "state": review.state,
        "commit_id": review.commit_id,
        "html_url": html,
        "pull_request_url": api,
        "_links": {"html": {"href": html}, "pull_request": {"href": api}},
        "author_association": association,
        "submitted_at": review.submitted_at,
    }


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def list_pull_reviews(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    pr = _pull(fake, ctx, ctx.params["pull_number"])
    reviews = sorted((r for r in fake.reviews_by_id.values() if r.pr is pr), key=lambda r: r.id)
    return 200, [review_obj(fake, r) for r in _paginate(fake, ctx, reviews)]


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")
def list_pull_commits(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    """The PR's commits, oldest first, at most 250 (as GitHub)."""
    pr = _pull(fake, ctx, ctx.params["pull_number"])
    git = pr.repo.git
    head = fake.head_sha(pr)
    base = git.merge_base(fake.base_sha(pr), head) or fake.base_sha(pr)
    listed = git.git("rev-list", "--reverse", f"{base}..{head}").decode().split()[:250]
    return 200, [commit_listing_obj(fake, pr.repo, sha) for sha in _paginate(fake, ctx, listed)]


def commit_listing_obj(fake: FakeGitHub, repo: Repo, sha: str) -> dict[str, Any]:
    """A commit as GitHub lists it (a PR's commits, a comparison's)."""
    info = repo.git.commit_info(sha)
    obj = git_commit_obj(fake, repo, sha)
    api = f"{fake.base_url}/repos/{repo.full_name}"
    author = fake.login_for_email(info.author_email)
    committer = fake.login_for_email(info.committer_email)
    return {
        "url": f"{api}/commits/{sha}",
        "sha": sha,
        "node_id": obj["node_id"],
        "html_url": obj["html_url"],
        "comments_url": f"{api}/commits/{sha}/comments",
        "commit": {
            "url": obj["url"],
            "author": obj["author"],
            "committer": obj["committer"],
            "message": obj["message"],
            "comment_count": 0,
            "tree": obj["tree"],
            "verification": obj["verification"],
        },
        "author": user_obj(fake, author) if author else None,
        "committer": user_obj(fake, committer) if committer else None,
        "parents": obj["parents"],
    }


@route("GET", "/repos/{owner}/{repo}/compare/{basehead}")
def compare_commits(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    """``BASE...HEAD``: the commits from their merge base to HEAD (oldest first, at most 250)
    and the files changed (at most 300), as GitHub answers without paging parameters."""
    repo = ctx.repo
    assert repo is not None
    base_rev, sep, head_rev = ctx.params["basehead"].partition("...")
    base = repo.git.resolve(base_rev) if sep else None
    head = repo.git.resolve(head_rev) if sep else None
    if base is None or head is None:
        raise HttpError(404, "Not Found")
    merge_base = repo.git.merge_base(base, head) or base
    listed = repo.git.git("rev-list", "--reverse", f"{merge_base}..{head}").decode().split()
    behind = repo.git.git("rev-list", "--count", f"{head}..{base}").decode().strip()
    api = f"{fake.base_url}/repos/{repo.full_name}"
    html = f"https://github.com/{repo.full_name}"
    files = [
        _file_item(d, full_name=repo.full_name, head=head, api=api)
        for d in repo.git.diff(merge_base, head)[:300]
    ]
    ahead, behind_by = len(listed), int(behind or 0)
    status = (
        "identical"
        if not ahead and not behind_by
        else "ahead"
        if not behind_by
        else "behind"
        if not ahead
        else "diverged"
    )
    basehead = ctx.params["basehead"]
    return 200, {
        "url": f"{api}/compare/{basehead}",
        "html_url": f"{html}/compare/{basehead}",
        "permalink_url": f"{html}/compare/{repo.owner}:{base}...{repo.owner}:{head}",
        "diff_url": f"{html}/compare/{basehead}.diff",
        "patch_url": f"{html}/compare/{basehead}.patch",
        "base_commit": commit_listing_obj(fake, repo, base),
        "merge_base_commit": commit_listing_obj(fake, repo, merge_base),
        "status": status,
        "ahead_by": ahead,
        "behind_by": behind_by,
        "total_commits": ahead,
        "commits": [commit_listing_obj(fake, repo, sha) for sha in listed[:250]],
        "files": files,
    }


@route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}")
def get_team_membership(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    _require_permission(ctx, "members", "read")
    assert ctx.token is not None
    org = ctx.params["org"].lower()
    if fake.installations[ctx.token.installation_id].account.lower() != org:
        raise HttpError(404, "Not Found")
    team = f"{org}/{ctx.params['team_slug'].lower()}"
    login = ctx.params["username"]
    if login.lower() not in fake.teams.get(team, set()):
        raise HttpError(404, "Not Found")
    url = f"{fake.base_url}/organizations/{_stable_id(org)}/team/{_stable_id(team)}"
    return 200, {"url": f"{url}/memberships/{login}", "role": "member", "state": "active"}


@route("GET", "/repos/{owner}/{repo}/contents/{path}")
def get_contents(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    ref = ctx.query.get("ref") or repo.default_branch
    sha = repo.git.resolve(ref)
    if sha is None:
        raise HttpError(404, f"No commit found for the ref {ref}")
    path = ctx.params["path"].strip("/")
    found = repo.git.read_objects([f"{sha}:{path}"])[0]
    if found is None:
        raise HttpError(404, "Not Found")
    obj_sha, kind, content = found
    if kind == "tree":
        entries = []
        for e in repo.git.tree_entries(obj_sha):
            full = f"{path}/{e.path}"
            entries.append(
                _content_entry(
                    fake, repo, full, e.sha, "dir" if e.type == "tree" else "file", e.size or 0, sha
                )
            )
        return 200, entries
    parent, _, leaf = path.rpartition("/")
    listing = repo.git.tree_entries(f"{sha}:{parent}" if parent else sha)
    mode = next((e.mode for e in listing if e.path == leaf), None)
    encoded = base64.encodebytes(content).decode()
    item = _content_entry(fake, repo, path, obj_sha, "file", len(content), sha)
    item.update({"content": encoded, "encoding": "base64"})
    if mode == "120000":
        item["type"] = "symlink"
        item["target"] = content.decode(errors="replace")
    return 200, item


def _content_entry(
    fake: FakeGitHub, repo: Repo, path: str, sha: str, type_: str, size: int, ref: str
) -> dict[str, Any]:
    api = f"{fake.base_url}/repos/{repo.full_name}"
    html = f"https://github.com/{repo.full_name}/blob/{ref}/{path}"
    git_url = f"{api}/git/{'trees' if type_ == 'dir' else 'blobs'}/{sha}"
    return {
        "type": type_,
        "size": size,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "url": f"{api}/contents/{path}?ref={ref}",
        "git_url": git_url,
        "html_url": html,
        "download_url": None
        if type_ == "dir"
        else f"https://raw.example.invalid/{repo.full_name}/{ref}/{path}",
        "_links": {"self": f"{api}/contents/{path}?ref={ref}", "git": git_url, "html": html},
    }


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def get_permission(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    login = ctx.params["username"]
    # As on GitHub: anyone may read a public repository, so someone with no role on it has
    # ``read`` there (``none`` on a private one).
    permission = repo.permissions.get(login, "none" if repo.private else "read")
    if login.lower() == repo.owner.lower() and login not in repo.permissions:
        permission = "admin"
    simple = {"maintain": "write", "triage": "read"}.get(permission, permission)
    user = user_obj(fake, login)
    user["permissions"] = {
        "admin": simple == "admin",
        "maintain": permission in ("admin", "maintain"),
        "push": simple in ("admin", "write"),
        "triage": simple != "none",
        "pull": simple != "none",
    }
    # A custom repository role: named as the organisation named it, built on a base role.
    role = repo.custom_roles.get(login, permission)
    user["role_name"] = role
    return 200, {"permission": simple, "role_name": role, "user": user}


# ---------------------------------------------------------------------------- handlers: checks
def _check_output(run: CheckRun, output: dict[str, Any]) -> None:
    run.title = output.get("title", run.title)
    run.summary = output.get("summary", run.summary)
    if "text" in output:
        run.text = output["text"]
    run.annotations.extend(output.get("annotations") or [])
    run.images.extend(output.get("images") or [])


def _check_status(run: CheckRun, body: dict[str, Any], *, creating: bool) -> None:
    status = body.get("status")
    conclusion = body.get("conclusion")
    if conclusion is not None and status is None:
        status = "completed"
    if status == "completed" and conclusion is None and run.conclusion is None:
        raise HttpError(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "CheckRun",
                    "code": "missing_field",
                    "field": "conclusion",
                    "message": "Conclusion is required when status is completed",
                }
            ],
        )
    if status is not None:
        run.status = status
    elif creating:
        run.status = "queued"
    if conclusion is not None:
        run.conclusion = conclusion
    now = _iso(time.time())
    if body.get("started_at"):
        run.started_at = body["started_at"]
    elif run.started_at is None:
        run.started_at = now
    if run.status == "completed":
        run.completed_at = body.get("completed_at") or run.completed_at or now


@route("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None and ctx.app is not None
    _require_permission(ctx, "checks")
    body = ctx.body
    head_sha = body["head_sha"]
    if len(head_sha) != 40 or repo.git.object_type(head_sha) != "commit":
        raise HttpError(422, f"No commit found for SHA: {head_sha}")
    suite_key = (repo.full_name.lower(), head_sha, ctx.app.id)
    suite_id = fake.check_suites.setdefault(suite_key, fake.next_id())
    run = CheckRun(
        id=fake.next_id(),
        repo=repo,
        app_id=ctx.app.id,
        name=body["name"],
        head_sha=head_sha,
        status="queued",
        conclusion=None,
        started_at=None,
        completed_at=None,
        external_id=body.get("external_id", ""),
        details_url=body.get("details_url"),
        check_suite_id=suite_id,
    )
    _check_status(run, body, creating=True)
    _check_output(run, body.get("output") or {})
    run.actions = list(body.get("actions") or [])
    fake.check_runs_by_id[run.id] = run
    return 201, check_run_obj(fake, run)


def _check_run(fake: FakeGitHub, ctx: Ctx) -> CheckRun:
    rid = ctx.params["check_run_id"]
    run = fake.check_runs_by_id.get(int(rid)) if rid.isdigit() else None
    if run is None or run.repo is not ctx.repo:
        raise HttpError(404, "Not Found")
    return run


@route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    _require_permission(ctx, "checks")
    run = _check_run(fake, ctx)
    assert ctx.app is not None
    if run.app_id != ctx.app.id:
        raise HttpError(
            403,
            f"Invalid app_id `{ctx.app.id}` - check run can only be modified by the GitHub App"
            " that created it.",
        )
    body = ctx.body
    if "name" in body:
        run.name = body["name"]
    for key in ("details_url", "external_id"):
        if key in body:
            setattr(run, key, body[key])
    _check_status(run, body, creating=False)
    _check_output(run, body.get("output") or {})
    if "actions" in body:
        run.actions = list(body["actions"] or [])
    run.updates += 1
    return 200, check_run_obj(fake, run)


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def get_check_run(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    return 200, check_run_obj(fake, _check_run(fake, ctx))


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations")
def list_check_run_annotations(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    run = _check_run(fake, ctx)
    api = f"{fake.base_url}/repos/{run.repo.full_name}"
    shown = [
        {
            "path": a.get("path", ""),
            "start_line": a.get("start_line", 1),
            "end_line": a.get("end_line", a.get("start_line", 1)),
            "start_column": a.get("start_column"),
            "end_column": a.get("end_column"),
            "annotation_level": a.get("annotation_level"),
            "title": a.get("title"),
            "message": a.get("message"),
            "raw_details": a.get("raw_details"),
            "blob_href": f"{api}/git/blobs/{run.head_sha}",
        }
        for a in run.annotations
    ]
    return 200, _paginate(fake, ctx, shown)


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs")
def list_check_runs(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    sha = repo.git.resolve(ctx.params["ref"])
    if sha is None:
        raise HttpError(422, f"No commit found for SHA: {ctx.params['ref']}")
    runs = [r for r in fake.check_runs_by_id.values() if r.repo is repo and r.head_sha == sha]
    if "check_name" in ctx.query:
        runs = [r for r in runs if r.name == ctx.query["check_name"]]
    if "status" in ctx.query:
        runs = [r for r in runs if r.status == ctx.query["status"]]
    if ctx.query.get("app_id", "").isdigit():
        runs = [r for r in runs if r.app_id == int(ctx.query["app_id"])]
    if ctx.query.get("filter", "latest") == "latest":
        latest: dict[tuple[str, int], CheckRun] = {}
        for r in sorted(runs, key=lambda r: r.id):
            latest[(r.name, r.app_id)] = r
        runs = sorted(latest.values(), key=lambda r: r.id)
    runs = sorted(runs, key=lambda r: -r.id)
    total = len(runs)
    page = _paginate(fake, ctx, runs)
    return 200, {"total_count": total, "check_runs": [check_run_obj(fake, r) for r in page]}


# ---------------------------------------------------------------------------- handlers: comments
MAX_COMMENT = 65536


def _comment_body(body: dict[str, Any]) -> str:
    text = body["body"]
    if len(text) > MAX_COMMENT:
        raise HttpError(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "IssueComment",
                    "code": "unprocessable",
                    "field": "data",
                    "message": f"Body is too long (maximum is {MAX_COMMENT} characters)",
                }
            ],
        )
    return str(text)


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    pr = _pull(fake, ctx, ctx.params["issue_number"])
    comments = sorted(fake.comments(pr.repo, pr.number), key=lambda c: c.id)
    return 200, [comment_obj(fake, c) for c in _paginate(fake, ctx, comments)]


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_comment(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    assert ctx.token is not None
    if "write" not in (
        ctx.token.permissions.get("issues"),
        ctx.token.permissions.get("pull_requests"),
    ):
        raise HttpError(403, "Resource not accessible by integration")
    pr = _pull(fake, ctx, ctx.params["issue_number"])
    assert ctx.app is not None
    now = _iso(time.time())
    comment = Comment(
        id=fake.next_id(),
        repo=pr.repo,
        issue_number=pr.number,
        body=_comment_body(ctx.body),
        user=ctx.app.bot_login,
        user_type="Bot",
        created_at=now,
        updated_at=now,
        app_id=ctx.app.id,
    )
    fake.comments_by_id[comment.id] = comment
    return 201, comment_obj(fake, comment)


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    cid = ctx.params["comment_id"]
    comment = fake.comments_by_id.get(int(cid)) if cid.isdigit() else None
    if comment is None or comment.repo is not ctx.repo:
        raise HttpError(404, "Not Found")
    assert ctx.app is not None
    if comment.app_id != ctx.app.id:
        raise HttpError(403, "Resource not accessible by integration")
    comment.body = _comment_body(ctx.body)
    comment.updated_at = _iso(time.time())
    return 200, comment_obj(fake, comment)


# ---------------------------------------------------------------------------- handlers: git data
@route("POST", "/repos/{owner}/{repo}/git/blobs")
def create_blob(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    _require_permission(ctx, "contents")
    body = ctx.body
    encoding = body.get("encoding", "utf-8")
    if encoding == "base64":
        try:
            data = base64.b64decode(body["content"], validate=False)
        except (binascii.Error, ValueError) as err:
            raise HttpError(422, "Invalid base64 content") from err
    elif encoding in ("utf-8", "utf8"):
        data = body["content"].encode()
    else:
        raise HttpError(422, f"encoding must be utf-8 or base64, not {encoding}")
    sha = repo.git.write_blob(data)
    return 201, {"sha": sha, "url": f"{fake.base_url}/repos/{repo.full_name}/git/blobs/{sha}"}


@route("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}")
def get_blob(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    sha = ctx.params["file_sha"]
    found = repo.git.read_objects([sha])[0] if _is_hex_sha(sha) else None
    if found is None or found[1] != "blob":
        raise HttpError(404, "Not Found")
    content = found[2]
    return 200, {
        "sha": found[0],
        "node_id": base64.b64encode(f"Blob{found[0]}".encode()).decode(),
        "size": len(content),
        "url": f"{fake.base_url}/repos/{repo.full_name}/git/blobs/{found[0]}",
        "content": base64.encodebytes(content).decode(),
        "encoding": "base64",
    }


def _is_hex_sha(value: str) -> bool:
    return len(value) == 40 and all(c in "0123456789abcdef" for c in value)


@route("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")
def get_tree(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    rev = ctx.params["tree_sha"]
    kind = repo.git.object_type(rev)
    if kind == "commit":
        rev = repo.git.tree_of(rev)
    elif kind != "tree":
        resolved = repo.git.resolve(rev)
        if resolved is None:
            raise HttpError(404, "Not Found")
        rev = repo.git.tree_of(resolved)
    recursive = ctx.query.get("recursive") not in (None, "", "0", "false")
    return 200, tree_obj(fake, repo, rev, recursive=recursive)


@route("POST", "/repos/{owner}/{repo}/git/trees")
def create_tree(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    _require_permission(ctx, "contents")
    body = ctx.body
    base_tree = body.get("base_tree")
    if base_tree:
        kind = repo.git.object_type(base_tree)
        if kind == "commit":
            base_tree = repo.git.tree_of(base_tree)
        elif kind != "tree":
            raise HttpError(422, "base_tree is not a valid tree oid")
    entries: list[tuple[str, str, str | None]] = []
    for item in body["tree"]:
        path = item.get("path", "")
        if not path or path.startswith("/") or path.endswith("/") or ".." in path.split("/"):
            raise HttpError(422, f"tree.path contains a malformed path component: {path!r}")
        mode = item.get("mode", "100644")
        if "content" in item and item.get("content") is not None:
            entries.append((path, mode, repo.git.write_blob(item["content"])))
        elif item.get("sha") is None:
            if not base_tree:
                raise HttpError(422, "A null sha removes a path only with a base_tree")
            entries.append((path, mode, None))
        else:
            want = "tree" if mode == "040000" else ("commit" if mode == "160000" else "blob")
            if want != "commit" and repo.git.object_type(item["sha"]) != want:
                raise HttpError(422, f"tree.sha {item['sha']} is not a valid {want}")
            entries.append((path, mode, item["sha"]))
    sha = repo.git.build_tree_from_entries(base_tree, entries)
    return 201, tree_obj(fake, repo, sha, recursive=False)


@route("POST", "/repos/{owner}/{repo}/git/commits")
def create_commit(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None and ctx.app is not None
    _require_permission(ctx, "contents")
    body = ctx.body
    if repo.git.object_type(body["tree"]) != "tree":
        raise HttpError(422, "Tree SHA does not exist")
    parents = list(body.get("parents") or [])
    for p in parents:
        if repo.git.object_type(p) != "commit":
            raise HttpError(422, "Parent SHA does not exist or is not a commit object")
    now = int(time.time())
    bot = (ctx.app.bot_login, f"{ctx.app.id}+{ctx.app.bot_login}@users.noreply.github.com")

    def person(key: str, default: tuple[str, str]) -> tuple[str, str, int]:
        given = body.get(key) or {}
        when = now
        if given.get("date"):
            when = int(
                time.mktime(time.strptime(given["date"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
            )
        return (given.get("name", default[0]), given.get("email", default[1]), when)

    author = person("author", bot)
    committer = person("committer", (author[0], author[1]))
    sha = repo.git.commit(
        body["tree"], parents, body["message"], author=author, committer=committer
    )
    return 201, git_commit_obj(fake, repo, sha)


@route("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}")
def get_commit(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    sha = ctx.params["commit_sha"]
    if repo.git.object_type(sha) != "commit":
        raise HttpError(404, "Not Found")
    full = repo.git.resolve(sha)
    assert full is not None
    return 200, git_commit_obj(fake, repo, full)


@route("GET", "/repos/{owner}/{repo}/git/ref/{ref}")
def get_ref(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    ref = "refs/" + ctx.params["ref"].strip("/")
    sha = repo.git.refs(ref).get(ref)
    if sha is None:
        raise HttpError(404, "Not Found")
    return 200, _ref_obj(fake, repo, ref, sha)


@route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}")
def update_ref(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.repo
    assert repo is not None
    _require_permission(ctx, "contents")
    name = ctx.params["ref"].strip("/")
    ref = name if name.startswith("refs/") else "refs/" + name
    current = repo.git.refs(ref).get(ref)
    if current is None:
        raise HttpError(422, "Reference does not exist")
    new = ctx.body["sha"]
    if repo.git.object_type(new) != "commit":
        raise HttpError(422, "Object does not exist")
    if not ctx.body.get("force", False) and not repo.git.is_ancestor(current, new):
        raise HttpError(422, "Update is not a fast forward")
    repo.git.update_ref(ref, new, old=current)
    fake._sync_pull_refs()
    return 200, _ref_obj(fake, repo, ref, new)


# ---------------------------------------------------------------------------- graphql
@route("POST", "/graphql", auth="graphql", rest=False)
def graphql_endpoint(fake: FakeGitHub, ctx: Ctx) -> tuple[int, Any]:
    assert ctx.token is not None
    body = ctx.body if isinstance(ctx.body, dict) else {}
    query = body.get("query")
    if not isinstance(query, str):
        return 200, {
            "errors": [{"message": "A query attribute must be specified and must be a string."}]
        }
    variables = body.get("variables") or {}
    token = ctx.token
    errors: list[dict[str, Any]] = []

    def blob(repo: Repo, sha: str, content: bytes) -> graphql.GraphObject:
        binary = b"\0" in content[:8000]
        try:
            text: str | None = None if binary else content.decode("utf-8")
        except UnicodeDecodeError:
            text, binary = None, True
        values = {
            "text": text,
            "isBinary": binary,
            "byteSize": len(content),
            "oid": sha,
            "isTruncated": False,
            "abbreviatedOid": sha[:7],
        }
        return graphql.GraphObject("Blob", lambda name, args: _field(values, "Blob", name))

    def entry(e: TreeEntry) -> graphql.GraphObject:
        values = {
            "name": e.path,
            "path": e.path,
            "type": e.type,
            "mode": int(e.mode, 8),
            "oid": e.sha,
        }
        return graphql.GraphObject("TreeEntry", lambda n, a: _field(values, "TreeEntry", n))

    def tree(repo: Repo, sha: str) -> graphql.GraphObject:
        def resolve(name: str, args: dict[str, Any]) -> Any:
            if name == "entries":
                return [entry(e) for e in repo.git.tree_entries(sha)]
            return _field({"oid": sha}, "Tree", name)

        return graphql.GraphObject("Tree", resolve)

    def repository(owner: str, name: str) -> graphql.GraphObject | None:
        try:
            repo = _visible_repo(fake, token, owner, name)
        except HttpError:
            errors.append(
                {
                    "type": "NOT_FOUND",
                    "path": ["repository"],
                    "message": f"Could not resolve to a Repository with the name '{owner}/{name}'.",
                }
            )
            return None

        def resolve(field_name: str, args: dict[str, Any]) -> Any:
            if field_name == "object":
                expression = args.get("expression") or args.get("oid")
                if not isinstance(expression, str):
                    raise graphql.GraphQLError("object needs an expression or oid")
                found = repo.git.read_objects([expression])[0]
                if found is None:
                    return None
                sha, kind, content = found
                if kind == "blob":
                    return blob(repo, sha, content)
                if kind == "tree":
                    return tree(repo, sha)
                if kind == "commit":
                    info = repo.git.commit_info(sha)

                    def commit_field(n: str, a: dict[str, Any], sha: str = sha) -> Any:
                        if n == "associatedPullRequests":
                            return _connection(
                                [_pull_graph(fake, pr) for pr in _open_pulls_at(fake, repo, sha)],
                                a,
                            )
                        return _field({"oid": sha, "message": info.message}, "Commit", n)

                    return graphql.GraphObject("Commit", commit_field)
                return None
            if field_name == "pullRequest":
                number = args.get("number")
                found = fake.pulls.get((repo.full_name.lower(), number))
                if not isinstance(number, int) or found is None:
                    errors.append(
                        {
                            "type": "NOT_FOUND",
                            "path": ["repository", "pullRequest"],
                            "message": "Could not resolve to a PullRequest with the number of "
                            f"{number}.",
                        }
                    )
                    return None
                return _pull_graph(fake, found)
            if field_name == "defaultBranchRef":
                head = repo.git.ref_sha(f"refs/heads/{repo.default_branch}")
                target = graphql.GraphObject(
                    "Commit", lambda n, a: _field({"oid": head}, "Commit", n)
                )
                return graphql.GraphObject(
                    "Ref",
                    lambda n, a: _field({"name": repo.default_branch, "target": target}, "Ref", n),
                )
            values = {
                "nameWithOwner": repo.full_name,
                "name": repo.name,
                "id": base64.b64encode(f"Repository{repo.id}".encode()).decode(),
                "databaseId": repo.id,
                "isFork": repo.fork_of is not None,
                "isPrivate": repo.private,
            }
            return _field(values, "Repository", field_name)

        def prepare(fields: list[tuple[str, dict[str, Any]]]) -> None:
            # The blobs of many ``object(expression: "sha:path")`` fields, read in one go.
            expressions = [
                args.get("expression") or args.get("oid")
                for name, args in fields
                if name == "object"
            ]
            repo.git.prefetch([e for e in expressions if isinstance(e, str)])

        return graphql.GraphObject("Repository", resolve, prepare)

    def root(name: str, args: dict[str, Any]) -> Any:
        if name == "repository":
            return repository(str(args.get("owner")), str(args.get("name")))
        if name == "rateLimit":
            return graphql.GraphObject(
                "RateLimit",
                lambda n, a: _field(
                    {
                        "cost": 1,
                        "limit": 5000,
                        "remaining": 4999,
                        "used": 1,
                        "resetAt": _iso(time.time() + 3600),
                        "nodeCount": 1,
                    },
                    "RateLimit",
                    n,
                ),
            )
        raise graphql.GraphQLError(f"Field '{name}' doesn't exist on type 'Query'")

    try:
        selections = graphql.parse(query)
        data = graphql.execute(selections, graphql.GraphObject("Query", root), variables)
    except graphql.GraphQLError as err:
        return 200, {"errors": [{"message": str(err)}]}
    out: dict[str, Any] = {"data": data}
    if errors:
        out["errors"] = errors
    return 200, out


def _open_pulls_at(fake: FakeGitHub, repo: Repo, sha: str) -> list[PullRequest]:
    """The repository's own open pull requests whose head is commit ``sha`` (or contains it),
    newest first, as ``GET /repos/{o}/{r}/commits/{sha}/pulls`` lists them (none from forks)."""
    found = []
    for (name, _n), pr in fake.pulls.items():
        if name != repo.full_name.lower() or pr.state != "open" or pr.head_repo is not repo:
            continue
        head = fake.head_sha(pr)
        if head == sha or repo.git.merge_base(sha, head) == sha:
            found.append(pr)
    found.sort(key=lambda pr: -pr.number)
    return found


def _connection(nodes: list[graphql.GraphObject], args: dict[str, Any]) -> graphql.GraphObject:
    first = args.get("first")
    if not isinstance(first, int) or not 1 <= first <= 100:
        raise graphql.GraphQLError("`first` must be between 1 and 100")
    kept = nodes[:first]
    values = {"nodes": kept, "totalCount": len(nodes)}
    return graphql.GraphObject("Connection", lambda n, a: _field(values, "Connection", n))


def _pull_graph(fake: FakeGitHub, pr: PullRequest) -> graphql.GraphObject:
    """A pull request as GitHub's GraphQL API shows it (the fields prgate asks for)."""

    def named(login: str) -> graphql.GraphObject:
        return graphql.GraphObject("User", lambda n, a: _field({"login": login}, "User", n))

    def repo_node(repo: Repo) -> graphql.GraphObject:
        values = {"nameWithOwner": repo.full_name}
        return graphql.GraphObject("Repository", lambda n, a: _field(values, "Repository", n))

    def label(name: str) -> graphql.GraphObject:
        return graphql.GraphObject("Label", lambda n, a: _field({"name": name}, "Label", n))

    def resolve(name: str, args: dict[str, Any]) -> Any:
        if name == "labels":
            return _connection([label(x) for x in pr.labels], args)
        values = {
            "number": pr.number,
            "state": "OPEN" if pr.state == "open" else "CLOSED",
            "isDraft": pr.draft,
            "headRefName": pr.head_ref,
            "headRefOid": fake.head_sha(pr),
            "baseRefName": pr.base_ref,
            "baseRefOid": fake.base_sha(pr),
            "author": named(pr.author),
            "headRepository": repo_node(pr.head_repo),
            "baseRepository": repo_node(pr.repo),
        }
        return _field(values, "PullRequest", name)

    return graphql.GraphObject("PullRequest", resolve)


def _field(values: dict[str, Any], typename: str, name: str) -> Any:
    if name not in values:
        raise graphql.GraphQLError(f"Field '{name}' doesn't exist on type '{typename}'")
    return values[name]


def _file_item(d: DiffEntry, *, full_name: str, head: str, api: str) -> dict[str, Any]:
    """One changed file as GitHub lists it (a pull request's files, a comparison's files)."""
    item: dict[str, Any] = {
        "sha": d.sha or ZERO_SHA,
        "filename": d.filename,
        "status": d.status,
        "additions": d.additions,
        "deletions": d.deletions,
        "changes": d.additions + d.deletions,
        "blob_url": f"https://github.com/{full_name}/blob/{head}/{d.filename}",
        "raw_url": f"https://github.com/{full_name}/raw/{head}/{d.filename}",
        "contents_url": f"{api}/contents/{d.filename}?ref={head}",
    }
    if d.patch is not None:
        item["patch"] = d.patch
    if d.previous_filename is not None:
        item["previous_filename"] = d.previous_filename
    return item
