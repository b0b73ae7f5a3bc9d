"""Credentials in a report's texts are masked by every renderer, with the secrets check's own
detectors: a recognisable prefix and the kind, never the value."""

from __future__ import annotations

import json

import pytest

from prgate.model import Conclusion, Finding, Fix, Level, Report, Skipped
from prgate.render import FORMATS, render
from prgate.render.markdown import (
    BaseVerdict,
    check_annotations,
    check_summary,
    comment,
    head_summary,
)
from prgate.render.prompt import agent_prompt
from prgate.render.redact import RedactedReport, redact, redacted_report

AWS = "AKIA" + "Q7XM2R5TZ9WB4K6N"
GITHUB = "ghp_" + "Vb7Nq2Wx9Lm4Rk8Tp3Hs6Jd1Fy5Gc0Za8Ue3"
SLACK = "xoxb-" + "2914857301-7730192845-Qw8Er2Ty6Ui0Op4As8Df2Gh"
PASSWORD = "Zq8Wm3Rt6Yp1Xn4K"
KEY_BODY = "MIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQ7fcVx9Lk2mRt8WpZ3HyN6cJ0dF4sE1aQ"


def test_a_key_keeps_a_recognisable_prefix_and_says_what_it_was() -> None:
    assert redact(f"Undefined name `{AWS}`") == (
        "Undefined name `AKIA…[hidden: an AWS access key ID]`"
    )
    assert redact(f"token {GITHUB} and {AWS}.") == (
        "token ghp_…[hidden: a GitHub token] and AKIA…[hidden: an AWS access key ID]."
    )
    masked = redact(SLACK)
    assert SLACK[5:] not in masked and masked.startswith("xox…[hidden: a Slack token")


def test_a_format_that_starts_with_secret_characters_shows_none_of_them() -> None:
    aws_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Wm3Rt6Y"
    assert redact(f"aws_secret_access_key = {aws_secret}") == (
        "aws_secret_access_key = …[hidden: an AWS secret access key]"
    )
    assert redact("mc = 0f3a9c1e5b7d2468ace13579bdf02468-us12") == (
        "mc = …[hidden: a Mailchimp API key]"
    )


def test_a_value_known_only_by_its_name_shows_no_prefix() -> None:
    assert redact(f'password = "{PASSWORD}"') == (
        'password = "…[hidden: a password or key written as a literal value]"'
    )
    assert redact(f"postgres://app:{PASSWORD}@db.internal:5432/main") == (
        "postgres://app:…[hidden: a password inside a URL]@db.internal:5432/main"
    )


def test_placeholders_and_plain_text_are_left_as_they_are() -> None:
    for text in (
        "AKIAIOSFODNN7EXAMPLE",  # AWS's documentation example
        'password = "changeme"',
        "Line 3 holds what looks like an AWS access key ID.",
        "",
    ):
        assert redact(text) == text


def test_a_private_key_keeps_its_header_and_loses_its_body() -> None:
    block = (
        "key = '''\n-----BEGIN RSA PRIVATE KEY-----\n"
        f"{KEY_BODY}\n{KEY_BODY[::-1]}\n-----END RSA PRIVATE KEY-----\n'''\nafter"
    )
    masked = redact(block)
    assert KEY_BODY not in masked and KEY_BODY[::-1] not in masked
    assert masked.splitlines() == [
        "key = '''",
        "-----BEGIN RSA PRIVATE KEY-----",
        "…[hidden: a private key]",
        "…[hidden: a private key]",
        "-----END RSA PRIVATE KEY-----",
        "'''",
        "after",
    ]
    inline = f'"-----BEGIN PRIVATE KEY-----\\n{KEY_BODY}\\n-----END PRIVATE KEY-----\\n"'
    assert redact(inline) == (
        '"-----BEGIN PRIVATE KEY-----…[hidden: a private key]-----END PRIVATE KEY-----\\n"'
    )


def test_redacting_twice_changes_nothing_more() -> None:
    text = f"{AWS} {GITHUB} password = '{PASSWORD}'"
    once = redact(text)
    assert redact(once) == once
    report = _report(f"Undefined name `{AWS}`")
    redacted = redacted_report(report)
    assert isinstance(redacted, RedactedReport)
    assert redacted_report(redacted) is redacted


def _report(message: str) -> Report:
    finding = Finding(
        rule="style/ruff-lint",
        level=Level.ERROR,
        path="app/keys.py",
        line=2,
        end_line=2,
        title=f"About {GITHUB}",
        message=message,
        fix=f"Remove {AWS}.",
    )
    return Report(
        conclusion=Conclusion.FAILURE,
        findings=(finding,),
        skipped=(Skipped(rule="team/x", path="app/keys.py", reason=f"could not read {AWS}"),),
        fixes=(Fix(path="app/keys.py", rules=("style/ruff-format",), description=f"x {AWS}"),),
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_masks_every_field(fmt: str) -> None:
    out = render(_report(f"Undefined name `{AWS}`"), fmt)
    assert AWS not in out and GITHUB not in out and GITHUB[4:20] not in out
    assert "AKIA…" in out and "ghp_…" in out
    if fmt in ("json", "sarif"):
        json.loads(out)


def test_every_github_text_masks_every_field() -> None:
    report = _report(f"Undefined name `{AWS}`")
    title, summary = check_summary(report)
    _title, heads = head_summary(
        [BaseVerdict(1, f"release-{AWS}", report), BaseVerdict(2, "main", report)]
    )
    texts = [
        comment(report),
        title,
        summary,
        heads,
        agent_prompt(report),
        json.dumps(check_annotations(report), ensure_ascii=False),
    ]
    for text in texts:
        assert AWS not in text and GITHUB not in text
    assert "Undefined name `AKIA…[hidden: an AWS access key ID]`" in agent_prompt(report)
    (annotation,) = check_annotations(report)
    assert annotation["path"] == "app/keys.py"  # paths place findings: left as they are
    assert annotation["title"] == "About ghp_…[hidden: a GitHub token]"
