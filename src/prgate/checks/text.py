"""Reading a changed file as text: which files are text, how to decode them, which lines to judge.

A source's *binary* flag (git's own test, GitHub's ``isBinary``) is a hint, not the last word: a
JSON file with one NUL byte, or Python saved as latin-1, is marked binary by some sources and
still holds text a person (or a credential scanner) can read. prgate decides from the bytes:

* **Mostly text**: at most one byte in a hundred (and at least one byte in any file) is a control
  byte other than tab, line feed, vertical tab, form feed, carriage return and escape (that is,
  NUL, 0x01-0x08, 0x0E-0x1A, 0x1C-0x1F and DEL). Everything else decodes: as UTF-8 where it is
  UTF-8, the rest byte by byte (latin-1), so ASCII credentials are found in any 8-bit encoding.
  Text with a UTF-16 byte-order mark is read as UTF-16.
* A file too large to read in full is judged by its first part, or, when its bytes are not
  available at all, by its name: images, fonts, archives, media and compiled files
  (:data:`BINARY_SUFFIXES`) are not text; anything else may be.

When the source marked a file binary it gave no diff, so nobody knows which of its lines the
change added: the whole file is judged (:func:`judged_ranges`).

Python source follows PEP 263: a ``# coding:`` line in the first two lines names the encoding,
else it is UTF-8 (:func:`python_text`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from prgate.model import FileChange

#: Names of files that are not text when their bytes cannot be looked at.
BINARY_SUFFIXES: frozenset[str] = frozenset(
    {
        # images
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".icns", ".tif", ".tiff",
        ".avif", ".heic", ".psd", ".xcf",
        # fonts
        ".woff", ".woff2", ".ttf", ".otf", ".eot",
        # archives and packages
        ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar", ".jar", ".war",
        ".whl", ".egg", ".apk", ".dmg", ".iso",
        # compiled code and catalogs
        ".mo", ".pyc", ".pyo", ".so", ".dll", ".dylib", ".exe", ".o", ".a", ".class", ".wasm",
        # media and documents
        ".mp3", ".mp4", ".m4a", ".wav", ".ogg", ".flac", ".webm", ".mov", ".avi", ".mkv",
        ".pdf", ".docx", ".xlsx", ".pptx",
        # data stores
        ".sqlite", ".sqlite3", ".db", ".parquet", ".npy", ".npz", ".pkl",
    }
)  # fmt: skip

#: Bytes that do not occur in text (all C0 controls except tab, LF, VT, FF, CR and ESC; DEL).
_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)
#: Control bytes allowed in any file, and the share allowed in a larger one.
_CONTROL_ALLOWED = 1
_CONTROL_SHARE = 100
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: How much of a file too large to read is looked at to tell text from binary.
SAMPLE_BYTES = 1024 * 1024


def mostly_text(data: bytes) -> bool:
    """Whether ``data`` is text apart from a few stray control bytes (see the module's doc)."""
    if data.startswith(_UTF16_BOMS):
        return _utf16(data) is not None
    controls = len(data.translate(None, _NOT_CONTROL))
    return controls <= max(_CONTROL_ALLOWED, len(data) // _CONTROL_SHARE)


def decode(data: bytes) -> str:
    """``data`` as text: UTF-16 after its byte-order mark, else UTF-8, other bytes as latin-1."""
    if data.startswith(_UTF16_BOMS):
        text = _utf16(data)
        if text is not None:
            return text
    return data.decode("utf-8", errors="_prgate_latin1")


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("latin-1"), error.end


codecs.register_error("_prgate_latin1", _latin1_fallback)


def _utf16(data: bytes) -> str | None:
    try:
        return data.decode("utf-16")
    except UnicodeDecodeError:
        return None


def file_size(change: FileChange) -> int | None:
    """The file's size at head, from the source or by reading it."""
    if change.size is not None:
        return change.size
    data = change.head_bytes()
    return len(data) if data is not None else None


def has_binary_suffix(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return "." in name and "." + name.rsplit(".", 1)[-1] in BINARY_SUFFIXES


def looks_like_text(change: FileChange) -> bool:
    """Whether ``change`` at head is (or, unread, may be) text.

    A file no source marked binary is text, unless it is too large to have been looked at and
    its name says it is not. A file marked binary is text when its bytes are mostly text.
    """
    size = file_size(change)
    too_large = size is not None and size > SAMPLE_BYTES
    if not change.is_binary:
        return not (too_large and has_binary_suffix(change.path))
    data = change.head_bytes()
    if data is None:
        return not has_binary_suffix(change.path)
    return mostly_text(data[:SAMPLE_BYTES])


def head_text(change: FileChange) -> str | None:
    """The file at head as text, when it is text (whatever the source's binary flag said)."""
    if change.is_deleted or change.is_symlink or change.is_submodule:
        return None
    data = change.head_bytes()
    if data is None:
        return None
    if change.is_binary and not mostly_text(data):
        return None
    return decode(data)


def whole_file_judged(change: FileChange) -> bool:
    """A file the source marked binary has no diff: every line of it counts as changed."""
    return change.is_binary and not change.added


def judged_ranges(change: FileChange, text: str) -> tuple[tuple[int, int], ...]:
    """The line ranges (1-based, inclusive) a check judges in ``text``, the file at head."""
    if whole_file_judged(change):
        count = _line_count(text)
        return ((1, count),) if count else ()
    return tuple((r.start, r.end) for r in change.added)


def judged_lines(change: FileChange, text: str) -> Iterator[int]:
    for start, end in judged_ranges(change, text):
        yield from range(start, end + 1)


def _line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


# --- Python source (PEP 263) ----------------------------------------------------------------

_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)")


def declared_encoding(data: bytes) -> str | None:
    """The encoding a Python file's ``# coding:`` line names (PEP 263), if it has one."""
    lines = data.split(b"\n", 2)[:2]
    for index, line in enumerate(lines):
        match = _COOKIE.match(line)
        if match:
            return match.group(1).decode("ascii")
        if index == 0 and not _BLANK_OR_COMMENT.match(line):
            return None
    return None


def python_text(data: bytes) -> str | None:
    """Python source as Python reads it: in the encoding its ``# coding:`` line names, else
    UTF-8. ``None`` when it cannot be decoded that way (or names an encoding Python lacks)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        name = declared_encoding(data)
        if name is not None and _codec_name(name) != "utf-8":
            return None  # Python refuses a BOM with another declared encoding
        encoding = "utf-8"
    else:
        encoding = declared_encoding(data) or "utf-8"
    try:
        return data.decode(encoding)  # refuses transforms such as rot13 (LookupError)
    except (LookupError, UnicodeDecodeError, ValueError):
        return None


def _codec_name(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def readable_as_utf8_python(data: bytes) -> bool:
    """Whether reading ``data`` as UTF-8 gives the same text Python reads (a tool that knows only
    UTF-8, such as ruff, then sees what Python runs)."""
    try:
        as_utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return python_text(data) == as_utf8.removeprefix("\ufeff")
