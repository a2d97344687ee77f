"""Reproduce the lost-lock corruption scenario with real processes.

Process A holds two store handles on one file (as the reviewer app's connection pool does);
process B opens and closes the store; then A writes. A store that keeps its POSIX locks shows
A's write to a fresh process C, keeps the WAL file while A is open, and passes integrity_check.

    python scripts/repro_store_locks.py [STORE]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from jirei.store import Store

OPEN_AND_CLOSE = "import sys; from jirei.store import Store; Store(sys.argv[1], create=False).close()"
READ_BACK = (
    "import sys, sqlite3\n"
    "c = sqlite3.connect(sys.argv[1])\n"
    "print(c.execute('PRAGMA integrity_check').fetchone()[0])\n"
    "print(c.execute(\"SELECT count(*) FROM runs WHERE kind = 'probe'\").fetchone()[0])\n"
)


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "locks.db"
    Store(path).close()  # make the store
    first, second = Store(path, create=False), Store(path, create=False)  # two pool handles
    first.start_run("warmup", {})
    subprocess.run([sys.executable, "-c", OPEN_AND_CLOSE, str(path)], check=True)  # another process
    wal = path.with_name(path.name + "-wal")
    wal_after_other = wal.exists()
    for i in range(50):
        first.start_run("probe", {"i": i})
    out = subprocess.run([sys.executable, "-c", READ_BACK, str(path)], check=True, capture_output=True,
                         text=True).stdout.split()
    second.close()
    first.close()
    final = subprocess.run([sys.executable, "-c", READ_BACK, str(path)], check=True, capture_output=True,
                           text=True).stdout.split()
    print(f"WAL file present after the other process closed: {wal_after_other}")
    print(f"while A is open, a fresh process sees: integrity={out[0]} probe runs={out[1]} of 50")
    print(f"after A closed: integrity={final[0]} probe runs={final[1]} of 50")
    ok = wal_after_other and out == ["ok", "50"] and final == ["ok", "50"]
    print("OK: no write lost" if ok else "FAIL: writes lost or store damaged")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
