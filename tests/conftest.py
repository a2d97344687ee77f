"""Shared fixtures: the shared folder (seeds, real PDFs) and seed PDFs rendered by Chromium.

``seed_pdfs`` -> {(seed_stem, layout): Path}, e.g. ``("001_7db842c1dad96953", "one-column")``;
layouts are ``pdf_fixtures.LAYOUTS``.  The PDFs are rendered once and cached under the
pytest cache (``.pytest_cache/d/jirei-pdfs``), keyed by seed sha256 + layout + title +
renderer version, so re-runs are fast.  Set JIREI_SHARED to use another shared folder.

``office_seed_pdfs`` -> {(seed_stem, layout): Path}: the same seeds typed as two-column Word
documents and printed by LibreOffice (``office_pdf_fixtures``), cached under
``.pytest_cache/d/jirei-office-pdfs``.

``layout_pdfs`` -> {(source, template): (pdf, gold)}: seed cases re-typeset in six report layouts
(``layout_fixtures``), cached under ``.pytest_cache/d/jirei-layouts``; sources named
``heldout-*`` are the held-out test set.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

try:  # tests/ may or may not be a package
    from . import layout_fixtures, office_pdf_fixtures, pdf_fixtures
except ImportError:
    import layout_fixtures
    import office_pdf_fixtures
    import pdf_fixtures

#: Seeds rendered to PDF, by file-name prefix, with the running-header title used for
#: them (a report title, never a case heading: the header repeats on every page).
PDF_SEEDS: dict[str, str] = {
    "001": "with/post コロナの地方活性化【事例編】",
    "002": "地方創生2.0の推進にあたっての考え方",
    "003": "地方創生２．０ 好事例の普遍化に向けて",
    "004": "「共創」と「循環」による地方創生",
}


def shared_path() -> Path:
    """The shared folder: $JIREI_SHARED, else <repo>/../shared."""
    env = os.environ.get("JIREI_SHARED")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "shared"


def seeds_path() -> Path:
    return shared_path() / "seeds"


def seed_file(prefix: str, seeds: Path | None = None) -> Path | None:
    """The seed whose file name starts with ``<prefix>_`` (e.g. "001"), or None."""
    hits = sorted((seeds or seeds_path()).glob(f"{prefix}_*.txt"))
    return hits[0] if hits else None


def stored_documents(db: Path) -> int:
    """Documents a store holds, read through a read-only SQLite connection (0 while it does not
    exist yet or cannot be read): how tests watch a running batch."""
    import sqlite3

    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM documents").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _existing_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        pytest.skip(f"{what} not found at {path} (set JIREI_SHARED to the shared folder)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _existing_dir(shared_path(), "shared folder")


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return _existing_dir(seeds_path(), "seeds folder")


@pytest.fixture(scope="session")
def pdfs_dir() -> Path:
    return _existing_dir(shared_path() / "pdfs", "real-PDF folder")


def _cache_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               name: str = "jirei-pdfs") -> Path:
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    if cache is not None:
        try:
            return Path(cache.mkdir(name))
        except OSError:
            pass
    return tmp_path_factory.mktemp(name)


def _render_cached(seed: Path, layout: str, title: str, cache_dir: Path, engine=pdf_fixtures) -> Path:
    """`seed` printed in `layout` by `engine` (Chromium's `pdf_fixtures` or LibreOffice's
    `office_pdf_fixtures`), kept in `cache_dir` while seed, layout, title and engine are unchanged."""
    text = seed.read_text(encoding="utf-8")
    key = hashlib.sha256(
        "\0".join(
            [hashlib.sha256(seed.read_bytes()).hexdigest(), layout, title,
             engine.renderer_version()]
        ).encode()
    ).hexdigest()[:16]
    out = cache_dir / f"{seed.stem}.{layout}.{key}.pdf"
    if out.is_file() and out.stat().st_size > 0:
        return out
    for stale in cache_dir.glob(f"{seed.stem}.{layout}.*.pdf"):
        stale.unlink(missing_ok=True)
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    if engine is pdf_fixtures:
        pdf_fixtures.render_pdf(pdf_fixtures.seed_to_html(text, layout, title), tmp)
    else:
        engine.render_seed(text, title, tmp, layout)
    os.replace(tmp, out)  # atomic: parallel sessions never see half a PDF
    return out


@pytest.fixture(scope="session")
def seed_pdfs(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    seeds_dir: Path,
) -> dict[tuple[str, str], Path]:
    """Seeds 001-004 printed to PDF by headless Chromium in every layout."""
    reason = pdf_fixtures.chromium_missing_reason()
    if reason:
        pytest.skip(f"cannot render seed PDFs: {reason}")
    seeds = {prefix: seed_file(prefix, seeds_dir) for prefix in PDF_SEEDS}
    missing = sorted(p for p, s in seeds.items() if s is None)
    if missing:
        pytest.skip(f"seeds {', '.join(missing)} not found in {seeds_dir}")
    cache_dir = _cache_dir(request, tmp_path_factory)
    jobs = [(seeds[p], layout, PDF_SEEDS[p]) for p in PDF_SEEDS for layout in pdf_fixtures.LAYOUTS]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # one Chromium per CPU: more only contend (2 CPUs: 8 PDFs in ~9 s vs ~13 s serial)
    with ThreadPoolExecutor(max_workers=max(1, min(4, cpus or 1))) as pool:
        paths = list(pool.map(lambda job: _render_cached(*job, cache_dir), jobs))
    return {(seed.stem, layout): path for (seed, layout, _), path in zip(jobs, paths)}


@pytest.fixture(scope="session")
def office_seed_pdfs(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    seeds_dir: Path,
) -> dict[tuple[str, str], Path]:
    """Seeds 001-004 typed as two-column Word documents and printed to PDF by LibreOffice."""
    reason = office_pdf_fixtures.libreoffice_missing_reason()
    if reason:
        pytest.skip(f"cannot render seed PDFs with LibreOffice: {reason}")
    seeds = {prefix: seed_file(prefix, seeds_dir) for prefix in PDF_SEEDS}
    missing = sorted(p for p, s in seeds.items() if s is None)
    if missing:
        pytest.skip(f"seeds {', '.join(missing)} not found in {seeds_dir}")
    cache_dir = _cache_dir(request, tmp_path_factory, "jirei-office-pdfs")
    out = {}
    for prefix, seed in seeds.items():
        for layout in office_pdf_fixtures.LAYOUTS:
            out[(seed.stem, layout)] = _render_cached(seed, layout, PDF_SEEDS[prefix], cache_dir, office_pdf_fixtures)
    return out


@pytest.fixture(scope="session")
def layout_pdfs(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    seeds_dir: Path,
) -> dict[tuple[str, str], tuple[Path, Path]]:
    """Every layout_fixtures source in every template, as (PDF, gold JSON) paths."""
    reason = pdf_fixtures.chromium_missing_reason()
    if reason:
        pytest.skip(f"cannot render layout PDFs: {reason}")
    missing = sorted({s.prefix for s in layout_fixtures.SOURCES.values()} - {
        p for p in {s.prefix for s in layout_fixtures.SOURCES.values()} if seed_file(p, seeds_dir)})
    if missing:
        pytest.skip(f"seeds {', '.join(missing)} not found in {seeds_dir}")
    cache = getattr(request.config, "cache", None)
    out = Path(cache.mkdir("jirei-layouts")) if cache is not None else tmp_path_factory.mktemp("jirei-layouts")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return layout_fixtures.render_all(out, seeds_dir, workers=max(1, min(4, cpus or 1)))


@pytest.fixture(scope="session")
def cv_documents(seed_pdfs, layout_pdfs, seeds_dir: Path, pdfs_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The development documents `jirei evaluate segmentation --cv document` reads, built from the
    suite's own renderings: the seed texts, the seeds printed in the suite's layouts, the training
    layouts written from seed 001 part I, the real PDFs and their text twins (held-out parts are
    left out as the CV leaves them out)."""
    from jirei import paths
    from jirei.evaluation.segmentation_cv import development_documents

    root = tmp_path_factory.mktemp("cv-documents")
    renderings, layouts = root / "renderings", root / "layouts"
    renderings.mkdir()
    layouts.mkdir()
    for (stem, layout), path in seed_pdfs.items():
        shutil.copy(path, renderings / f"{stem}.{layout}.pdf")
    for (name, _), (pdf, gold) in layout_pdfs.items():
        if name.startswith("train"):
            shutil.copy(pdf, layouts / pdf.name)
            shutil.copy(gold, layouts / gold.name)
    return development_documents(seeds_dir, pdfs_dir, renderings, paths.SEGMENTATION_GOLD, layouts=layouts)


def left_out_segmenter(docs, left_out, path: Path):
    """A CRF fitted on `docs` without `left_out` (its source and template left out too, as the CV
    leaves them out), written to `path`: (the segmenter, its training documents)."""
    from jirei.evaluation.segmentation_cv import _group_out, training_sequences
    from jirei.extract.segment.crf import Segmenter, train

    pool = [d for d in docs if d.trains and not _group_out(left_out, d)]
    assert pool and not any(d.source == left_out.source for d in pool)
    train(training_sequences(pool), path)
    return Segmenter(path), pool
