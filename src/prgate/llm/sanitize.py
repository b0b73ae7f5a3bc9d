"""Making the AI model's text safe to show: it is as untrusted as the change it read.

Every piece of text the model writes (a finding's title, why and fix) goes through
:func:`clean_text` before a finding is built: terminal escapes, control and invisible characters,
HTML tags, markdown links and images, autolinks, bare web addresses and ``www.`` names are
removed; ``@mentions`` are made inert; long token-like strings (which could be a copied key) are
replaced; whitespace is flattened to one line and the length is bounded. The renderers escape it
again for their own format.
"""

from __future__ import annotations

import re
import unicodedata

#: Terminal escape sequences (colours, cursor moves): dropped whole, not just their ESC.
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
#: ``![alt](target)`` and ``[text](target)`` / ``[text][ref]``: the text is kept, the target not.
_TARGET = r"(?:\((?:[^()]|\([^()]{0,500}\)){0,2000}\)|\[[^\]]{0,200}\])"
_IMAGE = re.compile(r"!\[([^\]]{0,500})\]\s*" + _TARGET)
_LINK = re.compile(r"\[([^\]]{0,500})\]\s*" + _TARGET)
#: ``[ref]: https://...`` reference definitions.
_REFDEF = re.compile(r"\[[^\]]{0,200}\]:\s*\S+")
#: ``<https://...>`` autolinks and ``<a@b.c>`` mail links, then any HTML tag or comment.
_AUTOLINK = re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*|[^<>\s@]+@[^<>\s]+)>")
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z!?][^<>]{0,2000}>", re.DOTALL)
#: Anything that looks like a web address or another link target.
_URL = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.\-]{1,31}://|(?:mailto|javascript|data|vbscript|file|tel):)\S*"
    r"|\bwww\.\S+"
)
_MENTION = re.compile(r"@(?=[\w-])")
#: Long runs of token characters mixing letters and digits look like keys: never repeated.
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{20,}")
_SPACES = re.compile(r"\s+")

LINK_REMOVED = "[link removed]"
#: Bounds for the fields a model writes.
TITLE_CHARS = 120
TEXT_CHARS = 400


def clean_text(text: str, *, limit: int = TEXT_CHARS, empty: str = "") -> str:
    """``text`` made inert: one line, visible characters, no links, HTML or mentions."""
    no_escapes = _ESCAPE.sub("", text)
    chars = (" " if unicodedata.category(c) in _INVISIBLE else c for c in no_escapes)
    flat = _SPACES.sub(" ", "".join(chars))
    flat = _IMAGE.sub(lambda m: m.group(1), flat)
    flat = _LINK.sub(lambda m: m.group(1), flat)
    flat = _REFDEF.sub(LINK_REMOVED, flat)
    flat = _AUTOLINK.sub(LINK_REMOVED, flat)
    flat = _TAG.sub(" ", flat)
    flat = flat.replace("<", "\u2039").replace(">", "\u203a")  # a tag cut short by the bound above
    flat = _URL.sub(LINK_REMOVED, flat)
    flat = _TOKEN.sub(_redact, flat)
    flat = _MENTION.sub("@ ", flat)
    flat = _SPACES.sub(" ", flat).strip()
    if len(flat) > limit:
        cut = flat[:limit]
        space = cut.rfind(" ")
        if space > limit // 2:
            cut = cut[:space]
        flat = cut.rstrip() + "…"
    return flat or empty


def _redact(match: re.Match[str]) -> str:
    token = match.group(0)
    if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
        return "[redacted]"
    return token
