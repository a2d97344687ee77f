"""Problems found before any work is done, as the one line a user reads: an output file that
cannot be written, an OSError in plain words, a malformed date. Shared by every command.

Part of the ground floor: imports nothing from Jirei.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from pathlib import Path


def output_problem(output: str | None) -> str | None:
    """Why an output file cannot be written, checked before any work is done (None: it can)."""
    if not output:
        return None
    out = Path(output)
    if out.is_dir():
        return "is a folder"
    if not out.parent.is_dir():
        return f"folder {out.parent} does not exist"
    if not os.access(out.parent, os.W_OK):
        return f"folder {out.parent} is not writable"
    return None


def os_problem(exc: OSError) -> str:
    """An OSError as `<file>: <problem>` in plain words."""
    words = {errno.ENOENT: "no such file or folder", errno.EACCES: "permission denied",
             errno.EPERM: "operation not permitted", errno.EROFS: "read-only file system",
             errno.ENOSPC: "no space left on the disk", errno.EFBIG: "file too large (file size limit)",
             errno.EISDIR: "is a folder", errno.ENOTDIR: "a part of the path is not a folder",
             errno.EEXIST: "exists already (a file where a folder is needed?)"}
    problem = words.get(exc.errno) or (exc.strerror or str(exc)).lower()
    return f"{exc.filename}: {problem}" if exc.filename else problem


def check_doc_date(value: str | None) -> str | None:
    """A --doc-date as given (YYYY, YYYY-MM or YYYY-MM-DD); otherwise one line and exit status 2."""
    if value and not re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", value):
        print(f"jirei: error: --doc-date {value!r}: expected YYYY, YYYY-MM or YYYY-MM-DD", file=sys.stderr, flush=True)
        raise SystemExit(2)
    return value
