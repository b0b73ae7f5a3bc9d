"""Resolving a repository's config: its file, the ``extends`` chain, packs, and overrides.

Everything is read through a :class:`ConfigFetcher` at the *base* of the change, so that a change
cannot loosen the rules it is judged by. The result is a :class:`Config` or a :class:`ConfigError`
that says which file, where, and what to do: it never half-works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from prgate.config import CONFIG_PATH, REPO_PACKS_DIR, Config
from prgate.config.fetchers import (
    LOCAL_ONLY,
    ConfigFetcher,
    DirectoryFetcher,
    GitRefFetcher,
    LocalFetcher,
)
from prgate.config.messages import all_errors, from_validation, raise_all, suggest
from prgate.config.packfile import Pack, parse_pack
from prgate.config.rules import RuleSpec, apply_override, check_rule_id, parse_definition
from prgate.config.schema import ConfigFile
from prgate.config.yamlsafe import YamlDoc, load_yaml
from prgate.errors import ConfigError, HiddenRepository, SourceError
from prgate.llm.settings import LlmSettings

#: How many configs an ``extends`` chain may hold.
MAX_EXTENDS = 5
#: The id of the engine's own rule about edits to the config.
CONFIG_CHANGED = "config/changed"

__all__ = [
    "ConfigFetcher",
    "ConfigText",
    "DirectoryFetcher",
    "GitRefFetcher",
    "LocalFetcher",
    "load_config_file",
    "repository_root",
    "resolve_config",
    "validate_file",
]


@dataclass(frozen=True)
class ConfigText:
    """A config given directly (``--config FILE``) instead of read from the repository."""

    file: str
    data: bytes


@dataclass(frozen=True)
class _Layer:
    doc: YamlDoc
    model: ConfigFile
    #: The repository this file lives in: ``None`` for the one being judged.
    repo: str | None
    #: What is wrong at the top level of this file. The settings they concern were left out of
    #: ``model`` so that the rest of the file is still checked and every error is told at once.
    errors: tuple[ConfigError, ...] = ()
    #: Whether a left-out setting decides which packs apply (``packs``, ``extends``, or a key
    #: misspelt from one): then a rule that is "not in the packs in use" may well be.
    packs_unsure: bool = False

    @property
    def label(self) -> str:
        return self.doc.file


def resolve_config(
    fetcher: ConfigFetcher, *, org: str | None = None, override: ConfigText | None = None
) -> Config:
    """The config of the repository ``fetcher`` reads (at the base of the change).

    Order: ``override`` if given; else the repository's ``.github/prgate.yml``; else, when
    ``org`` is known, the org's ``.github`` repository's ``.github/prgate.yml``; else the
    packs python-style, web-style and hygiene at their default levels.
    """
    from prgate.packs import DEFAULT_PACKS, load_builtin

    notices: list[str] = []
    first: _Layer | None
    if override is None and isinstance(fetcher, LocalFetcher) and fetcher.config is not None:
        override = ConfigText(file=fetcher.config[0], data=fetcher.config[1])
    if override is not None:
        first = _parse_layer(override.data, file=override.file, repo=None)
    else:
        data = fetcher.read(None, CONFIG_PATH)
        first = _parse_layer(data, file=CONFIG_PATH, repo=None) if data is not None else None
        if first is None and org:
            try:
                first = _org_layer(fetcher, org)
            except HiddenRepository as exc:
                notices.append(
                    f"This repository has no {CONFIG_PATH}, and prgate could not look for the "
                    f"organisation's in {org}/.github ({exc}); on GitHub, the App uses that one "
                    "when it exists."
                )
            if first is not None:
                notices.append(f"This repository has no {CONFIG_PATH}; using {first.label}.")
    if first is None:
        rules = _pack_rules([("defaults", load_builtin(p)) for p in DEFAULT_PACKS])
        return Config(
            rules=tuple(s.rule for s in rules.values()),
            source=f"defaults (packs {_listed(DEFAULT_PACKS)})",
            notices=(
                *notices,
                f"No {CONFIG_PATH} was found; the default packs {_listed(DEFAULT_PACKS)} apply.",
            ),
        )
    chain = _chain(fetcher, first)
    errors = [e for layer in chain for e in layer.errors]
    try:
        packs = _packs(fetcher, chain)
        specs = _pack_rules(packs)
    except ConfigError as exc:
        raise_all([*errors, *all_errors(exc)])
        raise
    pack_ids = set(specs)
    unsure = any(layer.packs_unsure for layer in chain)
    for layer in chain:
        try:
            _apply_rules(layer, specs, pack_ids, [p for _, p in packs], packs_unsure=unsure)
        except ConfigError as exc:
            errors.extend(all_errors(exc))
    raise_all(errors)
    autofix = True
    llm_fields: dict[str, Any] = {}
    for layer in chain:
        if layer.model.autofix is not None:
            autofix = layer.model.autofix.enabled
        if layer.model.llm is not None:  # each layer re-tunes only the settings it names
            llm_fields.update(layer.model.llm.model_dump(exclude_unset=True))
    llm_settings = LlmSettings(**llm_fields)
    llm = llm_settings.enabled
    return Config(
        rules=tuple(s.rule for s in specs.values()),
        autofix=autofix,
        llm=llm,
        llm_settings=llm_settings,
        source=" + ".join(layer.label for layer in chain),
        notices=tuple(notices),
    )


def load_config_file(path: Path) -> Config:
    """The config in ``path``, with packs read from the folder it belongs to."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"The file cannot be read: {exc.strerror or exc}.", file=str(path)
        ) from None
    return resolve_config(LocalFetcher(repository_root(path), config=(str(path), data)))


def validate_file(path: Path) -> list[ConfigError]:
    """Every problem found in the config at ``path`` and the packs it names (``[]``: valid).

    Packs and ``extends`` are resolved from the repository folder that holds the file.
    """
    try:
        config = load_config_file(path)
    except ConfigError as exc:
        return all_errors(exc)
    except SourceError as exc:
        return [ConfigError(str(exc), file=str(path))]
    del config
    return []


def repository_root(path: Path) -> Path:
    """The repository folder a config file belongs to."""
    folder = path.resolve().parent
    if folder.name == ".github":
        return folder.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


# --- layers and the extends chain ------------------------------------------------------------


def _parse_layer(data: bytes, *, file: str, repo: str | None) -> _Layer:
    doc = load_yaml(data, file=file)
    content: Any = doc.data if doc.data is not None else {}
    if not isinstance(content, dict):
        raise doc.error(
            "The config must be a mapping of settings (`packs:`, `rules:` and so on).",
            hint="See the config reference in prgate's README.",
        )
    try:
        model = ConfigFile.model_validate(content)
    except ValidationError as exc:
        errors = from_validation(exc, doc, model=ConfigFile)
        # Leave out the settings that are wrong and check the rest, so that one typo at the
        # top does not hide the mistakes below it.
        wrong = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        kept = {k: v for k, v in content.items() if str(k) not in wrong}
        try:
            model = ConfigFile.model_validate(kept)
        except ValidationError:
            raise_all(errors)
            raise
        unsure = any(key in _PACK_KEYS or suggest(key, _PACK_KEYS) is not None for key in wrong)
        return _Layer(doc=doc, model=model, repo=repo, errors=tuple(errors), packs_unsure=unsure)
    return _Layer(doc=doc, model=model, repo=repo)


#: The settings that decide which packs apply.
_PACK_KEYS = ("packs", "extends")


def _label(repo: str | None, path: str) -> str:
    return path if repo is None else f"{repo}:{path}"


def _org_layer(fetcher: ConfigFetcher, org: str) -> _Layer | None:
    repo = f"{org}/.github"
    try:
        data = fetcher.read(repo, CONFIG_PATH)
    except HiddenRepository:
        raise
    except SourceError as exc:
        # Not the default packs instead: the organisation's rules may be stricter.
        raise ConfigError(
            f"This repository has no {CONFIG_PATH}, so the organisation's rules in {repo} "
            f"apply, and prgate could not read them: {exc}. prgate does not judge by its "
            "default rules instead, since the organisation's may be stricter.",
            hint=(
                f"Install the prgate App on the organisation's {repo} repository, or give it "
                "access to all repositories (the organisation's settings: GitHub Apps, prgate, "
                f"Repository access). Or add a {CONFIG_PATH} to this repository."
            ),
        ) from None
    if data is None:
        return None
    return _parse_layer(data, file=_label(repo, CONFIG_PATH), repo=repo)


def _chain(fetcher: ConfigFetcher, first: _Layer) -> list[_Layer]:
    """The layers from the root of the ``extends`` chain to ``first``."""
    chain = [first]
    seen: list[str | None] = [first.repo]
    while chain[-1].model.extends is not None:
        layer = chain[-1]
        target = layer.model.extends
        where = ("extends",)
        if target in seen:
            names = " → ".join(r or "this repository" for r in [*seen, target])
            raise layer.doc.error(
                f"`extends` goes round in a loop: {names}.",
                where,
                hint="Remove `extends` from one of these configs.",
            )
        if len(chain) >= MAX_EXTENDS:
            raise layer.doc.error(
                f"`extends` chains more than {MAX_EXTENDS} configs.",
                where,
                hint="Point `extends` at the repository whose config you need directly.",
            )
        try:
            data = fetcher.read(target, CONFIG_PATH)
        except SourceError as exc:
            local = LOCAL_ONLY in str(exc)
            raise layer.doc.error(
                f"`extends: {target}` asks for the config in {target}, and prgate could not "
                f"read it: {exc}",
                where,
                hint=(
                    "Set GITHUB_TOKEN (or GH_TOKEN) to a token that can read "
                    f"{target} (in GitHub Actions, pass the job's GITHUB_TOKEN), or run the "
                    "check with `--config FILE`, naming a config without `extends` "
                    f"(for example a copy of {target}'s {CONFIG_PATH} merged with this one)."
                    if local
                    else f"Check that {target} exists and that prgate may read it."
                ),
            ) from None
        if data is None:
            raise layer.doc.error(
                f"`extends: {target}` names a repository with no {CONFIG_PATH}.",
                where,
                hint=f"Add {CONFIG_PATH} to {target}, or remove `extends`.",
            )
        chain.append(_parse_layer(data, file=_label(target, CONFIG_PATH), repo=target))
        seen.append(target)
    chain.reverse()
    return chain


# --- packs -----------------------------------------------------------------------------------


def _packs(fetcher: ConfigFetcher, chain: Sequence[_Layer]) -> list[tuple[str, Pack]]:
    from prgate.packs import DEFAULT_PACKS

    out: list[tuple[str, Pack]] = []
    seen: set[tuple[str | None, str]] = set()
    errors: list[ConfigError] = []
    for i, layer in enumerate(chain):
        names = layer.model.packs
        if names is None:
            names = list(DEFAULT_PACKS) if i == 0 else []
        for j, name in enumerate(names):
            try:
                pack, repo = _find_pack(fetcher, layer, name, ("packs", j))
            except ConfigError as exc:
                errors.extend(all_errors(exc))
                continue
            if (repo, name) in seen:
                continue
            seen.add((repo, name))
            out.append((layer.label, pack))
    raise_all(errors)
    return out


def _find_pack(
    fetcher: ConfigFetcher, layer: _Layer, name: str, loc: tuple[str | int, ...]
) -> tuple[Pack, str | None]:
    from prgate.packs import builtin_names, load_builtin

    builtins = builtin_names()
    if name in builtins:
        return load_builtin(name), "built-in"
    for suffix in (".yml", ".yaml"):
        path = f"{REPO_PACKS_DIR}/{name}{suffix}"
        try:
            data = fetcher.read(layer.repo, path)
        except SourceError as exc:
            raise layer.doc.error(f"The pack `{name}` could not be read: {exc}", loc) from None
        if data is not None:
            pack = parse_pack(
                data, file=_label(layer.repo, path), builtin=False, expected_name=name
            )
            return pack, layer.repo
    reason = f"There is no pack `{name}`."
    nearest = suggest(name, builtins)
    if nearest:
        reason += f" Did you mean `{nearest}`?"
    return_hint = (
        "The built-in packs are: "
        + ", ".join(f"`{b}`" for b in builtins)
        + f". A pack of your own is a file {REPO_PACKS_DIR}/{name}.yml"
        + (" in this repository." if layer.repo is None else f" in {layer.repo}.")
    )
    raise layer.doc.error(reason, loc, hint=return_hint)


def _pack_rules(packs: Sequence[tuple[str, Pack]]) -> dict[str, RuleSpec]:
    specs: dict[str, RuleSpec] = {}
    owner: dict[str, Pack] = {}
    errors: list[ConfigError] = []
    for _, pack in packs:
        for pr in pack.rules:
            rule_id = pr.rule.id
            if rule_id in owner:
                errors.append(
                    ConfigError(
                        f"The rule `{rule_id}` is defined by two packs in use: "
                        f"{owner[rule_id].label} and {pack.label}.",
                        file=pack.file,
                        line=pr.line,
                        hint="Rename one of them, or use only one of the two packs.",
                    )
                )
                continue
            owner[rule_id] = pack
            specs[rule_id] = pr.spec
    raise_all(errors)
    return specs


# --- the rules: settings ---------------------------------------------------------------------


def _apply_rules(
    layer: _Layer,
    specs: dict[str, RuleSpec],
    pack_ids: set[str],
    packs: Sequence[Pack],
    *,
    packs_unsure: bool = False,
) -> None:
    errors: list[ConfigError] = []
    doc = layer.doc
    loc = ("rules",)
    for rule_id, settings in layer.model.rules.items():
        bad = check_rule_id(doc, loc, rule_id)
        if bad:
            errors.append(bad)
            continue
        try:
            if rule_id in pack_ids or (rule_id in specs and "check" not in settings):
                # A packed rule (or a rule written in a parent config) re-tuned here.
                origin = f"re-tuned in {doc.file}"
                specs[rule_id] = apply_override(doc, loc, specs[rule_id], settings, origin=origin)
            elif "check" in settings:
                specs[rule_id] = parse_definition(doc, loc, rule_id, settings, origin=doc.file)
            elif not packs_unsure:
                # (With the packs themselves in doubt, an error about them says it all.)
                errors.append(_unknown_rule(doc, rule_id, specs, packs))
        except ConfigError as exc:
            errors.extend(all_errors(exc))
    raise_all(errors)


def _unknown_rule(
    doc: YamlDoc, rule_id: str, specs: dict[str, RuleSpec], packs: Sequence[Pack]
) -> ConfigError:
    from prgate.packs import builtin_names, load_builtin

    loc = ("rules", rule_id)
    if rule_id == CONFIG_CHANGED:
        return doc.error(
            f"`{CONFIG_CHANGED}` is built into prgate and cannot be re-tuned: an edit to "
            "prgate's rules is always reported as a warning.",
            loc,
            key=True,
            hint=f"Remove `{CONFIG_CHANGED}` from `rules`.",
        )
    in_use = ", ".join(f"`{p.name}`" for p in packs) or "none"
    reason = f"`{rule_id}` is not a rule of the packs in use ({in_use})."
    elsewhere = None
    for name in builtin_names():
        try:
            if load_builtin(name).rule(rule_id) is not None:
                elsewhere = name
                break
        except ConfigError:
            continue
    if elsewhere:
        hint = f"It is a rule of the pack `{elsewhere}`: add `{elsewhere}` to `packs`."
    else:
        nearest = suggest(rule_id, specs)
        if nearest:
            reason += f" Did you mean `{nearest}`?"
        hint = (
            "The built-in packs are "
            + ", ".join(f"`{n}`" for n in builtin_names())
            + f"; a repository's own packs are files in {REPO_PACKS_DIR}/. To write a rule of "
            "your own here, give it `check`, `level`, `title`, `why` and `fix`."
        )
    return doc.error(reason, loc, key=True, hint=hint)


def _listed(names: Sequence[str]) -> str:
    """``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
