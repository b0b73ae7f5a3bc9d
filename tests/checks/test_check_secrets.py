"""The ``secrets`` check kind: credentials in added lines, never echoed.

Every credential here is random and built at run time (prefix + random characters), so this file
holds none that prgate, or anyone's secret scanning, would flag.
"""

from __future__ import annotations

import dataclasses
import json
import random
import string

import pytest

from prgate.checks import CheckContext, Rule
from prgate.checks.secrets import KIND, SecretsParams, entropy
from prgate.config import Config
from prgate.engine import evaluate
from prgate.model import ChangeSet, Finding
from prgate.packs import load_builtin, run_case
from prgate.render.jsonout import render_json
from prgate.sources.memory import FileSides, changeset_from_files

_RANDOM = random.Random(20240601)
ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
DJANGO = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_RANDOM.choice(alphabet) for _ in range(n))


def _rule(**params: object) -> Rule:
    return Rule(
        id="content/secrets",
        check="secrets",
        level="error",
        title="A credential is written into the files",
        why="why",
        fix="fix",
        params=KIND.params.model_validate(params),
    )


def _run(changeset: ChangeSet, rule: Rule | None = None) -> list[Finding]:
    return KIND.run(CheckContext(changeset=changeset), [rule or _rule()]).findings


def _one_file(path: str, head: str | bytes, base: str | bytes | None = None) -> ChangeSet:
    return changeset_from_files({path: FileSides(base=base, head=head)})


# (kind named in the finding, the credential, the line it sits on, the file)
CREDENTIALS: list[tuple[str, str, str, str]] = []


def _add(kind: str, secret: str, template: str = "value = '{}'", path: str = "app/x.py") -> None:
    CREDENTIALS.append((kind, secret, template.format(secret), path))


_add("AWS access key ID", "AK" + "IA" + rand(16, UPPER))
_add("AWS access key ID", "AS" + "IA" + rand(16, UPPER), "{}", "creds.txt")
_add(
    "AWS secret access key",
    rand(40, ALNUM + "/+"),
    "aws_secret_access_key = {}",
    "home/.aws/credentials",
)
_add("AWS secret access key", rand(40, ALNUM + "/+"), "AWS_SECRET_ACCESS_KEY={}", "deploy/prod.env")
_add("GitHub token", "gh" + "p_" + rand(36), "token: {}", "ci/config.yml")
_add("GitHub token", "gh" + "s_" + rand(36))
_add("GitHub fine-grained token", "github" + "_pat_" + rand(22) + "_" + rand(59))
_add("GitLab token", "glp" + "at-" + rand(20))
_add("Slack token", "xo" + "xb-" + rand(11, string.digits) + "-" + rand(24), "const t = '{}';")
_add(
    "Slack webhook URL",
    "https://hooks.slack"
    + ".com/services/T"
    + rand(8, UPPER)
    + "/B"
    + rand(8, UPPER)
    + "/"
    + rand(24),
)
_add("Stripe secret key", "sk" + "_live_" + rand(24), 'Stripe.apiKey = "{}";', "web/pay.js")
_add("Stripe secret key", "rk" + "_live_" + rand(24))
_add("Google API key", "AI" + "za" + rand(35))
_add(
    "JSON Web Token",
    "ey" + "JhbGciOiJIUzI1NiJ9." + "ey" + "JzdWIiOiI0MiJ9." + rand(43, ALNUM + "_-"),
    "Authorization: Bearer {}",
    "notes.md",
)
_add(
    "Anthropic API key",
    "sk" + "-ant-api03-" + rand(93, ALNUM + "_-"),
    "ANTHROPIC_API_KEY={}",
    ".env",
)
_add("OpenAI API key", "sk" + "-proj-" + rand(64, ALNUM + "_-"))
_add("OpenAI API key", "sk" + "-" + rand(48))
_add("npm access token", "np" + "m_" + rand(36), "//registry.npmjs.org/:_authToken={}", ".npmrc")
_add("PyPI upload token", "py" + "pi-AgEIcHlwaS5vcmc" + rand(60, ALNUM + "_-"))
_add("Hugging Face token", "h" + "f_" + rand(34))
_add("Twilio API key", "S" + "K" + rand(32, HEX))
_add("Twilio auth token", rand(32, HEX), "TWILIO_AUTH_TOKEN = '{}'")
_add("SendGrid API key", "S" + "G." + rand(22) + "." + rand(43))
_add("Shopify access token", "shp" + "at_" + rand(32, HEX))
_add(
    "Discord webhook URL",
    "https://discord" + ".com/api/webhooks/123456789/" + rand(60, ALNUM + "_-"),
)
_add(
    "Azure storage account key",
    rand(86, ALNUM + "+/") + "==",
    "DefaultEndpointsProtocol=https;AccountName=x;AccountKey={};",
)
_add(
    "password inside a URL",
    rand(18),
    "DATABASE_URL=postgres://app:{}@db.internal:5432/app",
)
_add("password or key written as a literal", "Zq7!" + rand(12), 'DB_PASSWORD = "{}"')
_add("password or key written as a literal", "Zq7!" + rand(12), "db_password: str = '{}'")
_add("password or key written as a literal", "Zq7!" + rand(12), '"api_key": "{}",', "conf.json")
_add(
    "password or key written as a literal", "Zq7" + rand(12), "SMTP_PASSWORD={}", "deploy/.env.prod"
)
_add("password or key written as a literal", "Zq7" + rand(12), "  password: {}", "config/app.yaml")


_add(
    "application secret key (SECRET_KEY)",
    "django-insecure-" + rand(12, DJANGO) + "%(" + rand(12, DJANGO) + ")%s" + rand(10, DJANGO),
    "SECRET_KEY = '{}'",
    "site/settings.py",
)
_add("Telegram bot token", rand(9, string.digits) + ":AA" + rand(33, ALNUM + "_-"), 'Bot("{}")')
_add("Mailgun API key", "ke" + "y-" + rand(32, HEX), 'auth=("api", "{}")')
_add("password inside a URL", "Zq7" + rand(12), "BROKER=amqp://tasks:{}@mq.internal//", ".env")


@pytest.mark.parametrize(
    ("kind", "secret", "line", "path"),
    CREDENTIALS,
    ids=[f"{i}-{c[0]}" for i, c in enumerate(CREDENTIALS)],
)
def test_credential_is_found_and_never_echoed(kind: str, secret: str, line: str, path: str) -> None:
    cs = _one_file(path, "first = 1\n" + line + "\nlast = 2\n", base="first = 1\nlast = 2\n")
    found = _run(cs)
    assert len(found) == 1, [f.message for f in found]
    finding = found[0]
    assert (finding.path, finding.line, finding.end_line) == (path, 2, 2)
    assert kind in finding.message
    assert finding.column is not None and 1 <= finding.column <= len(line)
    assert line.find(secret) + 1 >= finding.column or "://" in line
    _assert_not_echoed(secret, json.dumps(dataclasses.asdict(finding)))


def test_private_key_block_is_found_at_its_first_line() -> None:
    body = rand(64, ALNUM + "+/")
    pem = "-----BEGIN OPENSSH PRIVATE " + "KEY-----\n" + body + "\n" + body[:20] + "==\n"
    pem += "-----END OPENSSH PRIVATE " + "KEY-----\n"
    found = _run(_one_file("deploy/id_ed25519", pem))
    assert [(f.line, f.column) for f in found] == [(1, 1)]
    assert "private key" in found[0].message
    _assert_not_echoed(body, found[0].message)


def test_private_key_inside_a_json_string_is_found() -> None:
    body = rand(64, ALNUM + "+/")
    line = '  "private_key": "-----BEGIN PRIVATE ' + "KEY-----\\n" + body + '\\n-----END",'
    found = _run(_one_file("service-account.json", "{\n" + line + "\n}\n"))
    assert [f.line for f in found] == [2]


def test_code_that_parses_key_headers_is_not_a_key() -> None:
    code = "def is_key(text):\n    return text.startswith('-----BEGIN RSA PRIVATE " + "KEY-----')\n"
    assert _run(_one_file("app/pem.py", code)) == []


@pytest.mark.parametrize(
    "line",
    [
        "AWS_ACCESS_KEY_ID = 'AK" + "IAIOSFODNN7EXAMPLE'",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
        "token = 'gh" + "p_" + "x" * 36 + "'",
        "token = 'gh" + "p_" + "0" * 36 + "'",
        'password = "changeme"',
        'password = "password"',
        'password = "hunter2"',
        'password = os.environ["DB_PASSWORD"]',
        'password = os.getenv("DB_PASSWORD", "")',
        'password = "${DB_PASSWORD}"',
        'password = "{{ db_password }}"',
        'password = "<your password here>"',
        'password_field = "user_password"',
        'API_KEY_HEADER = "X-Api-Key"',
        'if password == "Zq7!abcdefghij":',
        'secret_url = "https://vault.internal/v1/secret/app"',
        "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app",
        "DATABASE_URL=postgres://user:${DB_PASSWORD}@localhost/app",
        "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc",
        "task_id = 'task-" + rand(48, HEX) + "'",
        "digest = '" + rand(64, HEX) + "'",
    ],
)
def test_placeholders_and_ordinary_code_are_not_flagged(line: str) -> None:
    assert _run(_one_file("app/settings.py", "import os\n" + line + "\n")) == []


@pytest.mark.parametrize(
    "url",
    [
        "amqp://tasks:{}@rabbit.internal:5672//",
        "amqps://tasks:{}@rabbit.internal/vhost",
        "redis://:{}@cache.internal:6379/0",
        "rediss://default:{}@cache.internal:6380",
        "mongodb+srv://api:{}@cluster0.a1b2c.mongodb.net/shop",
        "https://deploy:{}@pypi.acme.internal/simple",
        "http://admin:{}@10.0.0.7:8080/manage",
        "ftp://backup:{}@files.acme.internal/dumps/",
        "sftp://backup:{}@files.acme.internal:22/",
        "smtp://mailer:{}@smtp.acme.internal:587",
        "ldap://cn=admin:{}@ldap.acme.internal",
        "git+https://ci:{}@git.acme.internal/team/lib.git",
        "postgresql://app:{}@db.internal:5432/app",
    ],
)
def test_password_inside_a_url_of_any_scheme(url: str) -> None:
    password = "Zq7" + rand(4, "!#%^*-_=+") + rand(10)
    line = "URL = '" + url.format(password) + "'\n"
    [finding] = _run(_one_file("app/conf.py", line))
    assert "password inside a URL" in finding.message
    _assert_not_echoed(password, finding.message)


@pytest.mark.parametrize(
    "url",
    [
        "amqp://guest:guest@localhost:5672//",
        "redis://:password@localhost:6379/0",
        "https://user:changeme@pypi.internal/simple",
        "smtp://mailer:${SMTP_PASSWORD}@smtp.internal:587",
        "mongodb+srv://<username>:<password>@cluster0.mongodb.net/test",
        "ftp://backup:xxx@files.internal/dumps/",
        "postgres://app:$(DB_PASSWORD)@db/app",
        "postgres://app:%(password)s@db/app",
        "postgres://app:{password}@db/app",
        "https://app:****@registry.internal/",
        "https://deploy:Zq7t8RmK2vLp@example.com/simple",
        "mysql://root:root@127.0.0.1:3306/app",
        "http://localhost:8080/path@v2",
    ],
)
def test_placeholder_passwords_inside_urls_are_not_flagged(url: str) -> None:
    assert _run(_one_file("app/conf.py", "URL = '" + url + "'\n")) == []


@pytest.mark.parametrize(
    "line",
    [
        '"private_key_id": "' + rand(40, HEX) + '",',
        "access_key_id = '" + rand(20, UPPER) + "'",
        "secretKeyId = '" + rand(24) + "'",
        "API_KEY_NAME = '" + rand(16) + "Zq7'",
        "password_file = '" + rand(16) + "Zq7'",
        "private_key_path = '" + rand(16) + "Zq7'",
        "secret_arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-Ab12Cd'",
        "DB_PASSWORD_SECRET = 'projects/acme-prod/secrets/db-password/versions/latest'",
        "API_TOKEN = 'projects/123456789012/secrets/api-token/versions/3'",
        "SECRET_PATH = 'secret/data/payments/stripe'",
        "SECRET_KEY = get_secret('django')",
        "SECRET_KEY = '{{ django_secret_key }}'",
        "SECRET_KEY = 'please-set-a-real-secret-key-in-production-env'",
    ],
)
def test_key_ids_names_and_resource_paths_are_not_credentials(line: str) -> None:
    assert _run(_one_file("app/settings.py", line + "\n")) == []


def test_django_key_in_an_env_file_and_with_only_punctuation_changes() -> None:
    key = rand(25, DJANGO) + "(" + rand(24, DJANGO)
    found = _run(_one_file("deploy/.env", "DJANGO_SECRET_KEY='" + key + "'\n"))
    assert [f.line for f in found] == [1]
    _assert_not_echoed(key, found[0].message)


def test_telegram_and_mailgun_need_their_exact_shape() -> None:
    token = rand(9, string.digits) + ":AA" + rand(33)
    assert len(_run(_one_file("bot.py", "TeleBot('" + token + "')\n"))) == 1
    assert _run(_one_file("bot.py", "TeleBot('" + token + "x')\n")) == []
    assert _run(_one_file("bot.py", "at = '12:34:56'\n")) == []
    mailgun = "ke" + "y-" + rand(32, HEX)
    assert len(_run(_one_file("m.py", "k = '" + mailgun + "'\n"))) == 1
    assert _run(_one_file("m.py", "k = '" + mailgun[:-1] + "'\n")) == []
    assert _run(_one_file("m.py", "k = 'cache-key-" + rand(32, HEX) + "'\n")) == []


def test_unquoted_values_only_in_config_files() -> None:
    line = "SECRET = Zq7" + rand(12) + "\n"
    assert len(_run(_one_file("conf/settings.ini", line))) == 1
    assert _run(_one_file("app/settings.py", line)) == []
    assert _run(_one_file("deploy/.env", "API_TOKEN=${TOKEN}\nSECRET=get_secret()\n")) == []


def test_only_added_lines_are_scanned() -> None:
    old = "TOKEN = 'gh" + "p_" + rand(36) + "'\n"
    cs = _one_file("app/a.py", old + "DEBUG = True\n", base=old)
    assert _run(cs) == []
    deleted = changeset_from_files({"app/b.py": FileSides(base=old, head=None)})
    assert _run(deleted) == []


def test_several_credentials_on_one_line_make_one_finding() -> None:
    line = f"keys = ['AK{'IA'}{rand(16, UPPER)}', 'gh{'p_'}{rand(36)}']\n"
    found = _run(_one_file("a.py", line))
    assert len(found) == 1
    assert "AWS access key ID" in found[0].message and "GitHub token" in found[0].message


def test_specific_kind_wins_over_the_generic_one() -> None:
    line = f"api_key = 'sk{'_live_'}{rand(24)}'\n"
    [finding] = _run(_one_file("a.py", line))
    assert "Stripe secret key" in finding.message
    assert "literal" not in finding.message


def test_non_utf8_file_is_still_scanned() -> None:
    secret = "gh" + "p_" + rand(36)
    head = b"caf\xe9 = 1\ntoken = '" + secret.encode() + b"' # \xff\xfe\n"
    found = _run(_one_file("legacy.py", head))
    assert [f.line for f in found] == [2]


def test_binary_files_are_not_scanned() -> None:
    secret = "gh" + "p_" + rand(36)
    cs = _one_file("blob.bin", b"\0\1" + secret.encode() + b"\n")
    assert _run(cs) == []


def test_paths_and_exclude() -> None:
    line = "t = 'gh" + "p_" + rand(36) + "'\n"
    cs = changeset_from_files(
        {
            "app/a.py": FileSides(base=None, head=line),
            "tests/fixtures/b.py": FileSides(base=None, head=line),
            "docs/c.md": FileSides(base=None, head=line),
        }
    )
    excluded = _run(cs, _rule(exclude=["tests/fixtures/"]))
    assert sorted(str(f.path) for f in excluded) == ["app/a.py", "docs/c.md"]
    only = _run(cs, _rule(paths=["*.py"], exclude=["tests/"]))
    assert [f.path for f in only] == ["app/a.py"]


def test_unusual_paths_and_crlf() -> None:
    secret = "np" + "m_" + rand(36)
    cs = _one_file("-my dir/ünï code.txt", "a\r\ntoken=" + secret + "\r\n")
    assert [(f.path, f.line) for f in _run(cs)] == [("-my dir/ünï code.txt", 2)]


def test_report_json_never_contains_any_part_of_a_secret() -> None:
    files = {}
    secrets = []
    for i, (_, secret, line, path) in enumerate(CREDENTIALS):
        files[f"dir {i}/{path}"] = FileSides(base=None, head=f"x\n{line}\n")
        secrets.append(secret)
    cs = changeset_from_files(files)
    report = evaluate(cs, Config(rules=(_rule(),)))
    assert len(report.findings) == len(CREDENTIALS)
    text = render_json(report) + json.dumps([dataclasses.asdict(f) for f in report.findings])
    for secret in secrets:
        _assert_not_echoed(secret, text)


def test_params_are_strict() -> None:
    with pytest.raises(ValueError):
        SecretsParams.model_validate({"pattern": "x"})
    with pytest.raises(ValueError, match="empty"):
        SecretsParams.model_validate({"exclude": [""]})


def test_entropy() -> None:
    assert entropy("") == 0.0
    assert entropy("aaaa") == 0.0
    assert entropy("abcd") == 2.0


def _assert_not_echoed(secret: str, text: str) -> None:
    """Not the secret, nor any 8-character piece of it."""
    for start in range(max(1, len(secret) - 7)):
        piece = secret[start : start + 8]
        assert piece not in text, "a piece of the secret appears in the output"


@pytest.mark.parametrize("rule_id", ["content/secrets", "size/limit", "tests/required"])
def test_hygiene_pack_cases_pass(rule_id: str) -> None:
    pack = load_builtin("hygiene")
    [pack_rule] = [r for r in pack.rules if r.rule.id == rule_id]
    results = [run_case(pack, pack_rule, case) for case in pack_rule.cases]
    assert any(case.expect for case in pack_rule.cases)
    assert any(not case.expect for case in pack_rule.cases)
    assert all(r.passed for r in results), [r.describe() for r in results]
