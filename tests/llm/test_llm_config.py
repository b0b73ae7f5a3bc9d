"""The `llm:` section of `.github/prgate.yml`: strict, defaulted, merged along `extends`."""

from __future__ import annotations

import pytest

from prgate.config.loader import resolve_config
from prgate.errors import ConfigError
from prgate.llm.pricing import DEFAULT_MODEL
from prgate.llm.settings import LlmSettings

CONFIG = ".github/prgate.yml"


class Files:
    def __init__(self, files: dict[tuple[str | None, str], str]) -> None:
        self.files = files

    def read(self, repo: str | None, path: str) -> bytes | None:
        text = self.files.get((repo, path))
        return text.encode() if text is not None else None


def resolve(text: str, org: str | None = None):
    files = {(None, CONFIG): text}
    if org is not None:
        files[("my-org/.github", CONFIG)] = org
    return resolve_config(Files(files))  # type: ignore[arg-type]


def test_defaults_without_an_llm_section():
    config = resolve("packs: [hygiene]\n")

    assert config.llm is False
    assert config.llm_settings == LlmSettings()
    assert config.llm_settings.model == DEFAULT_MODEL
    assert config.llm_settings.max_input_tokens_per_pr == 200_000
    assert config.llm_settings.max_usd_per_pr == 1.0


def test_every_setting_is_read():
    config = resolve(
        "llm:\n  enabled: true\n  model: claude-haiku-5-5\n  max_input_tokens_per_pr: 50000\n"
        "  max_usd_per_pr: 2\n  timeout_seconds: 30\n"
    )

    assert config.llm is True
    assert config.llm_settings == LlmSettings(
        enabled=True,
        model="claude-haiku-5-5",
        max_input_tokens_per_pr=50_000,
        max_usd_per_pr=2.0,
        timeout_seconds=30.0,
    )


def test_a_repo_retunes_only_what_it_names_on_top_of_its_org():
    config = resolve(
        "extends: my-org/.github\nllm: {max_usd_per_pr: 0.25}\n",
        org="llm: {enabled: true, model: claude-opus-5-5}\n",
    )

    assert config.llm is True
    assert config.llm_settings.model == "claude-opus-5-5"
    assert config.llm_settings.max_usd_per_pr == 0.25


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("llm: {enabled: yes please}\n", "enabled"),
        ("llm: {budget: 3}\n", "budget"),
        ("llm: {max_usd_per_pr: -1}\n", "max_usd_per_pr"),
        ("llm: {max_usd_per_pr: 1000}\n", "max_usd_per_pr"),
        ("llm: {max_input_tokens_per_pr: 10}\n", "max_input_tokens_per_pr"),
        ("llm: {timeout_seconds: 0}\n", "timeout_seconds"),
        ("llm: {model: 'claude sonnet; rm -rf'}\n", "model"),
        ("llm: {max_usd_per_pr: true}\n", "max_usd_per_pr"),
    ],
)
def test_bad_settings_are_refused_plainly(text, words):
    with pytest.raises(ConfigError) as raised:
        resolve(text)

    assert words in str(raised.value)
    assert "line 1" in str(raised.value) or raised.value.line == 1
