"""The credential formats the ``secrets`` check kind knows, as data.

Each :class:`Detector` is one RE2 pattern with named groups: ``v`` is the value judged by the
filters of :mod:`prgate.checks.secrets` (the whole match when absent), ``k`` the name it is
assigned to (for generic detectors: ``private_key_id`` names an identifier, not a key), ``u`` the
user of a ``scheme://user:pass@host`` URL and ``h`` its host.

Formats with a fixed shape (a vendor's prefix, a length, an alphabet) fire on their shape alone,
unless the value is an obvious placeholder. Formats that are only random text (a 32-digit hex
auth token) need the provider's name before them on the line. The generic detectors (a literal
assigned to ``password``, ``api_key``, ``token``...; a password inside any URL) also need the
value to look random.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass

import re2

# Text around a token: it must not continue an identifier or a longer token.
_B = r"(?:^|[^A-Za-z0-9_])"
_B_DASH = r"(?:^|[^A-Za-z0-9_\-])"
_E = r"(?:[^A-Za-z0-9_]|$)"
_E_DASH = r"(?:[^A-Za-z0-9_\-]|$)"
_ASSIGN = r"[\"']?\s*(?::=|=>|=|:)\s*"

RE2_OPTIONS = re2.Options()
RE2_OPTIONS.log_errors = False


@dataclass(frozen=True)
class Detector:
    #: What the finding calls it: “a GitHub token”.
    name: str
    #: RE2 pattern; the named group ``v``, when present, is the value judged by the filters.
    regex: str
    #: Least Shannon entropy (bits per character) of the value.
    min_entropy: float = 2.5
    #: The value must mix at least two of: lower case, upper case, digits, other characters.
    mixed: bool = False
    #: Only in files matching these globs (``None``: every file).
    only_in: tuple[str, ...] | None = None
    #: An extra test of (line, the line after it) for formats that need context.
    context: Callable[[str, str | None], bool] | None = None
    #: A generic detector: skipped on a line where a specific one already fired.
    generic: bool = False
    #: The format's own alphabet holds punctuation, so ``%(``, ``****`` and the like are not
    #: read as template marks (a Django secret key).
    punctuated: bool = False
    #: A test of the value: whether it is a well-known documentation example.
    example: Callable[[str], bool] | None = None
    #: A cheaper RE2 pattern that matches every line ``regex`` matches, for the one pass over
    #: each line (``None``: ``regex`` itself). Long counted repeats cost the combined set dearly.
    hint: str | None = None
    #: The value is a header (a private key's ``-----BEGIN ... PRIVATE KEY-----``): the secret
    #: itself is what follows it, up to its ``-----END`` line.
    header: bool = False
    #: A pattern for the format's fixed start (``ghp_``, ``AKIA``, ``sk-ant-``): text that says
    #: what the value is and nothing of the secret, so it may be shown. ``None``: the value
    #: starts with secret characters.
    marker: str | None = None

    @property
    def prefilter(self) -> str:
        return self.hint if self.hint is not None else self.regex


def _token(name: str, body: str, *, end: str = _E, start: str = _B, **kw: object) -> Detector:
    """A detector for a token with a fixed shape, standing on its own."""
    regex = start + "(?P<v>" + body + ")" + end
    return Detector(name, regex, marker=_marker(body), **kw)  # type: ignore[arg-type]


# A format's fixed start: literal words to choose from (``(?:ghp|gho)``), then literal text.
_FIXED_START = re.compile(r"(\(\?:\w+(?:\|\w+)*\))?((?:[A-Za-z0-9_~-]|\\[.-])*)")


def _marker(body: str) -> str | None:
    """The pattern of the literal text ``body`` starts with, if any (and the same in every
    alternative: ``sk-...|sk-...``)."""
    alternatives = _top_level_alternatives(body)
    found = {_FIXED_START.match(a).group(0) for a in alternatives}  # type: ignore[union-attr]
    if len(found) != 1:
        return None
    (fixed,) = found
    if not fixed or fixed.endswith("\\"):
        return None
    return fixed


def _top_level_alternatives(body: str) -> list[str]:
    parts, depth, start, escaped = [], 0, 0, False
    for at, ch in enumerate(body):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(body[start:at])
            start = at + 1
    parts.append(body[start:])
    return parts


def _after(name: str, before: str, value: str, **kw: object) -> Detector:
    """A detector for a random value that needs the provider's name (``before``) on its left."""
    regex = r"(?i)" + before + r"[a-z0-9_.\-]{0,40}" + _ASSIGN + r"[\"']?(?P<v>" + value + ")"
    end = r"(?:[^A-Za-z0-9_\-+/=]|$)"
    return Detector(name, regex + end, hint=r"(?i)" + before, **kw)  # type: ignore[arg-type]


def _pem_body_follows(line: str, following: str | None) -> bool:
    """A private-key header counts only when key material follows it, not in PEM-parsing code."""
    tail = line.split("PRIVATE KEY", 1)[-1]
    if _PEM_INLINE.search(tail) is not None:
        return True
    if following is None:
        return False
    return _PEM_NEXT.search(following) is not None


def _example_jwt(value: str) -> bool:
    """The token of jwt.io and of countless tutorials (``"name": "John Doe"``), or one whose
    claims say it is an example."""
    try:
        part = value.split(".")[1]
        claims = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8", "replace")
    except (IndexError, ValueError):
        return False
    lowered = claims.lower()
    return any(mark in lowered for mark in ("john doe", "1234567890", "example", "jane doe"))


_PEM_INLINE = re2.compile(r"-----\\n(?:[A-Za-z-]+: [^\\]*\\n)*[A-Za-z0-9+/=]{16,}", RE2_OPTIONS)
_PEM_NEXT = re2.compile(
    r"^\s*[\"']?(?:[A-Za-z0-9+/=]{24,}|Proc-Type:|Comment:|Version:)", RE2_OPTIONS
)

#: Names whose value is a credential, for the generic detectors (matched inside longer names).
_SECRET_NAMES = (
    r"password|passwd|passphrase|secret|api[_\-]?key|apikey|access[_\-]?key|auth[_\-]?token"
    r"|access[_\-]?token|private[_\-]?key|token|credentials?"
)
_NAMES_HINT = r"(?i)(?:" + _SECRET_NAMES + r")[a-z0-9_.\-]*[\"']?\s*(?::=|=>|=|:)"

DETECTORS: tuple[Detector, ...] = (
    # --- cloud providers ------------------------------------------------------------------
    _token("an AWS access key ID", r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"),
    Detector(
        "an AWS secret access key",
        r"(?i)aws[a-z0-9_.\-]{0,30}(?:secret|private)[a-z0-9_.\-]{0,30}"
        + _ASSIGN
        + r"[\"']?(?P<v>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
        min_entropy=3.5,
    ),
    _token("a Google API key", r"AIza[0-9A-Za-z_\-]{35}", end=_E_DASH),
    _token("a Google OAuth client secret", r"GOCSPX-[A-Za-z0-9_\-]{28}", end=_E_DASH),
    Detector(
        "an Azure storage account key",
        r"(?i)AccountKey=(?P<v>[A-Za-z0-9+/]{86}==)",
        min_entropy=3.5,
    ),
    _token(
        "an Azure client secret",
        r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}",
        hint=r"[0-9]Q~",
        start=r"(?:^|[^A-Za-z0-9_~.\-])",
        end=r"(?:[^A-Za-z0-9_~.\-]|$)",
        min_entropy=3.5,
    ),
    _token("an Alibaba Cloud access key ID", r"LTAI[A-Za-z0-9]{20}", mixed=True),
    _token("a DigitalOcean token", r"do[opr]_v1_[a-f0-9]{64}"),
    _token("a Heroku API key", r"HRKU-[A-Za-z0-9_\-]{58,64}", end=_E_DASH, mixed=True),
    _after(
        "a Heroku API key",
        r"heroku[a-z0-9_.\-]{0,20}(?:api[_\-]?key|token)",
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        min_entropy=3.0,
    ),
    _token("a Databricks token", r"dapi[a-f0-9]{32}(?:-[0-9]+)?", end=_E_DASH, min_entropy=3.0),
    _token("a HashiCorp Vault token", r"hv[sb]\.[A-Za-z0-9_\-]{90,}", end=_E_DASH),
    _token(
        "a Terraform Cloud token",
        r"[a-zA-Z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}",
        hint=r"\.atlasv1\.",
    ),
    _token("a Pulumi access token", r"pul-[a-f0-9]{40}", min_entropy=3.0),
    _token("a Fly.io token", r"fo1_[A-Za-z0-9_\-]{43}", end=_E_DASH, mixed=True),
    _token("a Doppler token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}", mixed=True),
    _token("a Supabase access token", r"sbp_[a-f0-9]{40}", min_entropy=3.0),
    # --- code hosting, packages -----------------------------------------------------------
    _token("a GitHub token", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,251}"),
    _token("a GitHub fine-grained token", r"github_pat_[A-Za-z0-9_]{50,255}"),
    _token(
        "a GitLab token",
        r"(?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|gloas|glsoat)-[A-Za-z0-9_\-]{20,}",
        end=_E_DASH,
    ),
    _token("a GitLab runner registration token", r"GR1348941[A-Za-z0-9_\-]{20}", end=_E_DASH),
    _token("an npm access token", r"npm_[A-Za-z0-9]{36}"),
    _token("a PyPI upload token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}", end=_E_DASH),
    _token("a Hugging Face token", r"hf_[A-Za-z0-9]{34,}", mixed=True),
    _token("an Atlassian API token", r"ATATT3[A-Za-z0-9_\-=]{150,}", end=r"(?:[^A-Za-z0-9_\-=]|$)"),
    _token("a Postman API key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", min_entropy=3.0),
    _token("a Linear API key", r"lin_api_[A-Za-z0-9]{40}", mixed=True),
    # --- messaging, e-mail ----------------------------------------------------------------
    _token("a Slack token", r"xox[abeoprs]-[A-Za-z0-9\-]{10,250}", end=_E_DASH),
    _token("a Slack app token", r"xapp-[0-9]-[A-Za-z0-9\-]{20,250}", end=_E_DASH),
    Detector(
        "a Slack webhook URL",
        r"(?P<v>https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+\-]{20,})",
    ),
    Detector(
        "a Discord webhook URL",
        r"(?P<v>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/"
        r"[A-Za-z0-9_\-]{30,})",
    ),
    _token(
        "a Discord bot token",
        r"[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}",
        end=_E_DASH,
        mixed=True,
        min_entropy=3.5,
    ),
    _token(
        "a Telegram bot token",
        r"[0-9]{8,10}:[A-Za-z0-9_\-]{35}",
        hint=r"[0-9]{8}:[A-Za-z0-9_\-]",
        start=r"(?:^|[^A-Za-z0-9_:\-])",
        end=_E_DASH,
        mixed=True,
        min_entropy=3.5,
    ),
    _token("a Twilio API key", r"SK[0-9a-fA-F]{32}", min_entropy=3.0),
    _after("a Twilio auth token", r"twilio", r"[0-9a-f]{32}", min_entropy=3.0),
    _token("a SendGrid API key", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", end=_E_DASH),
    _token("a Mailgun API key", r"key-[0-9a-f]{32}", start=_B_DASH, min_entropy=3.0),
    _after(
        "a Mailgun API key",
        r"mailgun",
        r"[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}",
        min_entropy=3.0,
    ),
    _token("a Mailchimp API key", r"[0-9a-f]{32}-us[0-9]{1,2}", min_entropy=3.0, hint=r"-us[0-9]"),
    # --- payments, commerce ---------------------------------------------------------------
    _token("a Stripe secret key", r"(?:sk|rk)_live_[A-Za-z0-9]{20,247}"),
    _token("a Stripe webhook signing secret", r"whsec_[A-Za-z0-9]{32,}", mixed=True),
    _token("a Shopify access token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    _token("a Square access token", r"(?:sq0atp-[A-Za-z0-9_\-]{22}|EAAA[A-Za-z0-9_\-]{60})"),
    _token("a Square application secret", r"sq0csp-[A-Za-z0-9_\-]{43}", end=_E_DASH),
    # --- monitoring -----------------------------------------------------------------------
    _after(
        "a Datadog API key",
        r"(?:datadog|dd)[a-z0-9_.\-]{0,20}(?:api|app)[_\-]?key",
        r"[0-9a-f]{32}|[0-9a-f]{40}",
        min_entropy=3.0,
    ),
    _token("a New Relic key", r"NR(?:AK|II|JS)-[A-Za-z0-9]{27}", end=_E_DASH, mixed=True),
    _token("a Sentry token", r"sntry[su]_[A-Za-z0-9+/=_\-]{60,}", end=_E_DASH),
    _token(
        "a Grafana token",
        r"(?:glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[a-fA-F0-9]{8})",
    ),
    # --- AI services ----------------------------------------------------------------------
    _token("an Anthropic API key", r"sk-ant-[A-Za-z0-9_\-]{20,}", end=_E_DASH),
    _token(
        "an OpenAI API key",
        r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}",
        start=_B_DASH,
        end=_E_DASH,
    ),
    _token(
        "an OpenAI API key",
        r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{48}",
        start=_B_DASH,
        end=_E_DASH,
        mixed=True,
    ),
    _token("a Groq API key", r"gsk_[A-Za-z0-9]{52}", mixed=True),
    _token("a Replicate API token", r"r8_[A-Za-z0-9]{37}", mixed=True),
    # --- keys and signed tokens -----------------------------------------------------------
    Detector(
        "a private key",
        r"(?P<v>-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)",
        min_entropy=0.0,
        context=_pem_body_follows,
        header=True,
    ),
    _token("an age secret key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
    _token(
        "a JSON Web Token",
        r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,}",
        end=_E_DASH,
        min_entropy=3.0,
        example=_example_jwt,
        hint=r"eyJ[A-Za-z0-9_\-]*\.eyJ",
    ),
    Detector(
        "an application secret key (SECRET_KEY)",
        r"(?i)(?:^|[^a-z0-9_])(?P<k>(?:django_)?secret_key)[\"']?\s*(?::=|=|:)\s*[rbu]?"
        r"[\"'](?P<v>[^\"'\s]{32,200})[\"']",
        min_entropy=3.5,
        punctuated=True,
        hint=r"(?i)secret_key",
    ),
    # --- generic --------------------------------------------------------------------------
    Detector(
        "a password inside a URL",
        r"(?i)(?:^|[^a-z0-9+.\-])[a-z][a-z0-9+.\-]{1,20}://(?P<u>[^:/\s@\"'<>]*):"
        r"(?P<v>[^@/:\s\"'<>]{3,})@(?P<h>[A-Za-z0-9_\-\[][^/\s:\"'?#]*)",
        min_entropy=2.0,
        generic=True,
        hint=r"://[^:/\s@\"'<>]*:[^@/:\s\"'<>]+@",
    ),
    Detector(
        "a password or key written as a literal value",
        r"(?i)(?:^|[^a-z0-9])(?P<k>[a-z0-9_.\-]*(?:" + _SECRET_NAMES + r")[a-z0-9_.\-]*)"
        r"[\"']?(?:\s*:\s*[a-z_][a-z0-9_\[\], |.]*)?\s*(?::=|=>|=|:)\s*[rbu]?[\"']"
        r"(?P<v>[^\"'\s]{8,200})[\"']",
        min_entropy=3.0,
        mixed=True,
        generic=True,
        hint=_NAMES_HINT,
    ),
    Detector(
        "a password or key written as a literal value",
        r"(?i)^\s*(?:export\s+)?(?P<k>[a-z0-9_.\-]*(?:" + _SECRET_NAMES + r")[a-z0-9_.\-]*)"
        r"\s*(?:=|:)\s*(?P<v>[^\s\"'#]{8,200})\s*$",
        min_entropy=3.0,
        mixed=True,
        generic=True,
        hint=_NAMES_HINT,
        only_in=(
            ".env",
            ".env.*",
            "*.env",
            "*.ini",
            "*.cfg",
            "*.conf",
            "*.properties",
            "*.yml",
            "*.yaml",
        ),
    ),
)
