"""`jirei batch` on real text: resumable after SIGKILL, local and Dask backends storing the same
thing, bad input recorded and retried, renamed copies skipped, changed files stored as versions."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jirei.cli import main
from jirei.store import Store

from conftest import seed_file, stored_documents

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from recombine import build_reports  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, seeds_dir: Path) -> Path:
    """Nine small reports: eight built from seed cases, and seed 003 (slides) itself."""
    folder = tmp_path_factory.mktemp("submissions")
    build_reports(seeds_dir, folder, count=8, cases_per_report=3)
    shutil.copy(seed_file("003", seeds_dir), folder / "slides_003.txt")
    return folder


def _batch_cmd(inputs: Path, db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "jirei.cli", "batch", str(inputs), "--db", str(db), "-q", *extra]


@pytest.fixture(scope="module")
def clean_store(inputs: Path, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("clean") / "clean.db"
    done = subprocess.run(_batch_cmd(inputs, db, "--workers", "1"), capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return db


def _digest(db: Path) -> dict:
    with Store(db, create=False) as store:
        return store.content_digest()


def test_sigkill_mid_batch_then_rerun_equals_a_clean_run(inputs: Path, clean_store: Path, tmp_path: Path):
    total = len(list(inputs.iterdir()))
    db = tmp_path / "killed.db"
    proc = subprocess.Popen(_batch_cmd(inputs, db, "--workers", "1"), cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while stored_documents(db) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its worker processes, no chance to clean up
    proc.wait()
    stored = stored_documents(db)
    assert 3 <= stored < total, f"the kill should land mid-batch ({stored} of {total} stored)"

    rerun = subprocess.run(_batch_cmd(inputs, db, "--workers", "1"), capture_output=True, text=True, cwd=REPO)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{total - stored} new documents" in rerun.stderr
    assert _digest(db) == _digest(clean_store)


def test_rerun_of_a_finished_batch_does_nothing(inputs: Path, clean_store: Path, capsys):
    before = _digest(clean_store)
    assert main(["batch", str(inputs), "--db", str(clean_store), "-q"]) == 0
    err = capsys.readouterr().err
    assert f"0 new documents, 0 cases, {len(list(inputs.iterdir()))} skipped, 0 failed" in err
    assert _digest(clean_store) == before


def test_dask_local_cluster_stores_what_the_local_backend_stores(inputs: Path, clean_store: Path, tmp_path: Path,
                                                                 monkeypatch):
    pytest.importorskip("distributed")
    import jirei.batch
    from jirei.batch import run_batch

    # Split every document over 2,000 characters of NER text across the two workers (long
    # reports are shared this way): the store must still equal the one-worker, unsplit run.
    monkeypatch.setattr(jirei.batch, "SPLIT_CHARS", 2000)

    with Store(tmp_path / "dask.db") as store:
        summary = run_batch(store, [str(inputs)], workers=2, backend="dask", progress=False,
                            stream=open(os.devnull, "w"))
        assert len(summary.workers) == 2  # two worker processes did the work
        assert summary.new_documents == len(list(inputs.iterdir())) and not summary.failed
        run = store.runs()[-1]
        assert run["settings"]["backend"] == "dask" and run["status"] == "finished"
    assert _digest(tmp_path / "dask.db") == _digest(clean_store)


def test_bad_input_is_recorded_the_batch_goes_on_and_can_be_retried(tmp_path: Path, seeds_dir: Path, capsys):
    from test_pdf import _handmade_encrypted_pdf, _minimal_pdf

    folder = tmp_path / "in"
    build_reports(seeds_dir, folder, count=1, cases_per_report=2)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    (folder / "encrypted.pdf").write_bytes(_handmade_encrypted_pdf())
    (folder / "scan.pdf").write_bytes(_minimal_pdf())  # a page without a text layer
    (folder / "legacy.txt").write_bytes(b"\x85\xfd\xa0\xff" * 20)
    db = tmp_path / "jirei.db"

    assert main(["batch", str(folder), "--db", str(db), "-q", "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert "1 new documents" in err and "5 failed" in err
    with Store(db) as store:
        reasons = {Path(f["path"]).name: f["error"] for f in store.failures()}
        assert set(reasons) == {"empty.txt", "corrupt.pdf", "encrypted.pdf", "scan.pdf", "legacy.txt"}
        assert "empty file" in reasons["empty.txt"]
        assert "encrypted" in reasons["encrypted.pdf"]
        assert "OCR" in reasons["scan.pdf"]
        assert "not decodable" in reasons["legacy.txt"]
        assert store.case_count() > 0
        for line in err.splitlines():
            if line.startswith("  FAILED"):
                assert str(folder) in line  # one line naming the file and the problem

    # Failed documents are skipped by a plain re-run and tried again with --retry-failed.
    assert main(["batch", str(folder), "--db", str(db), "-q"]) == 0
    assert "0 new documents, 0 cases, 6 skipped, 0 failed" in capsys.readouterr().err
    (folder / "empty.txt").write_text("# 追加の事例\n\n## 空き家の活用(長野県松本市)\n空き家を改修し移住者向け住宅とした。\n",
                                      encoding="utf-8")
    assert main(["batch", str(folder), "--db", str(db), "-q", "--retry-failed", "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert "1 new documents" in err and "4 failed" in err  # the fixed file is in; the rest still fail


def test_renamed_copy_skipped_and_changed_file_is_a_new_version(tmp_path: Path, seeds_dir: Path, capsys):
    folder = tmp_path / "in"
    report = build_reports(seeds_dir, folder, count=1, cases_per_report=2)[0]
    db = tmp_path / "jirei.db"
    assert main(["batch", str(folder), "--db", str(db), "-q", "--workers", "1"]) == 0
    capsys.readouterr()

    shutil.copy(report, folder / "renamed.txt")
    assert main(["batch", str(folder), "--db", str(db), "-q", "-v"]) == 0
    err = capsys.readouterr().err
    assert "0 new documents" in err and "renamed.txt: same bytes as" in err
    (folder / "renamed.txt").unlink()

    report.write_text(report.read_text(encoding="utf-8") + "\n## 空き家の活用(長野県松本市)\n空き家を改修し移住者向け住宅とした。\n",
                      encoding="utf-8")
    assert main(["batch", str(folder), "--db", str(db), "-q", "--workers", "1"]) == 0
    with Store(db) as store:
        docs = store.documents()
        assert len(docs) == 2
        old, new = sorted(docs, key=lambda d: d["current"])
        assert (old["current"], new["current"], new["previous"]) == (0, 1, old["doc_id"])
        current_cases = store.iter_case_ids()
        assert current_cases and all(cid.startswith(new["doc_id"][:16]) for cid in current_cases)
