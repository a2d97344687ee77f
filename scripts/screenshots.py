"""Screenshots of the reviewer app for the docs: docs/screenshots/{queue,case,case-pdf,dashboard,agreement}.png.

Builds a store from the shared seeds and one real PDF (a village newsletter, so a case page shows
its rendered source page), adds two reviewers who review part of the queue through the app's own
HTTP routes (one accepts or corrects the model, the other re-reviews some of the same cases, so
the dashboard has a confusion table and a kappa), assigns 60 more cases to two reviewers with a
half labelled twice blind (so the agreement card has kappa per pillar and per item), then opens
the pages in Debian's Chromium with
Playwright. Run by `make screenshots`; needs /usr/bin/chromium and the shared folder.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHROMIUM = "/usr/bin/chromium"
PDF_NAME = "otoineppu_kouhou_2023-09.pdf"
PASSWORDS = {"ana": "ana-password-1", "ben": "ben-password-1", "cy": "cy-password-12"}


def build(workdir: Path) -> Path:
    from jirei import paths
    from jirei.store import Store
    from jirei.webapp.auth import hash_password
    from jirei.webapp.sample_store import build_store

    seeds = sorted(paths.seeds_dir().glob("*.txt"))
    if not seeds:
        raise SystemExit(f"no seeds in {paths.seeds_dir()} (set JIREI_SHARED)")
    reports = list(seeds)
    pdf = paths.shared_dir() / "pdfs" / PDF_NAME
    if pdf.is_file():
        local = workdir / PDF_NAME
        shutil.copy(pdf, local)
        reports.append(local)
    db = workdir / "jirei.db"
    n = build_store(db, reports)
    with Store(db) as store:
        store.add_user("ana", "admin", hash_password(PASSWORDS["ana"]))
        store.add_user("ben", "reviewer", hash_password(PASSWORDS["ben"]))
        store.add_user("cy", "reviewer", hash_password(PASSWORDS["cy"]))
    print(f"store: {n} cases from {len(reports)} reports", file=sys.stderr)
    return db


def review_some(db: Path) -> None:
    """ana reviews the first 40 cases of the queue: she accepts the model, or files the case
    under the pillar its document declares when that differs; ben re-reviews every third of
    them and picks the model's second pillar for every fourth he sees."""
    from starlette.testclient import TestClient

    from jirei.store import CaseQuery, Store
    from jirei.webapp import create_app

    with Store(db) as store:
        queue, _ = store.query_cases(CaseQuery(order="queue", limit=40))
    app = create_app(db, secret_key="screenshots-only-" + "x" * 32)
    clients = {}
    for name in ("ana", "ben"):
        client = TestClient(app, follow_redirects=False)
        token = _token(client.get("/login").text)
        client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": token})
        clients[name] = client
    for i, record in enumerate(queue):
        declared = (record.get("declared_pillar") or {}).get("label")
        model = (record.get("pillar") or {}).get("label")
        if declared and declared != model:
            _save(clients["ana"], record, pillar=declared)
        else:
            _accept(clients["ana"], record)
        if i % 3 == 0:
            second = (record.get("pillars") or [{}, {}])[1].get("label")
            choice = second if i % 4 == 0 and second else (declared or model)
            _save(clients["ben"], record, pillar=choice)


def double_label(db: Path) -> None:
    """ana assigns the next 60 unreviewed cases of the queue to ben and cy in turn, half of them
    labelled twice blind (the admin's assignment form). Each does their first pass (accepting the
    model, or its second pillar on every fifth case) and their blind labellings on the blind page:
    the model's pillar and items, its second pillar on every third case, one item fewer on every
    fourth."""
    from starlette.testclient import TestClient

    from jirei.store import CaseQuery, Store
    from jirei.webapp import create_app

    app = create_app(db, secret_key="screenshots-only-" + "x" * 32)
    clients = {}
    for name in ("ana", "ben", "cy"):
        client = TestClient(app, follow_redirects=False)
        client.post("/login", data={"name": name, "password": PASSWORDS[name],
                                    "csrf_token": _token(client.get("/login").text)})
        clients[name] = client
    admin = clients["ana"]
    token = _token(admin.get("/admin/assign?reviewed=no").text)
    response = admin.post("/admin/assign", data={"csrf_token": token, "queue": "reviewed=no", "reviewer": ["ben", "cy"],
                                                  "limit": "60", "overlap": "50"})
    assert response.status_code == 303, response.text[:500]
    with Store(db) as store:
        rows = store.conn.execute("SELECT case_id, reviewer, pass FROM assignments ORDER BY pass, case_id").fetchall()
        records = {r["case_id"]: r for r in store.cases([row[0] for row in rows])}
    for i, (case_id, who, number) in enumerate(rows):
        record = records[case_id]
        pillars = record.get("pillars") or []
        model = (record.get("pillar") or {}).get("label")
        second = pillars[1].get("label") if len(pillars) > 1 else model
        items = [str(a["item"]) for a in record.get("action_items") or []]
        if number == 1:
            if i % 5 == 0 and second:
                _save(clients[who], record, pillar=second)
            else:
                _accept(clients[who], record)
            continue
        client = clients[who]
        html = client.get(f"/blind/{case_id}").text
        chosen = second if i % 3 == 0 else model
        picked = items[:-1] if i % 4 == 0 else items
        response = client.post(f"/blind/{case_id}", data={"csrf_token": _token(html), "pillar": chosen,
                                                         "item": picked})
        assert response.status_code == 303, response.text[:500]


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _case_form(client, case_id: str) -> tuple[str, dict]:
    html = client.get(f"/case/{case_id}").text
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    return html, {"csrf_token": _token(html), "version": version}


def _save(client, record: dict, pillar: str) -> None:
    html, form = _case_form(client, record["case_id"])
    items = [str(a["item"]) for a in record.get("action_items") or []]
    theme = (record.get("theme") or {}).get("label") or ""
    theme = theme if theme.startswith(pillar + ".") else ""
    data = list(form.items()) + [("pillar", pillar), ("theme", theme)] + [("item", i) for i in items]
    data += [("org_keep", str(i)) for i in range(len(record.get("organisations") or []))]
    data += [(f"org_name_{i}", o["name"]) for i, o in enumerate(record.get("organisations") or [])]
    data += [(f"org_role_{i}", o.get("role") or "") for i, o in enumerate(record.get("organisations") or [])]
    data += [("place_keep", str(i)) for i in range(len(record.get("places") or []))]
    data += [("year_keep", str(i)) for i in range(len(record.get("years") or []))]
    fields: dict[str, list[str]] = {}
    for key, value in data:
        fields.setdefault(key, []).append(value)
    response = client.post(f"/case/{record['case_id']}/save", data=fields)
    assert response.status_code == 303, (response.status_code, response.text[:500])


def _accept(client, record: dict) -> None:
    _, form = _case_form(client, record["case_id"])
    response = client.post(f"/case/{record['case_id']}/accept", data=form)
    assert response.status_code == 303, response.status_code


def shoot(db: Path, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from jirei.store import CaseQuery, Store
    from jirei.webapp import create_app
    from jirei.webapp.server_thread import serving

    with Store(db) as store:
        records, _ = store.query_cases(CaseQuery(limit=None))
    # A casebook entry with an organisation, a place and years to highlight; and a PDF case.
    text_case = next(r for r in records if r["layout"] == "casebook" and r["organisations"] and r["places"]
                     and r["years"] and r["review_status"] != "reviewed")
    pdf_case = next((r for r in records if r["doc"] == PDF_NAME and r["page"] and r["places"]), None)
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    app = create_app(db, secret_key="screenshots-only-" + "x" * 32)
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900}, device_scale_factor=1, locale="ja-JP")
        page.goto(f"{base}/login")
        page.fill("input[name=name]", "ana")
        page.fill("input[name=password]", PASSWORDS["ana"])
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/queue")
        page.goto(f"{base}/queue?reviewed=no&sort=margin")
        page.keyboard.press("j")
        for _ in range(3):  # three rows ticked for a bulk action
            page.keyboard.press("x")
            page.keyboard.press("j")
        page.select_option("#bulk-pillar", "work")
        shots.append(save_shot(page, out / "queue.png"))
        page.goto(f"{base}/case/{text_case['case_id']}?reviewed=no")
        page.keyboard.press("2")  # show a pending correction: pillar 働く, not yet saved
        page.keyboard.press("Shift+Digit4")
        page.wait_for_timeout(4000)  # let the key feedback (highlight, toast) fade
        shots.append(save_shot(page, out / "case.png"))
        if pdf_case:
            page.goto(f"{base}/case/{pdf_case['case_id']}")
            page.wait_for_selector("#page-image img")
            page.wait_for_load_state("networkidle")
            shots.append(save_shot(page, out / "case-pdf.png", full_page=True))
        page.goto(f"{base}/dashboard")
        shots.append(save_shot(page, out / "dashboard.png", full_page=True))
        page.locator("#blind-agreement").screenshot(path=str(out / "agreement.png"))
        print(f"wrote {out / 'agreement.png'}", file=sys.stderr)
        shots.append(out / "agreement.png")
        browser.close()
    return shots


def save_shot(page, path: Path, full_page: bool = False) -> Path:
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path}", file=sys.stderr)
    return path


def run(argv: list[str] | None, description: str, take: Callable[[Path, Path], object]) -> int:
    """The command line every screenshot script shares: `--out`, Chromium present (else exit 2),
    `take(scratch folder, out folder)` in a scratch folder removed afterwards."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"screenshots: {CHROMIUM} not found (apt-get install chromium fonts-noto-cjk)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    with tempfile.TemporaryDirectory(prefix="jirei-shots-") as tmp:
        take(Path(tmp), Path(args.out))
    return 0


def main(argv: list[str] | None = None) -> int:
    def take(tmp: Path, out: Path) -> None:
        db = build(tmp)
        review_some(db)
        double_label(db)
        shoot(db, out)

    return run(argv, __doc__, take)


if __name__ == "__main__":
    sys.exit(main())
