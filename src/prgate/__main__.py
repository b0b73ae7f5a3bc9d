from __future__ import annotations

from prgate.cli import main

# Guarded: the flag parser's processes start from a fork server, and a process started that way
# may import the main module again (multiprocessing's "safe importing of main module").
if __name__ == "__main__":
    raise SystemExit(main())
