from __future__ import annotations

from prgate.cli import main

raise SystemExit(main())
