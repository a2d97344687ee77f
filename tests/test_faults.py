"""Faults, with real processes and real files: two `jirei batch` runs on one store at once; a
batch while `jirei serve` answers requests and exports run; a full disk during a batch (the
process's file size limit, and a small real file system where the test may mount one); a store
in a read-only place; and every command's failures as one line, never a traceback.

The store is judged through SQLite only (`PRAGMA integrity_check`, `Store.content_digest()`),
never opened with a plain file handle."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jirei.store import Store

from conftest import stored_documents

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from recombine import build_reports  # noqa: E402

pytestmark = pytest.mark.slow

ERROR = re.compile(r"^jirei(?: [\w-]+)*: error: ")
PASSWORD = "fault-password-1"


def jirei(*args: str, env: dict | None = None, stdin: str = "", preexec_fn=None,
          timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jirei.cli", *args], capture_output=True, text=True, input=stdin,
                          cwd=REPO, env={**os.environ, **(env or {})}, preexec_fn=preexec_fn, timeout=timeout)


def start(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jirei.cli", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def one_error_line(stderr: str) -> str:
    """The command's single error line; fails on a traceback or on more than one error line."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if ERROR.match(line)]
    assert len(errors) == 1, stderr
    return errors[0]


def digest(db: Path) -> dict:
    with Store(db, create=False, readonly=True) as store:
        return store.content_digest()


def integrity(db: Path) -> str:
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def documents_whole(db: Path) -> dict[str, int]:
    """path → cases of every stored document, asserting each holds all the cases it declares."""
    with Store(db, create=False, readonly=True) as store:
        docs = {d["path"]: d for d in store.documents()}
        counts = {r[0]: r[1] for r in store.conn.execute("SELECT doc_id, count(*) FROM cases GROUP BY doc_id")}
    for d in docs.values():
        assert counts.get(d["doc_id"], 0) == d["n_cases"], d["name"]
    return {path: d["n_cases"] for path, d in docs.items()}


# --- inputs and clean references -----------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(tmp_path_factory, seeds_dir: Path) -> dict[str, list[Path]]:
    """Short reports built from seed cases: `first` (four) and `more` (three others)."""
    root = tmp_path_factory.mktemp("fault-reports")
    first = build_reports(seeds_dir, root / "first", count=4, cases_per_report=2, seed=3)
    more = build_reports(seeds_dir, root / "more", count=3, cases_per_report=2, seed=5)
    return {"first": first, "more": more}


@pytest.fixture(scope="module")
def clean_first(reports, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("clean-first") / "jirei.db"
    done = jirei("batch", *map(str, reports["first"]), "--db", str(db), "-q", "--workers", "1")
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture(scope="module")
def clean_both(reports, clean_first: Path, tmp_path_factory) -> Path:
    """`first`, then `more` in a second clean run."""
    db = tmp_path_factory.mktemp("clean-both") / "jirei.db"
    shutil.copy(clean_first, db)
    done = jirei("batch", *map(str, reports["more"]), "--db", str(db), "-q", "--workers", "1")
    assert done.returncode == 0, done.stderr
    return db


def new_documents(stderr: str) -> int:
    return int(re.search(r"run \d+: (\d+) new documents", stderr).group(1))


# --- 1. two batches on one store at once -----------------------------------------------------------


def test_three_batches_at_once_on_a_new_store_equal_one_clean_run(reports, clean_first: Path, tmp_path: Path):
    """Same and overlapping inputs, all started before the store exists: every run exits 0,
    no "database is locked", each document stored once, the store equals a single clean run."""
    first = [str(p) for p in reports["first"]]
    db = tmp_path / "jirei.db"
    runs = [start("batch", *first, "--db", str(db), "--workers", "1", "-q"),
            start("batch", *first[:3], "--db", str(db), "--workers", "1", "-q"),
            start("batch", *first[1:], "--db", str(db), "--workers", "1", "-q")]
    outcomes = [(p.wait(timeout=600), p.stderr.read()) for p in runs]
    for p in runs:
        p.stdout.close(), p.stderr.close()
    for status, err in outcomes:
        assert status == 0, err
        assert "Traceback" not in err and "locked" not in err, err
    # each document was written by exactly one of the runs; the others counted it as skipped
    assert sum(new_documents(err) for _, err in outcomes) == len(first)
    assert integrity(db) == "ok"
    assert digest(db) == digest(clean_first)


def test_ctrl_c_stops_a_batch_in_one_line_and_the_same_command_finishes(reports, clean_first: Path,
                                                                        tmp_path: Path):
    db = tmp_path / "jirei.db"
    args = ("batch", *map(str, reports["first"]), "--db", str(db), "--workers", "1", "-q")
    proc = start(*args, start_new_session=True)
    while stored_documents(db) < 1 and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the batch and its workers
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err  # the workers leave Ctrl-C to the batch process
    assert [line for line in err.splitlines() if line.strip()] == [
        "jirei: interrupted: the documents stored so far are complete; run the same command to finish"]
    assert integrity(db) == "ok"
    assert len(documents_whole(db)) < len(reports["first"])
    rerun = jirei(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert digest(db) == digest(clean_first)


# --- 2. a batch while the app serves and exports run -----------------------------------------------


def _wait_until_serving(proc: subprocess.Popen, base: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"jirei serve exited: {proc.stderr.read()}")
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("jirei serve did not answer")


def _login(base: str):
    import httpx

    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    done = client.post("/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 303, done.text
    return client


def _export_rows(path: Path, fmt: str) -> int:
    if fmt == "jsonl":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if json.loads(line))
    if fmt == "csv":
        return len(list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))))
    from openpyxl import load_workbook

    return load_workbook(path, read_only=True).active.max_row - 1  # the header row


def test_batch_while_the_app_serves_and_exports_run(reports, clean_first: Path, tmp_path: Path):
    from jirei.webapp.server_thread import free_port

    from test_webapp import case_form

    db = tmp_path / "jirei.db"
    shutil.copy(clean_first, db)
    added = jirei("users", "add", "ana", "--role", "admin", "--db", str(db), stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start("serve", "--db", str(db), "--port", str(port), "--log-level", "warning")
    batch = None
    try:
        _wait_until_serving(server, base)
        client = _login(base)
        with Store(db, create=False) as store:
            case_ids = store.iter_case_ids()
        batch = start("batch", *map(str, reports["more"]), "--db", str(db), "--workers", "1", "-q")
        exports, rounds, saves = 0, 0, 0
        while batch.poll() is None or rounds < 2:
            rounds += 1
            for case_id in case_ids[:3]:
                page = client.get(f"/case/{case_id}")
                assert page.status_code == 200, page.text
                if saves < 2:  # reviewers' saves are writes too, competing with the batch's
                    with Store(db, create=False) as store:
                        record = store.case(case_id)
                    pillar = "work" if (record["pillar"] or {}).get("label") != "work" else "live"
                    done = client.post(f"/case/{case_id}/save", data=case_form(record, page.text, pillar=pillar))
                    assert done.status_code == 303, done.text
                    saves += 1
            assert client.get("/queue").status_code == 200
            assert client.get("/dashboard").status_code == 200
            for fmt in ("csv", "jsonl", "xlsx"):
                out = tmp_path / f"cases-{rounds}.{fmt}"
                done = jirei("export", "--db", str(db), "--format", fmt, "-o", str(out))
                assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
                written = int(re.search(r"(\d+) cases written", done.stderr).group(1))
                assert _export_rows(out, fmt) == written  # the file is complete
                exports += 1
            listed = jirei("cases", "--db", str(db), "--jsonl", "--limit", "0")
            assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
        err = batch.stderr.read()
        assert batch.wait() == 0, err
        assert "Traceback" not in err and "locked" not in err, err
        assert client.get("/queue").status_code == 200
        assert server.poll() is None  # still serving
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        for proc in (server, batch):
            if proc is not None:
                proc.stdout.close(), proc.stderr.close()
    assert saves == 2 and exports >= 6
    assert integrity(db) == "ok"
    stored = documents_whole(db)
    assert len(stored) == len(reports["first"]) + len(reports["more"])


# --- 3. a full disk during a batch ---------------------------------------------------------------


def _file_size_limit(limit: int):
    def apply() -> None:
        # writes past the limit fail with EFBIG instead of killing the process with SIGXFSZ
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _check_full_disk_run(done: subprocess.CompletedProcess, db: Path, clean_both: Path) -> None:
    assert done.returncode == 2, done.stderr
    line = one_error_line(done.stderr)
    assert str(db) in line and "cannot write" in line and "undone" in line, line
    assert integrity(db) == "ok"
    # every document stored so far is whole, and stored as the clean run stores it
    stored = documents_whole(db)
    clean = {d["path"]: d for d in digest(clean_both)["documents"]}
    for d in digest(db)["documents"]:
        assert d == clean[d["path"]]
    assert len(stored) < len(clean)  # the disk filled before the batch was done


def test_full_disk_by_file_size_limit_one_line_store_whole_rerun_completes(reports, clean_first: Path,
                                                                        clean_both: Path, tmp_path: Path):
    db = tmp_path / "jirei.db"
    shutil.copy(clean_first, db)
    # No file may grow past this: the WAL (which starts empty) has room for the run's row and a
    # document or so, never for the whole batch, however large the copied store already is.
    limit = 64 * 1024
    done = jirei("batch", *map(str, reports["more"]), "--db", str(db), "--workers", "1", "-q",
                 preexec_fn=_file_size_limit(limit))
    _check_full_disk_run(done, db, clean_both)
    assert "file size limit" in done.stderr

    rerun = jirei("batch", *map(str, reports["more"]), "--db", str(db), "--workers", "1", "-q")
    assert rerun.returncode == 0, rerun.stderr
    assert digest(db) == digest(clean_both)


@pytest.fixture()
def small_filesystem(tmp_path: Path):
    """A 1 MiB tmpfs mounted for the test (needs root and a mount namespace that allows it)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root; the file size limit test covers a full disk")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_on_a_real_full_file_system(reports, clean_first: Path, clean_both: Path, small_filesystem: Path):
    db = small_filesystem / "jirei.db"
    shutil.copy(clean_first, db)
    free = os.statvfs(small_filesystem).f_bavail * os.statvfs(small_filesystem).f_frsize
    filler = small_filesystem / "other-files"
    filler.write_bytes(b"\0" * (free - 160 * 1024))  # leave room for a document or so
    done = jirei("batch", *map(str, reports["more"]), "--db", str(db), "--workers", "1", "-q")
    _check_full_disk_run(done, db, clean_both)
    assert "no space left" in done.stderr

    filler.unlink()  # free the space, run the same command again
    rerun = jirei("batch", *map(str, reports["more"]), "--db", str(db), "--workers", "1", "-q")
    assert rerun.returncode == 0, rerun.stderr
    assert digest(db) == digest(clean_both)


# --- 4. a read-only store ------------------------------------------------------------------------


@pytest.fixture()
def read_only_folder(tmp_path: Path):
    """A folder this process cannot write, holding a copy of a store: a read-only bind mount as
    root (chmod does not stop root), a chmod 555 folder with a 444 file otherwise."""
    src = tmp_path / "src"
    src.mkdir()
    if os.geteuid() != 0:
        yield src, "chmod"
        src.chmod(0o755)
        for f in src.iterdir():
            f.chmod(0o644)
        return
    ro = tmp_path / "ro"
    ro.mkdir()
    for cmd in (["mount", "--bind", str(src), str(ro)], ["mount", "-o", "remount,ro,bind", str(ro)]):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(ro)], capture_output=True)
            pytest.skip(f"running as root, where chmod does not stop writes, and no read-only bind mount here "
                        f"({done.stderr.strip()})")
    try:
        yield src, ro
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)


def _place(read_only_folder, name: str, sources: dict[str, Path]) -> Path:
    """Copy files into the read-only folder (through its writable source) and return the store path."""
    src, ro = read_only_folder
    for target, source in sources.items():
        shutil.copy(source, src / target)
    if ro == "chmod":
        for f in src.iterdir():
            f.chmod(0o444)
        src.chmod(0o555)
        return src / name
    return ro / name


def test_read_only_store_reads_work_writes_fail_in_one_line(read_only_folder, clean_first: Path, reports,
                                                             tmp_path: Path):
    db = _place(read_only_folder, "jirei.db", {"jirei.db": clean_first})
    with pytest.raises(OSError):  # really read-only for this process
        (db.parent / "probe").write_bytes(b"x")

    # reading: the same answers as from the writable original
    for args in (["cases", "--limit", "0"], ["cases", "--jsonl", "--limit", "0", "--search", "事業"]):
        here, there = jirei(*args, "--db", str(db)), jirei(*args, "--db", str(clean_first))
        assert here.returncode == 0, here.stderr
        assert here.stdout == there.stdout and here.stdout.strip()
    out_ro, out_rw = tmp_path / "ro.jsonl", tmp_path / "rw.jsonl"
    assert jirei("export", "--db", str(db), "--format", "jsonl", "-o", str(out_ro)).returncode == 0
    assert jirei("export", "--db", str(clean_first), "--format", "jsonl", "-o", str(out_rw)).returncode == 0
    assert out_ro.read_bytes() == out_rw.read_bytes()
    assert jirei("users", "list", "--db", str(db)).returncode == 0

    # writing: one line naming the file and the problem, before any work
    for args, stdin in ((["batch", str(reports["more"][0]), "-q", "--workers", "1"], ""),
                        (["relabel"], ""), (["serve", "--port", "9"], ""),
                        (["users", "add", "ben"], PASSWORD + "\n"), (["users", "disable", "ben"], "")):
        done = jirei(*args, "--db", str(db), stdin=stdin)
        assert done.returncode == 2, (args, done.stderr)
        line = one_error_line(done.stderr)
        assert f"{db}: store is read-only (" in line, line
    assert digest(db) == digest(clean_first)


def test_read_only_folder_with_a_wal_but_no_shm_says_so_in_one_line(read_only_folder, clean_first: Path,
                                                                   tmp_path: Path):
    # A store left with commits in its -wal (its writer never closed it) and no -shm beside it.
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(clean_first, work / "jirei.db")
    con = sqlite3.connect(work / "jirei.db", isolation_level=None)
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("INSERT INTO runs (kind, started_at) VALUES ('probe', '2026-01-01')")
    assert (work / "jirei.db-wal").exists()
    db = _place(read_only_folder, "jirei.db", {"jirei.db": work / "jirei.db",
                                               "jirei.db-wal": work / "jirei.db-wal"})
    con.close()
    done = jirei("cases", "--db", str(db))
    assert done.returncode == 2
    line = one_error_line(done.stderr)
    assert str(db) in line and "jirei.db-wal" in line and "read-only" in line, line


# --- 5. no traceback from any command ------------------------------------------------------------


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    """Files for the failure cases: a text file and another application's SQLite file posing as
    stores, an empty models folder, a garbage runs file, a small report, a FIFO, a dangling link."""
    root = tmp_path_factory.mktemp("bad")
    (root / "notastore.db").write_text("hello, not a database\n", encoding="utf-8")
    con = sqlite3.connect(root / "other.db")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    (root / "empty-models").mkdir()
    (root / "runs.jsonl").write_text("garbage\n", encoding="utf-8")
    (root / "report.txt").write_text("# 事例\n\n## 空き家の活用(長野県松本市)\n空き家を改修し移住者向け住宅とした。\n",
                                     encoding="utf-8")
    os.mkfifo(root / "fifo.txt")
    (root / "dangling.txt").symlink_to(root / "gone.txt")
    Store(root / "store.db").close()
    return root


NO_SEEDS = {"JIREI_SHARED": "/nonexistent"}
# (id, arguments with {b} for the files above, environment, expected status, text the error names)
FAILURES = [
    ("extract-output-folder-missing", "extract {b}/report.txt --no-entities --no-labels -o {b}/gone/x.jsonl", {}, 2,
     "{b}/gone/x.jsonl"),
    ("extract-output-is-a-folder", "extract {b}/report.txt --no-entities --no-labels -o {b}", {}, 2, "is a folder"),
    ("extract-models-missing", "extract {b}/report.txt --no-entities --models {b}/empty-models", {}, 2,
     "{b}/empty-models/model_card.json"),
    ("extract-file-missing", "extract {b}/gone.txt --no-entities --no-labels -q", {}, 1, "{b}/gone.txt"),
    ("extract-dangling-link", "extract {b}/dangling.txt --no-entities --no-labels -q", {}, 1, "{b}/dangling.txt"),
    ("evaluate-segmentation-no-seeds", "evaluate segmentation", NO_SEEDS, 2, "/nonexistent/seeds"),
    ("evaluate-segmentation-no-gold", "evaluate segmentation --gold {b}/gone", {}, 2, "{b}/gone"),
    ("evaluate-entities-no-seeds", "evaluate entities", NO_SEEDS, 2, "/nonexistent/seeds"),
    ("evaluate-classification-no-seeds", "evaluate classification", NO_SEEDS, 2, "/nonexistent/seeds"),
    ("evaluate-classification-models-missing",
     "evaluate classification --seeds {b} --models {b}/empty-models", {}, 2, "model_card.json"),
    ("evaluate-classification-not-a-store", "evaluate classification --seeds {b} --db {b}/notastore.db", {}, 2,
     "{b}/notastore.db"),
    ("evaluate-all-no-seeds", "evaluate all --report {b}/r.html --runs {b}/r.jsonl", NO_SEEDS, 2, "/nonexistent"),
    ("evaluate-all-models-missing",
     "evaluate all --seeds {b} --models {b}/empty-models --report {b}/r.html --runs {b}/r.jsonl", {}, 2,
     "model_card.json"),
    ("evaluate-all-report-under-a-file",
     "evaluate all --seeds {b} --report {b}/notastore.db/r.html --runs {b}/r.jsonl", {}, 2, "{b}/notastore.db"),
    ("evaluate-all-runs-garbage", "evaluate all --seeds {b} --runs {b}/runs.jsonl --report {b}/r.html", {}, 2,
     "{b}/runs.jsonl"),
    ("evaluate-history-runs-garbage", "evaluate history --runs {b}/runs.jsonl", {}, 2, "{b}/runs.jsonl"),
    ("evaluate-history-runs-folder", "evaluate history --runs {b}", {}, 2, "is a folder"),
    ("train-no-seeds", "train --models {b}/m", NO_SEEDS, 2, "/nonexistent/seeds"),
    ("train-models-is-a-file", "train --seeds {b} --no-search --models {b}/notastore.db", {}, 2,
     "{b}/notastore.db"),
    ("train-not-a-store", "train --seeds {b} --db {b}/notastore.db --models {b}/m", {}, 2, "{b}/notastore.db"),
    ("batch-models-missing", "batch {b}/report.txt --db {b}/b1.db --models {b}/empty-models -q", {}, 2,
     "{b}/empty-models"),
    ("batch-not-a-store", "batch {b}/report.txt --db {b}/notastore.db -q", {}, 2, "not a Jirei store"),
    ("batch-other-sqlite-file", "batch {b}/report.txt --db {b}/other.db -q", {}, 2, "{b}/other.db"),
    ("batch-store-folder-missing", "batch {b}/report.txt --db {b}/gone/x.db -q", {}, 2, "{b}/gone"),
    ("batch-store-is-a-folder", "batch {b}/report.txt --db {b} -q", {}, 2, "is a folder"),
    ("batch-layout-unknown", "batch {b}/report.txt --db {b}/b2.db --layout bogus -q", {}, 2, "bogus"),
    ("batch-doc-date-bad", "batch {b}/report.txt --db {b}/b2.db --doc-date yesterday -q", {}, 2, "yesterday"),
    ("batch-workers-zero", "batch {b}/report.txt --db {b}/b2.db --workers 0 -q", {}, 2, "--workers"),
    ("relabel-no-store", "relabel --db {b}/gone.db", {}, 2, "{b}/gone.db"),
    ("relabel-models-missing", "relabel --db {b}/store.db --models {b}/empty-models", {}, 2, "model_card.json"),
    ("cases-not-a-store", "cases --db {b}/notastore.db", {}, 2, "{b}/notastore.db"),
    ("cases-pillar-unknown", "cases --db {b}/store.db --pillar bogus", {}, 2, "bogus"),
    ("export-output-folder-missing", "export --db {b}/store.db -o {b}/gone/x.csv", {}, 2, "{b}/gone/x.csv"),
    ("export-output-is-a-folder", "export --db {b}/store.db --format jsonl -o {b}", {}, 2, "is a folder"),
    ("export-xlsx-output-folder-missing", "export --db {b}/store.db --format xlsx -o {b}/gone/x.xlsx", {}, 2,
     "{b}/gone/x.xlsx"),
    ("export-onto-the-store", "export --db {b}/store.db -o {b}/store.db", {}, 2, "{b}/store.db"),
    ("serve-no-store", "serve --db {b}/gone.db", {}, 2, "{b}/gone.db"),
    ("serve-not-a-store", "serve --db {b}/notastore.db", {}, 2, "{b}/notastore.db"),
    ("serve-port-out-of-range", "serve --db {b}/store.db --port 99999", {}, 2, "99999"),
    ("users-list-no-store", "users list --db {b}/gone.db", {}, 2, "{b}/gone.db"),
    ("users-add-not-a-store", "users add ana --db {b}/notastore.db", {}, 2, "{b}/notastore.db"),
    ("users-add-short-password", "users add ana --db {b}/store.db", {}, 2, "password"),
    ("users-disable-unknown", "users disable zed --db {b}/store.db", {}, 2, "zed"),
    ("demo-folder-missing", "demo --folder {b}/gone --db {b}/demo.db -o {b}/demo.jsonl", {}, 2, "{b}/gone"),
    ("demo-store-under-a-file", "demo --folder {b} --db {b}/notastore.db/x.db -o {b}/demo.jsonl", {}, 2,
     "{b}/notastore.db"),
]


def test_serve_on_a_port_in_use_is_one_line(bad: Path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = jirei("serve", "--db", str(bad / "store.db"), "--port", str(port), timeout=60)
    assert done.returncode == 2, done.stderr
    line = one_error_line(done.stderr)
    assert f"127.0.0.1:{port}: address already in use" in line, line


@pytest.mark.parametrize("args, env, status, names", [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_a_failing_command_prints_one_line_and_no_traceback(bad: Path, args: str, env: dict, status: int,
                                                            names: str):
    done = jirei(*[a.replace("{b}", str(bad)) for a in args.split()], env=env, timeout=120)
    assert done.returncode == status, done.stderr
    line = one_error_line(done.stderr)
    assert names.replace("{b}", str(bad)) in line, line
    if status == 2:  # nothing but the error (argparse adds its usage lines)
        others = [ln for ln in done.stderr.splitlines() if ln.strip() and not ERROR.match(ln)]
        assert all(ln.startswith(("usage:", " ")) for ln in others), done.stderr


def test_unreadable_inputs_are_failed_documents_in_a_batch(bad: Path):
    """Per-file failures: one FAILED line each in the summary, status 1, the store whole."""
    done = jirei("batch", str(bad / "fifo.txt"), str(bad / "dangling.txt"), "--db", str(bad / "b3.db"), "-q",
                 timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    failed = sorted(line.strip() for line in done.stderr.splitlines() if line.startswith("  FAILED "))
    assert failed == [f"FAILED {bad}/dangling.txt: no such file",
                      f"FAILED {bad}/fifo.txt: cannot read file (not a regular file)"]
    assert integrity(bad / "b3.db") == "ok"
