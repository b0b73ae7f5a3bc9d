"""The ``web`` check kind: JavaScript/TypeScript lint (oxlint) and web-file layout (oxfmt).

Modules: ``settings`` (file types, the settings files read at base, parameters), ``process``
(the private folder and scrubbed environment the tools run in), ``output`` (oxlint's JSON into
problems carrying its rule code), ``hunks`` (hold-the-line: only blocks overlapping added
lines), ``tools`` (one batch of runs), ``tool`` (the kind on the tool seam: its settings files, its
run, its fixes), ``kind`` (findings).
"""

from prgate.checks.web.kind import KIND
from prgate.checks.web.settings import WebParams
from prgate.checks.web.tool import TOOL, WEB_READS, fixed_contents

__all__ = ["KIND", "TOOL", "WEB_READS", "WebParams", "fixed_contents"]
