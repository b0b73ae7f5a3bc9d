"""The strict shapes of prgate's YAML files: ``.github/prgate.yml`` and rule packs.

These models check structure only. What a rule entry may hold depends on its check kind (and,
for an override, on the packed rule it re-tunes), so rule entries are kept as mappings here and
checked by :mod:`prgate.config.rules` against the kind's own parameters model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from prgate.llm.pricing import DEFAULT_MODEL
from prgate.llm.settings import (
    DEFAULT_MAX_INPUT_TOKENS_PER_PR,
    DEFAULT_MAX_USD_PER_PR,
    DEFAULT_TIMEOUT_SECONDS,
)


def _unquoted_off(value: object) -> object:
    """YAML 1.1 reads an unquoted ``off`` as ``false``: take it as the level ``off`` it meant."""
    return "off" if value is False else value


Level = Annotated[Literal["error", "warning", "notice", "off"], BeforeValidator(_unquoted_off)]
LEVELS: tuple[str, ...] = ("error", "warning", "notice", "off")

#: A rule id: ``group/name``, for example ``team/no-todo``.
RULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: A pack name, also a file name under ``.github/prgate/``.
PACK_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
#: A GitHub repository, ``owner/name``.
REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$"

#: Keys of a rule entry that are not the check kind's parameters.
RULE_KEYS: tuple[str, ...] = ("check", "level", "title", "why", "fix")
#: What an override of an existing rule may set besides the kind's parameters.
OVERRIDE_KEYS: tuple[str, ...] = ("level",)
#: The text keys a rule must have.
TEXT_KEYS: tuple[str, ...] = ("title", "why", "fix")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
PackName = Annotated[str, StringConstraints(pattern=PACK_NAME_PATTERN)]
RepoName = Annotated[str, StringConstraints(pattern=REPO_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Toggle(_Strict):
    """An optional feature switched on or off."""

    enabled: bool = Field(description="true to use this feature, false not to.")


class LlmSection(_Strict):
    """The optional AI reviewer (rules of check kind `llm`): the switch, the model, the budget."""

    enabled: bool = Field(
        default=False,
        description=(
            "true to let the App run rules of check kind `llm` (it also needs ANTHROPIC_API_KEY). "
            "Default: false."
        ),
    )
    model: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$")] = (
        Field(
            default=DEFAULT_MODEL,
            description=f"The Anthropic model that reviews. Default: {DEFAULT_MODEL}.",
        )
    )
    max_input_tokens_per_pr: int = Field(
        default=DEFAULT_MAX_INPUT_TOKENS_PER_PR,
        ge=1_000,
        le=10_000_000,
        description=(
            "Most input tokens sent for one pull request, all `llm` rules together "
            "(estimated before sending); on GitHub over all its pushes. "
            f"Default: {DEFAULT_MAX_INPUT_TOKENS_PER_PR}."
        ),
    )
    max_usd_per_pr: float = Field(
        default=DEFAULT_MAX_USD_PER_PR,
        gt=0,
        le=100,
        description=(
            "Most US dollars (estimated) spent on one pull request; on GitHub over all its "
            "pushes. Files that do not fit are listed as not reviewed. "
            f"Default: {DEFAULT_MAX_USD_PER_PR}."
        ),
    )
    timeout_seconds: float = Field(
        default=DEFAULT_TIMEOUT_SECONDS,
        ge=1,
        le=600,
        description=(
            "Seconds one request to the AI service may take before the AI part is reported as "
            f"unavailable. Default: {DEFAULT_TIMEOUT_SECONDS:g}."
        ),
    )

    @field_validator("max_usd_per_pr", "timeout_seconds", mode="before")
    @classmethod
    def _whole_numbers_too(cls, value: Any) -> Any:
        # Strict mode refuses `max_usd_per_pr: 2`; a whole number is a fine amount.
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ConfigFile(_Strict):
    """`.github/prgate.yml`: which rules apply to every pull request of this repository."""

    extends: RepoName | None = Field(
        default=None,
        description=(
            "Another repository (owner/name, usually your-org/.github) whose "
            ".github/prgate.yml is the starting point; this file's settings are applied on top."
        ),
    )
    packs: list[PackName] | None = Field(
        default=None,
        description=(
            "Rule packs to use: built-in ones (python-style, web-style, safe-zones, "
            "feature-flags, hygiene) or this repository's own, kept as "
            ".github/prgate/<name>.yml. Default: python-style, web-style and hygiene."
        ),
    )
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description=(
            "Rules re-tuned (a packed rule's level and parameters) or written here "
            "(a rule of your own, with `check`, `level`, `title`, `why` and `fix`)."
        ),
    )
    autofix: Toggle | None = Field(
        default=None, description="Whether prgate offers automatic fixes. Default: enabled."
    )
    llm: LlmSection | None = Field(
        default=None,
        description=(
            "The optional AI reviewer: `enabled`, `model`, `max_input_tokens_per_pr`, "
            "`max_usd_per_pr`, `timeout_seconds`. Default: disabled."
        ),
    )

    @field_validator("rules", mode="before")
    @classmethod
    def _empty_rules(cls, value: Any) -> Any:
        # `rules:` with everything under it commented out is an empty mapping, not a mistake.
        return {} if value is None else value


class RuleTexts(_Strict):
    """The part of a rule every rule has, whatever its check kind."""

    check: str
    level: Level
    title: Text
    why: Text
    fix: Text


class Override(_Strict):
    level: Level | None = None


class CaseFileSides(_Strict):
    """One file of a test case: its text before (``base``) and after (``head``) the change."""

    base: str | None = None
    head: str | None = None
    old_path: str | None = None


class Expected(_Strict):
    path: str | None
    line: Annotated[int, Field(ge=1)] | None = None


class CaseReview(_Strict):
    """A pull-request review in a test case (cases without ``reviews`` are judged as locally,
    where reviews cannot be seen)."""

    by: Text
    state: Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"] = "APPROVED"
    #: Files that changed after the reviewed commit (empty: the review is on the head commit).
    changed_since: list[str] = Field(default_factory=list)


class CaseOpenPull(_Strict):
    """Another open pull request of the repository in a test case (cases without
    ``open_pulls`` are judged as locally, where other pull requests are not known)."""

    number: Annotated[int, Field(ge=1)]
    title: Text = ""
    #: The files it changes.
    paths: list[str] = Field(default_factory=list)


class CaseSpec(_Strict):
    name: Text
    files: Annotated[dict[str, CaseFileSides], Field(min_length=1)]
    labels: list[str] = Field(default_factory=list)
    head_files: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    expect: list[Expected]
    fixed: dict[str, str] | None = None
    #: For a rule of check kind `llm`: the findings the AI model answers (scripted, no network).
    answer: list[Any] | None = None
    #: Who opened the pull request.
    author: str | None = None
    #: The pull request's reviews, oldest first.
    reviews: list[CaseReview] | None = None
    #: Logins of the authors and committers of the pull request's commits.
    commit_authors: list[str] = Field(default_factory=list)
    #: The base branch's `.github/CODEOWNERS`.
    codeowners: str | None = None
    #: Members of teams: `{org/team: [login, ...]}`.
    team_members: dict[str, list[str]] = Field(default_factory=dict)
    #: The repository's other open pull requests and the files they change.
    open_pulls: list[CaseOpenPull] | None = None


class PackFile(_Strict):
    """A rule pack: ``rules/<pack>.yml`` (built in) or ``.github/prgate/<pack>.yml``."""

    pack: PackName
    description: Text
    rules: dict[str, dict[str, Any]]
