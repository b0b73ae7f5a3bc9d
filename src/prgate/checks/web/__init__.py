"""The ``web`` check kind: JavaScript/TypeScript lint (oxlint) and web-file layout (oxfmt).

Modules: ``settings`` (file types, the settings files read at base, parameters), ``process``
(the private folder and scrubbed environment the tools run in), ``output`` (oxlint's JSON into
problems carrying its rule code), ``hunks`` (hold-the-line: only blocks overlapping added
lines), ``tools`` (one batch of runs), ``kind`` (findings), ``fix`` (fixed contents).
"""

from prgate.checks.web.fix import fixed_contents
from prgate.checks.web.kind import KIND, WEB_READS
from prgate.checks.web.settings import WebParams

__all__ = ["KIND", "WEB_READS", "WebParams", "fixed_contents"]
