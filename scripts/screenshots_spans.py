"""Screenshots of span editing and boundary edits for the docs: docs/screenshots/case-spans.png
(a case with an organisation added from a selection, the selection toolbar and a highlight's
editor open) and docs/screenshots/split.png (a newsletter article just split at a selection:
the first part, its region marked on the page image, the history linking it to the case it came
from). Builds its own store from seed 001 and the shared newsletter PDF; needs /usr/bin/chromium.

    .venv/bin/python scripts/screenshots_spans.py [--out docs/screenshots]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests"))

from browser_js import SELECT_RANGE as SELECT  # noqa: E402
from screenshots import CHROMIUM, run, save_shot  # noqa: E402

PDF_NAME = "otoineppu_kouhou_2023-09.pdf"
PASSWORD = "ben-password-1"



def build(workdir: Path) -> Path:
    from jirei import paths
    from jirei.webapp.sample_store import add_users, build_store

    seed = next(iter(sorted(paths.seeds_dir().glob("001_*.txt"))), None)
    pdf = paths.shared_dir() / "pdfs" / PDF_NAME
    if seed is None or not pdf.is_file():
        raise SystemExit(f"needs seed 001 and {PDF_NAME} in the shared folder (set JIREI_SHARED)")
    local = workdir / PDF_NAME
    shutil.copy(pdf, local)
    db = workdir / "jirei.db"
    build_store(db, [seed, local])
    add_users(db, {"ben": ("reviewer", PASSWORD)})
    return db


def shoot(db: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from jirei.store import CaseQuery, Store
    from jirei.webapp import create_app
    from jirei.webapp.server_thread import serving

    with Store(db) as store:
        records, _ = store.query_cases(CaseQuery())
    text_case = next(r for r in records if r["title"].startswith("① セブン&アイ"))
    pdf_case = next(r for r in records if r["doc"] == PDF_NAME and r["page"] and r["text"].count("\n") > 6)
    out.mkdir(parents=True, exist_ok=True)
    with serving(create_app(db, secret_key="screenshots-only-" + "x" * 32)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, device_scale_factor=1, locale="ja-JP")
        page.goto(f"{base}/login")
        page.fill("input[name=name]", "ben")
        page.fill("input[name=password]", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/queue")

        page.goto(f"{base}/case/{text_case['case_id']}")
        text = text_case["text"]
        at = text.index("イトーヨーカドー")
        page.evaluate(SELECT, [at, at + 8])
        page.keyboard.press("o")  # added from the selection
        page.locator("#case-text mark.hl-year", has_text="2020年").click()  # its editor
        at = text.index("買い物支援")
        page.evaluate(SELECT, [at, at + 5])  # the toolbar waits on the next selection
        page.wait_for_timeout(300)
        path = out / "case-spans.png"
        save_shot(page, path)

        page.goto(f"{base}/case/{pdf_case['case_id']}")
        lines = pdf_case["text"].split("\n")
        cut = len("\n".join(lines[:len(lines) // 2])) + 1
        page.evaluate(SELECT, [cut, cut + 4])
        with page.expect_navigation():
            page.keyboard.press("l")
        page.wait_for_load_state("networkidle")
        path = out / "split.png"
        save_shot(page, path, full_page=True)
        browser.close()


def main(argv: list[str] | None = None) -> int:
    return run(argv, __doc__, lambda tmp, out: shoot(build(tmp), out))


if __name__ == "__main__":
    sys.exit(main())
