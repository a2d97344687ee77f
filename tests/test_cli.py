"""The `jirei` command as a user runs it: real seeds, real bad files, exit codes, JSON schema."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jirei import paths

SEEDS = paths.seeds_dir()
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed reports not found at {SEEDS}")
FIELDS = {"doc", "case_id", "title", "text", "page", "span", "section", "layout", "organisations", "places", "years", "year_mentions", "pillar", "pillars", "theme", "declared_pillar", "action_items", "item_scores", "needs_review"}


def jirei(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jirei.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@needs_seeds
def test_extract_folder_with_bad_inputs_goes_on_and_fails_at_the_end(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for prefix in ("001", "004"):
        src = next(SEEDS.glob(f"{prefix}_*.txt"))
        (inbox / src.name).write_bytes(src.read_bytes())
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.7\n this is not really a pdf")
    (inbox / "empty.txt").write_bytes(b"")
    out = tmp_path / "cases.jsonl"
    result = jirei("extract", str(inbox), "-o", str(out))
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("jirei: error:")]
    assert len(errors) == 2
    assert any("broken.pdf" in e for e in errors) and any("empty.txt: empty file" in e for e in errors)
    assert "pdfminer" not in result.stderr.lower()
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["doc"] for r in rows} == {p.name for p in inbox.glob("00*.txt")}
    assert len(rows) == 63 + 47
    for r in rows:
        assert FIELDS <= set(r)
        assert all(o["source"] in {"heading", "rule", "ner"} for o in r["organisations"])
        assert r["pillar"]["source"] == "model" and len(r["pillars"]) == 4 and r["action_items"]
    hitachi = next(r for r in rows if r["title"].startswith("① 日立製作所"))
    assert hitachi["declared_pillar"]["label"] == "live"  # the casebook files it under 「住む」
    assert hitachi["organisations"][0]["name"] == "日立製作所" and hitachi["organisations"][0]["role"] == "lead"
    assert ("愛媛県", "松山市", "382019") in {(p["prefecture"], p["municipality"], p["code"]) for p in hitachi["places"]}


@needs_seeds
def test_extract_writes_jsonl_to_stdout_and_case_ids_are_stable():
    seed = next(SEEDS.glob("003_*.txt"))
    first = jirei("extract", str(seed), "-q")
    second = jirei("extract", str(seed), "-q")
    assert first.returncode == 0 and first.stderr == ""
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(rows) == 54 and rows[0]["layout"] == "slides"  # a declared layout: the rule set decides (models/segmenter_card.json routes)
    assert [r["case_id"] for r in rows] == [json.loads(l)["case_id"] for l in second.stdout.splitlines()]


@needs_seeds
def test_extract_in_worker_processes_gives_what_one_process_gives():
    """With --workers 2 the NER and the classifier's features run in two worker processes, each
    document's texts split between them, and the next document is in the workers while the one
    before is finished; the cases are the same, byte for byte, in the order of the files."""
    seeds = [str(next(SEEDS.glob(f"{prefix}_*.txt"))) for prefix in ("002", "000", "003")]
    two = jirei("extract", *seeds, "-q", "--workers", "2")
    one = jirei("extract", *seeds, "-q", "--workers", "1")
    assert two.returncode == 0 and two.stderr == ""
    rows = [json.loads(line) for line in two.stdout.splitlines()]
    assert len(rows) == 23 + 54 and all(r["pillar"]["source"] == "model" for r in rows)  # 002 holds no case
    assert [r["doc"][:3] for r in rows] == ["000"] * 23 + ["003"] * 54
    assert sum(len(r["organisations"]) for r in rows) > 30
    assert two.stdout == one.stdout


@needs_seeds
@pytest.mark.parametrize("moment", ["while the workers load", "while the workers work"])
def test_ctrl_c_stops_extract_and_its_workers_in_one_line(moment: str, tmp_path: Path):
    """Ctrl-C reaches the whole process group: `jirei extract`, its workers and the fork server
    they come from. The command says so in one line, with no traceback from any of them, and
    leaves no process behind; what it wrote is whole lines."""
    import os
    import signal
    import time

    seeds = [str(p) for p in sorted(SEEDS.glob("*.txt"))]
    out = tmp_path / "cases.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "jirei.cli", "extract", *seeds, "-q", "--workers", "2", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    if moment == "while the workers load":
        time.sleep(1.0)
    else:
        while (not out.exists() or out.stat().st_size == 0) and proc.poll() is None:
            time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert [line for line in err.splitlines() if line.strip()] == ["jirei: interrupted"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # a process of the group is still there
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a process of `jirei extract` outlived it")
    if out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            json.loads(line)


@needs_seeds
def test_evaluate_segmentation_prints_per_document_figures():
    result = jirei("evaluate", "segmentation", "--json")
    assert result.returncode == 0, result.stderr
    scores = {s["doc"][:3]: s for s in json.loads(result.stdout)}
    assert set(scores) == {"001", "002", "003", "004"}
    for s in scores.values():
        assert s["f1"] >= 0.97 and s["ends_included"] >= 0.97
    table = jirei("evaluate", "segmentation").stdout
    assert "F1" in table and "001_7db842c1dad96953.txt" in table


def test_help_explains_the_record_and_errors():
    out = jirei("extract", "--help").stdout
    for word in ("case_id", "span", "section", "layout", "exit status"):
        assert word in out
