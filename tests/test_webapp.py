"""The reviewer web app, in process (Starlette's test client) over stores built from the seed
reports: login and sessions, CSRF on every state-changing route, the queue, the case page
(highlights, escaping, PDF pages), saves that are all-or-nothing, conflicts, undo, accept,
the dashboard's figures, admin pages, and the `users` / `serve` commands; then spreadsheet-safe
exports, typed work kept through a refused save or an expired session, sessions that end
(logout, new password, disable, idle, age), login throttling per address, the last admin, and
the queue's end."""

from __future__ import annotations

import csv
import io
import re
import shutil
import warnings
from pathlib import Path

import pytest

from jirei.store import CaseQuery, ConflictError, Store, StoreError
from jirei.webapp import create_app
from jirei.webapp.sample_store import add_users, build_store

from conftest import seed_file

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx 0.28 works
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

USERS = {"ana": ("admin", "ana-password-1"), "ben": ("reviewer", "ben-password-1"),
         "cy": ("reviewer", "cy-password-12")}
PAYLOAD = '<script>document.title="pwned";window.pwned=1</script><img src=x onerror="window.pwned=2">'
PAYLOAD_AFTER = "・農業を通じた障害者の社会参画"
SECRET = "test-secret-" + "k" * 40


def script_report(seeds_dir: Path, folder: Path) -> Path:
    """Seed 003 with markup injected into a case body: a report whose text holds <script>."""
    src = seed_file("003", seeds_dir).read_text(encoding="utf-8")
    assert src.count(PAYLOAD_AFTER) == 1
    path = folder / "003_with_markup.txt"
    path.write_text(src.replace(PAYLOAD_AFTER, PAYLOAD_AFTER + PAYLOAD), encoding="utf-8")
    return path


def make_review_store(folder: Path, seeds_dir: Path) -> Path:
    """Seeds 001 and 004 and the marked-up 003, labelled by the trained model, with three users."""
    db = folder / "jirei.db"
    build_store(db, [seed_file("001", seeds_dir), seed_file("004", seeds_dir), script_report(seeds_dir, folder)])
    add_users(db, USERS)
    return db


@pytest.fixture(scope="session")
def template_db(tmp_path_factory, seeds_dir: Path) -> Path:
    return make_review_store(tmp_path_factory.mktemp("webapp-store"), seeds_dir)


@pytest.fixture()
def db(template_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "jirei.db"
    shutil.copy(template_db, copy)
    return copy


@pytest.fixture()
def app(db: Path):
    return create_app(db, secret_key=SECRET)


def client_for(app, name: str | None = None) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    if name:
        token = csrf(client.get("/login").text)
        response = client.post("/login", data={"name": name, "password": USERS[name][1], "csrf_token": token})
        assert response.status_code == 303, response.text
    return client


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def case_form(record: dict, html: str, **changes) -> dict:
    """The review form as the page submits it unchanged, with `changes` applied."""
    form: dict[str, list[str] | str] = {
        "csrf_token": csrf(html), "version": version_of(html),
        "next": re.search(r'name="next" value="([^"]*)"', html).group(1),
        "queue": re.search(r'name="queue" value="([^"]*)"', html).group(1),
        "pillar": (record.get("pillar") or {}).get("label") or "",
        "theme": (record.get("theme") or {}).get("label") or "",
        "item": [str(a["item"]) for a in record.get("action_items") or []],
        "org_keep": [str(i) for i in range(len(record["organisations"]))],
        "place_keep": [str(i) for i in range(len(record["places"]))],
        "year_keep": [str(i) for i in range(len(record["years"]))],
    }
    for i, o in enumerate(record["organisations"]):
        form[f"org_name_{i}"] = o["name"]
        form[f"org_role_{i}"] = o.get("role") or ""
    for i, p in enumerate(record["places"]):
        form[f"place_{i}"] = re.search(rf'name="place_{i}" value="([^"]*)"', html).group(1)
    for i, y in enumerate(record["years"]):
        form[f"year_{i}"] = str(y)
    form.update(changes)
    return form


def other_pillar(label: str | None) -> str:
    return next(p for p in ("live", "work", "nurture", "interact") if p != label)


def first_case(db: Path, **filters) -> dict:
    with Store(db) as store:
        records, _ = store.query_cases(CaseQuery(order="queue", limit=1, **filters))
    return records[0]


def stored(db: Path, case_id: str) -> tuple[dict, list[dict]]:
    """The case as the app reads it (with notes and segmentation) and its history."""
    from jirei.webapp.casepage import load_case

    with Store(db) as store:
        return load_case(store, case_id), store.history(case_id)


# --- sessions, login, CSRF ------------------------------------------------------------------------


def test_every_page_without_a_session_goes_to_the_login_page(app):
    client = client_for(app)
    examples = {"case_id": first_case_id(app), "doc_id": "0" * 64, "number": "1", "name": "ana", "job_id": "1"}
    checked = 0
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path or path.startswith(("/login", "/static", "/favicon")) or "GET" not in (route.methods or ()):
            continue
        url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: examples[m.group(1)], path)
        response = client.get(url)
        checked += 1
        if path.startswith("/api/"):
            assert response.status_code == 401, path
        else:
            assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
    assert checked >= 8
    followed = TestClient(app).get("/queue?pillar=work")
    assert followed.url.path == "/login" and 'name="password"' in followed.text
    assert 'value="/queue?pillar=work"' in followed.text  # back to the same page after login


def first_case_id(app) -> str:
    with app.state.jirei.pool.store() as store:
        return store.iter_case_ids()[0]


def test_login_sets_an_httponly_samesite_cookie_and_wrong_passwords_fail(app, db: Path):
    client = client_for(app)
    token = csrf(client.get("/login").text)
    bad = client.post("/login", data={"name": "ana", "password": "not-her-password", "csrf_token": token})
    assert bad.status_code == 401 and "Wrong name or password" in bad.text
    good = client.post("/login", data={"name": "ana", "password": USERS["ana"][1], "csrf_token": token,
                                       "next": "//evil.example/"})
    assert good.status_code == 303 and good.headers["location"] == "/queue"  # no open redirect
    cookie = good.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    with Store(db) as store:
        assert store.user("ana")["password_hash"].startswith("$argon2id$")
    secure = create_app(db, secret_key=SECRET, https_only=True)
    c2 = TestClient(secure, base_url="https://testserver", follow_redirects=False)
    token = csrf(c2.get("/login").text)
    r = c2.post("/login", data={"name": "ana", "password": USERS["ana"][1], "csrf_token": token})
    assert "secure" in r.headers["set-cookie"].lower()


def test_repeated_failed_logins_make_the_name_wait(app):
    client = client_for(app)
    token = csrf(client.get("/login").text)
    codes = [client.post("/login", data={"name": "ben", "password": f"wrong-{i}", "csrf_token": token}).status_code
             for i in range(6)]
    assert codes == [401] * 5 + [429]
    right = client.post("/login", data={"name": "ben", "password": USERS["ben"][1], "csrf_token": token})
    assert right.status_code == 429  # even the right password waits


def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(app, db: Path):
    client = client_for(app, "ana")
    case_id = first_case_id(app)
    page = client.get(f"/case/{case_id}").text
    good = {"version": version_of(page), "pillar": "work", "name": "zed", "role": "admin",
            "password": "zed-password-1", "active": "0"}
    examples = {"case_id": case_id, "name": "ben", "job_id": "1", "action": "promote"}
    posts = [r for r in app.routes if "POST" in (getattr(r, "methods", None) or ())]
    assert len(posts) >= 7
    with Store(db) as store:
        before = store.content_digest(), store.users()
    for route in posts:
        url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: examples[m.group(1)], route.path)
        missing = client.post(url, data=good)
        wrong = client.post(url, data={**good, "csrf_token": "forged"})
        header = client.post(url, data=good, headers={"X-CSRF-Token": "forged"})
        for response in (missing, wrong, header):
            assert response.status_code == 403 and "CSRF" in response.text, route.path
    with Store(db) as store:
        assert (store.content_digest(), store.users()) == before
    assert client.get("/queue").status_code == 200  # still logged in: logout was refused too


def test_security_headers_forbid_inline_script(app):
    response = client_for(app, "ben").get("/queue")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"


# --- queue ---------------------------------------------------------------------------------------


def test_queue_puts_uncertain_cases_first_with_counts_filters_search_and_paging(app, db: Path):
    client = client_for(app, "ben")
    with Store(db) as store:
        expected, total = store.query_cases(CaseQuery(order="queue", limit=100))
        counts = store.queue_counts(CaseQuery())
        hits = store.queue_counts(CaseQuery(search="商工会議所"))["total"]
        nagano = store.queue_counts(CaseQuery(prefecture="長野県"))["total"]
    with Store(db) as store:
        every, _ = store.query_cases(CaseQuery(order="queue", limit=total))
    flags = [bool(r["needs_review"]) for r in every]
    assert flags[0] and not flags[-1] and flags == sorted(flags, reverse=True)  # uncertain first
    margins = [r["margin"] for r in every if r["needs_review"]]
    assert margins == sorted(margins)
    html = client.get("/queue").text
    shown = re.findall(r'<tr data-href="/case/([0-9a-f]{16}-\d{4})', html)
    assert shown == [r["case_id"] for r in expected[:50]]
    assert f"<strong>{counts['total']}</strong> 件" in html and f"<strong>{counts['needs_review']}</strong>" in html
    page2 = client.get("/queue?page=2").text
    assert re.findall(r'<tr data-href="/case/([0-9a-f]{16}-\d{4})', page2)[0] == expected[50]["case_id"]
    assert '<td class="num">51</td>' in page2
    search = client.get("/queue?q=商工会議所").text
    assert f"<strong>{hits}</strong> 件" in search and 0 < hits < total
    pref = client.get("/queue?pref=長野県").text
    assert f"<strong>{nagano}</strong> 件" in pref and nagano > 0
    work = client.get("/queue?pillar=work").text
    for case_id in re.findall(r'<tr data-href="/case/([0-9a-f]{16}-\d{4})', work):
        assert stored(db, case_id)[0]["pillar"]["label"] == "work"
    doc_id = expected[0]["doc_id"]
    with Store(db) as store:
        in_doc = store.queue_counts(CaseQuery(doc_id=doc_id))["total"]
    by_doc = client.get(f"/queue?doc={doc_id[:12]}").text
    assert f'<option value="{doc_id}" selected>{expected[0]["doc"]} ({in_doc})</option>' in by_doc
    assert f"<strong>{in_doc}</strong> 件" in by_doc
    bogus = client.get("/queue?pillar=x'--&item=99&pref=nowhere&reviewed=maybe").text
    assert f"<strong>{counts['total']}</strong> 件" in bogus  # unknown filters are dropped


# --- case page -----------------------------------------------------------------------------------


def test_case_page_highlights_entities_and_shows_labels(app, db: Path):
    with Store(db) as store:
        record = next(r for r in store.query_cases(CaseQuery())[0]
                      if r["title"].startswith("① セブン&アイ・ホールディングス"))
    html = client_for(app, "ben").get(f"/case/{record['case_id']}").text
    assert re.search('<mark class="hl-org" title="組織 セブン&amp;アイ・ホールディングス \\(lead\\)" data-refs="org:\\d+">'
                     'セブン&amp;アイ・ホールディングス</mark>', html)
    assert re.search('<mark class="hl-place" title="地名 長野県上田市 202037" data-refs="place:\\d+">長野県上田市</mark>', html)
    assert re.search('<mark class="hl-year" title="年 2001" data-refs="men:\\d+">2001年</mark>', html)
    assert "(2)移動の支援" in html and "001_7db842c1dad96953.txt" in html  # section path and document
    assert "文書の分類 declared by the document: <strong>住む</strong>" in html
    score = record["pillars"][0]["score"]
    assert f'<rect width="{score * 100:.1f}" height="8"/>' in html  # the best pillar's bar
    assert re.search(r'name="item" value="(\d+)"[^>]*checked', html)
    assert "Text document: no page image" in html


def test_case_text_with_markup_is_shown_as_text(app, db: Path):
    with Store(db) as store:
        records, _ = store.query_cases(CaseQuery(search="document.title"))
    assert len(records) == 1 and PAYLOAD in records[0]["text"]
    html = client_for(app, "ben").get(f"/case/{records[0]['case_id']}").text
    assert "<script>document.title" not in html and "<img src=x" not in html
    assert "&lt;script&gt;document.title=&#34;pwned&#34;;window.pwned=1&lt;/script&gt;" in html
    # the app's own /static/app.js and the case text as JSON data, where < is written \u003c
    assert html.count("<script") == 2 and '<script type="application/json" id="case-text-data">' in html


def test_pdf_case_shows_its_rendered_page_and_a_note_when_the_file_is_gone(tmp_path: Path, pdfs_dir: Path):
    pdf = tmp_path / "otoineppu_kouhou_2023-09.pdf"
    shutil.copy(pdfs_dir / pdf.name, pdf)
    db = tmp_path / "pdf.db"
    build_store(db, [pdf])
    add_users(db, {"ben": USERS["ben"]})
    app = create_app(db, secret_key=SECRET)
    client = client_for(app, "ben")
    with Store(db) as store:
        record = next(r for r in store.query_cases(CaseQuery())[0] if r["page"] and r["page"] > 1)
    html = client.get(f"/case/{record['case_id']}").text
    src = f"/doc/{record['doc_id']}/page/{record['page']}.png"
    assert f'<img src="{src}"' in html
    png = client.get(src)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/doc/{record['doc_id']}/page/999.png").status_code == 404

    pdf.write_bytes(pdf.read_bytes() + b"\n% another version\n")
    html = client.get(f"/case/{record['case_id']}").text
    assert "now holds other bytes" in html and "<img src=" not in html

    pdf.unlink()
    html = client.get(f"/case/{record['case_id']}").text
    assert "is no longer there" in html and "<img src=" not in html
    assert record["text"].split("\n")[0][:10] in html  # the stored text is still shown
    gone = client.get(src)
    assert gone.status_code == 404 and "no longer there" in gone.text


# --- saving --------------------------------------------------------------------------------------


def test_save_writes_reviewer_labels_in_one_transaction_and_moves_to_the_next_case(app, db: Path):
    client = client_for(app, "ben")
    record = first_case(db)
    html = client.get(f"/case/{record['case_id']}").text
    new_pillar = other_pillar(record["pillar"]["label"])
    form = case_form(record, html, pillar=new_pillar, theme="", item=["3", "5"],
                     secondary=["live"] if new_pillar != "live" else [],
                     note="境界を確認", year_new="2019")
    response = client.post(f"/case/{record['case_id']}/save", data=form)
    nxt = re.search(r'name="next" value="([^"]*)"', html).group(1)
    assert response.status_code == 303 and response.headers["location"].startswith(f"/case/{nxt}?")
    assert f"back={record['case_id']}" in response.headers["location"]
    case, history = stored(db, record["case_id"])
    assert case["pillar"] == {"label": new_pillar, "source": "reviewer", "reviewer": "ben"}
    assert case["theme"] == {"label": None, "source": "reviewer", "reviewer": "ben"}
    assert case["action_items"] == [{"item": 3, "source": "reviewer", "reviewer": "ben"},
                                    {"item": 5, "source": "reviewer", "reviewer": "ben"}]
    assert case["secondary_pillars"] == (["live"] if new_pillar != "live" else [])
    assert 2019 in case["years"] and case["review_status"] == "reviewed"
    assert case["notes"][0]["text"] == "境界を確認" and case["notes"][0]["reviewer"] == "ben"
    assert case["sources"]["pillar"] == ["reviewer:ben"]
    entries = [h for h in history if h["who"] == "ben"]
    assert {h["field"] for h in entries} >= {"pillar", "theme", "action_items", "years", "notes", "review_status"}
    assert len({h["note"] for h in entries}) == 1 and entries[0]["note"].startswith("save ")
    assert all(h["model_version"] == record["pillar"]["model"] for h in entries)
    assert entries[[h["field"] for h in entries].index("pillar")]["old"]["source"] == "model"
    page = client.get(f"/case/{record['case_id']}").text  # reload: kept, and in the history
    assert re.search(rf'value="{new_pillar}" data-key="\d" checked', page)
    assert "<td>ben</td><td>pillar</td>" in page.replace("\n", "")


def test_set_fields_is_all_or_nothing(db: Path):
    record = first_case(db)
    with Store(db) as store:
        before = store.case(record["case_id"]), store.history(record["case_id"])
        with pytest.raises(StoreError):
            store.set_fields(record["case_id"], {"pillar": {"label": "work", "source": "reviewer"},
                                                 "action_items": [{"item": 2}], "no_such_field": 1},
                             "ben", source="reviewer:ben", expected_version=record["version"])
        assert (store.case(record["case_id"]), store.history(record["case_id"])) == before
        with pytest.raises(ConflictError):
            store.set_fields(record["case_id"], {}, "ben", expected_version=record["version"] - 1)


def test_a_bad_value_saves_nothing(app, db: Path):
    client = client_for(app, "ben")
    record = first_case(db)
    html = client.get(f"/case/{record['case_id']}").text
    form = case_form(record, html, pillar="work", place_new="府中市", year_new="20x1")
    response = client.post(f"/case/{record['case_id']}/save", data=form)
    assert response.status_code == 422
    assert "「府中市」 is ambiguous (東京都府中市、広島県府中市)" in response.text and "「20x1」" in response.text
    assert stored(db, record["case_id"])[0]["version"] == record["version"]


def test_entities_are_added_removed_and_fixed_with_jis_codes(app, db: Path):
    client = client_for(app, "ben")
    with Store(db) as store:
        record = next(r for r in store.query_cases(CaseQuery())[0]
                      if len(r["organisations"]) >= 1 and len(r["places"]) >= 1 and r["years"])
    html = client.get(f"/case/{record['case_id']}").text
    form = case_form(record, html, place_new="松本", org_new="音威子府村", org_new_role="partner",
                     org_keep=[], year_keep=[])
    form["place_0"] = "北海道音威子府村 014702"
    response = client.post(f"/case/{record['case_id']}/save", data=form)
    assert response.status_code == 303, response.text
    case, _ = stored(db, record["case_id"])
    assert [o["name"] for o in case["organisations"]] == ["音威子府村"]
    assert case["organisations"][0]["source"] == "reviewer:ben"
    assert case["places"][0] == {"text": "音威子府村", "prefecture": "北海道", "municipality": "音威子府村",
                                 "code": "014702", "level": "municipality", "source": "reviewer:ben", "reviewer": "ben"}
    assert case["places"][-1]["code"] == "202029" and case["places"][-1]["municipality"] == "松本市"
    assert case["years"] == [] and case["sources"]["places"] == ["reviewer:ben"] * len(case["places"])


def test_segmentation_mark_is_kept_with_a_document_offset(app, db: Path):
    client = client_for(app, "ben")
    record = first_case(db)
    html = client.get(f"/case/{record['case_id']}").text
    form = case_form(record, html, seg_flag="split_here", seg_offset="12")
    assert client.post(f"/case/{record['case_id']}/save", data=form).status_code == 303
    case, _ = stored(db, record["case_id"])
    assert case["segmentation"] == {"flag": "split_here", "offset": record["span"][0] + 12,
                                                        "source": "reviewer", "reviewer": "ben"}
    assert 'name="seg_offset" id="seg-offset" value="12"' in client.get(f"/case/{record['case_id']}").text


def test_second_reviewer_gets_a_conflict_and_nothing_is_overwritten(app, db: Path):
    ana, ben = client_for(app, "ana"), client_for(app, "ben")
    record = first_case(db)
    url = f"/case/{record['case_id']}"
    page_a, page_b = ana.get(url).text, ben.get(url).text
    pillar_b = other_pillar(record["pillar"]["label"])
    pillar_a = other_pillar(pillar_b) if other_pillar(pillar_b) != record["pillar"]["label"] else "interact"
    assert ben.post(f"{url}/save", data=case_form(record, page_b, pillar=pillar_b)).status_code == 303
    response = ana.post(f"{url}/save", data=case_form(record, page_a, pillar=pillar_a, note="要再確認"))
    assert response.status_code == 409
    assert 'for other reviewers">要再確認</textarea>' in response.text  # her note is still in the form
    assert "Conflict: ben changed this case while you were editing" in response.text
    assert "Nothing of yours was saved" in response.text
    assert "<td>ben</td>" in response.text and "<td>pillar</td>" in response.text
    case, history = stored(db, record["case_id"])
    assert case["pillar"]["reviewer"] == "ben" and case["pillar"]["label"] == pillar_b
    assert not [h for h in history if h["who"] == "ana"]
    # the conflict page carries the new version: saving again from it works
    again = ana.post(f"{url}/save", data=case_form(stored(db, record["case_id"])[0], response.text, pillar=pillar_a))
    assert again.status_code == 303 and stored(db, record["case_id"])[0]["pillar"]["reviewer"] == "ana"


def test_undo_reverts_the_whole_last_save_as_new_entries(app, db: Path):
    client = client_for(app, "ben")
    record = first_case(db)
    url = f"/case/{record['case_id']}"
    html = client.get(url).text
    client.post(f"{url}/save", data=case_form(record, html, pillar=other_pillar(record["pillar"]["label"])))
    html = client.get(url).text
    response = client.post(f"{url}/undo", data={"csrf_token": csrf(html), "version": version_of(html)})
    assert response.status_code == 303 and response.headers["location"].startswith(url)
    case, history = stored(db, record["case_id"])
    assert case["pillar"] == record["pillar"] and case["review_status"] == "unreviewed"
    assert case["sources"]["pillar"][0].startswith("model@")
    undos = [h for h in history if (h["note"] or "").startswith("undo #")]
    assert {h["field"] for h in undos} >= {"pillar", "review_status"}
    assert "Undone: your change of" in client.get(url).text
    html = client.get(url).text
    client.post(f"{url}/undo", data={"csrf_token": csrf(html), "version": version_of(html)})
    assert "Nothing undone: nothing of yours to undo" in client.get(url).text


def test_undo_refuses_to_overwrite_a_later_change_by_someone_else(app, db: Path):
    ana, ben = client_for(app, "ana"), client_for(app, "ben")
    record = first_case(db)
    url = f"/case/{record['case_id']}"
    ben.post(f"{url}/save", data=case_form(record, ben.get(url).text, pillar="work"))
    ana.post(f"{url}/save", data=case_form(stored(db, record["case_id"])[0], ana.get(url).text, pillar="live"))
    html = ben.get(url).text
    ben.post(f"{url}/undo", data={"csrf_token": csrf(html), "version": version_of(html)})
    page = ben.get(url).text
    assert re.search(r"Nothing undone: ana changed pillar(, [a-z_]+)* after your change", page)
    assert stored(db, record["case_id"])[0]["pillar"]["reviewer"] == "ana"


def test_accept_writes_the_models_labels_as_the_reviewers_and_relabel_keeps_them(app, db: Path):
    client = client_for(app, "ben")
    record = first_case(db)
    html = client.get(f"/case/{record['case_id']}").text
    response = client.post(f"/case/{record['case_id']}/accept", data={"csrf_token": csrf(html),
                                                                      "version": version_of(html)})
    assert response.status_code in (303,)
    case, history = stored(db, record["case_id"])
    assert case["pillar"] == {"label": record["pillar"]["label"], "source": "reviewer", "reviewer": "ben"}
    assert [a["item"] for a in case["action_items"]] == sorted(a["item"] for a in record["action_items"])
    assert all(a["source"] == "reviewer" for a in case["action_items"])
    assert case["review_status"] == "reviewed" and history[-1]["note"].startswith("accept ")
    with Store(db) as store:
        changed = store.relabel_case(record["case_id"], {"pillar": {"label": "live", "source": "model", "model": "m2"},
                                                         "action_items": [{"item": 1, "score": 0.9}]},
                                     False, "m2", None)
    assert changed == []


def test_case_navigation_follows_the_filtered_queue(app, db: Path):
    client = client_for(app, "ben")
    with Store(db) as store:
        queue, total = store.query_cases(CaseQuery(order="queue", pillar="work", limit=3))
    html = client.get(f"/case/{queue[1]['case_id']}?pillar=work").text
    assert f"残り <strong>{total}</strong> unreviewed / {total}" in html
    assert f'href="/case/{queue[2]["case_id"]}?pillar=work&amp;back={queue[1]["case_id"]}" id="next-link"' in html
    assert f'href="/case/{queue[0]["case_id"]}?pillar=work" id="prev-link"' in html


# --- places API, dashboard, admin ------------------------------------------------------------------


def test_place_completion_lists_jis_municipalities(app):
    assert client_for(app).get("/api/places?q=松本").status_code == 401
    client = client_for(app, "ben")
    found = client.get("/api/places?q=松本").json()
    assert found[0] == {"value": "長野県松本市 202029", "label": "長野県松本市", "prefecture": "長野県",
                        "municipality": "松本市", "code": "202029", "level": "municipality"}
    assert {p["value"] for p in client.get("/api/places?q=府中市").json()} >= {"東京都府中市 132063",
                                                                                "広島県府中市 342084"}
    assert client.get("/api/places?q=長野県").json()[0]["level"] == "prefecture"


def test_dashboard_counts_confusion_kappa_and_map(app, db: Path):
    from sklearn.metrics import cohen_kappa_score

    ana, ben = client_for(app, "ana"), client_for(app, "ben")
    with Store(db) as store:
        queue, _ = store.query_cases(CaseQuery(order="queue", limit=6))
    a_labels, b_labels = [], []
    for i, record in enumerate(queue):
        url = f"/case/{record['case_id']}"
        model = record["pillar"]["label"]
        a = model if i % 2 else other_pillar(model)
        ana.post(f"{url}/save", data=case_form(record, ana.get(url).text, pillar=a))
        b = a if i % 3 else other_pillar(a)
        ben.post(f"{url}/save", data=case_form(stored(db, record["case_id"])[0], ben.get(url).text, pillar=b))
        a_labels.append(a)
        b_labels.append(b)
    html = ben.get("/dashboard").text
    kappa = cohen_kappa_score(a_labels, b_labels, labels=["live", "work", "nurture", "interact"])
    assert f'<strong id="kappa">{kappa:.3f}</strong>' in html
    assert "Cases with two reviewers' pillars: <strong>6</strong>" in html
    with Store(db) as store:
        counts = store.queue_counts(CaseQuery())
        places = store.key_counts("places")
    assert f'<strong id="reviewed-count">{counts["reviewed"]}</strong> / {counts["total"]}' in html
    assert counts["reviewed"] == 6
    changed = sum(a != r["pillar"]["label"] for a, r in zip(a_labels, queue)) + \
        sum(b != r["pillar"]["label"] for b, r in zip(b_labels, queue))
    assert f"12 labels, {changed} changed" in html
    assert html.count("<path d=") == 47
    assert f'data-pref="長野県" data-count="{places["長野県"]}"' in html and places["長野県"] > 0
    assert 'data-pref="沖縄県" data-count="' in html


def test_dashboard_shows_the_model_version_corrections_and_its_held_out_figures(db: Path, tmp_path: Path):
    import json

    from jirei import paths
    from jirei.evaluation.runs import append_run

    card = json.loads((paths.MODELS / "model_card.json").read_text(encoding="utf-8"))
    version = card["model_version"]
    runs = tmp_path / "runs.jsonl"
    figures = {"classification.jirei.all.pillar_accuracy": 0.6889, "classification.jirei.all.items_micro_f1": 0.5781}
    append_run(runs, {"run_id": "older", "started_at": "2026-11-01T00:00:00Z", "model_version": version,
                      "figures": {"classification.jirei.all.pillar_accuracy": 0.1}})
    append_run(runs, {"run_id": "run-b", "started_at": "2026-11-02T00:00:00Z", "model_version": version,
                      "figures": figures})
    append_run(runs, {"run_id": "other", "started_at": "2026-11-03T00:00:00Z", "model_version": "another-1",
                      "figures": {"classification.jirei.all.pillar_accuracy": 0.99}})
    html = client_for(create_app(db, secret_key=SECRET, runs_file=runs), "ben").get("/dashboard").text
    panel = html[html.index('id="model"'):html.index("レビュアー Reviewers")]
    assert f"<code>{version}</code>" in panel
    assert f'<strong id="corrections-used">0</strong> of them reviewer corrections' in panel
    assert "<td>pillar accuracy</td><td class=\"num\">0.689</td>" in panel
    assert "<td>action items micro F1</td><td class=\"num\">0.578</td>" in panel
    assert "from evaluation run run-b" in panel and "0.990" not in panel
    with Store(db) as store:
        n = store.case_count()
    assert f"Pillars set by this model: {n} cases." in " ".join(panel.split())

    html = client_for(create_app(db, secret_key=SECRET, runs_file=tmp_path / "none.jsonl"), "ben").get("/dashboard").text
    assert "No evaluation run of this version yet" in html


def test_admin_pages_are_for_admins(app, db: Path):
    ben = client_for(app, "ben")
    assert ben.get("/admin/users").status_code == 403
    assert ben.get("/admin/export?format=csv").status_code == 403
    ana = client_for(app, "ana")
    csv_file = ana.get("/admin/export?format=csv&pillar=work")
    assert csv_file.status_code == 200 and csv_file.content.startswith(b"\xef\xbb\xbf")
    with Store(db) as store:
        n_work = store.queue_counts(CaseQuery(pillar="work"))["total"]
    rows = list(csv.DictReader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert len(rows) == n_work > 0 and {r["pillar"] for r in rows} == {"work"}
    page = ana.get("/admin/users").text
    response = ana.post("/admin/users", data={"csrf_token": csrf(page), "name": "dee", "role": "reviewer",
                                              "password": "dee-password-1"})
    assert response.status_code == 303
    USERS["dee"] = ("reviewer", "dee-password-1")
    try:
        assert client_for(app, "dee").get("/queue").status_code == 200
    finally:
        del USERS["dee"]
    ana.post("/admin/users/ben/active", data={"csrf_token": csrf(page), "active": "0"})
    assert ben.get("/queue").status_code == 303  # a disabled user's session ends at once
    short = ana.post("/admin/users", data={"csrf_token": csrf(page), "name": "eve", "role": "reviewer",
                                           "password": "short"})
    assert short.status_code == 422 and "at least 8" in short.text


# --- commands ------------------------------------------------------------------------------------


def test_users_add_reads_the_password_from_stdin_and_stores_an_argon2_hash(db: Path, monkeypatch, capsys):
    from jirei.webapp.__main__ import main
    from jirei.webapp.auth import verify_password

    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "fay", "--role", "admin", "--db", str(db)]) == 0
    assert "user fay (admin) added" in capsys.readouterr().out
    with Store(db) as store:
        user = store.user("fay")
    assert user["role"] == "admin" and user["password_hash"].startswith("$argon2id$")
    assert verify_password(user["password_hash"], "a-long-password")
    assert "a-long-password" not in user["password_hash"]
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "gus", "--db", str(db)]) == 2
    assert main(["users", "add", "batch", "--db", str(db)]) == 2
    assert main(["users", "add", "model@x", "--db", str(db)]) == 2
    assert main(["users", "list", "--db", str(db)]) == 0
    assert "fay\tadmin\tactive" in capsys.readouterr().out


def test_serve_binds_to_loopback_by_default():
    import argparse

    from jirei.webapp.commands import add_webapp_parsers

    parser = argparse.ArgumentParser()
    add_webapp_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.db, args.https_only) == ("127.0.0.1", 8000, "jirei.db", False)


def test_session_key_is_kept_beside_the_store(db: Path):
    from jirei.webapp.auth import session_secret

    key, where = session_secret(db)
    assert where == f"{db}.session-key" and len(key) > 40
    assert Path(where).stat().st_mode & 0o777 == 0o600
    assert session_secret(db)[0] == key


# --- exports are spreadsheet-safe -------------------------------------------------------------------


def test_admin_exports_never_write_a_formula(app, db: Path):
    """An organisation a reviewer typed that reads like a formula: the admin's CSV has it with a
    leading `'`, the XLSX as a string cell (openpyxl reads no formula back)."""
    from openpyxl import load_workbook

    formula = '=HYPERLINK("http://evil.example/","click")'
    ben, ana = client_for(app, "ben"), client_for(app, "ana")
    record = first_case(db)
    url = f"/case/{record['case_id']}"
    saved = ben.post(f"{url}/save", data=case_form(record, ben.get(url).text, org_new=formula, org_keep=[]))
    assert saved.status_code == 303
    assert stored(db, record["case_id"])[0]["organisations"][0]["name"] == formula

    rows = {r["case_id"]: r for r in csv.DictReader(io.StringIO(
        ana.get("/admin/export?format=csv").content.decode("utf-8-sig")))}
    assert rows[record["case_id"]]["organisations"] == "'" + formula
    assert not [v for r in rows.values() for v in r.values() if v and v[0] in "=+-@\t\r"]

    xlsx = ana.get("/admin/export?format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == record["case_id"])
    cell = row[header.index("organisations")]
    assert cell.value == formula and cell.data_type == "s"
    assert not [c for r in sheet.iter_rows() for c in r if c.data_type == "f"]


# --- typed work is never lost ---------------------------------------------------------------------


def test_a_refused_save_shows_the_form_as_it_was_sent(app, db: Path):
    client = client_for(app, "ben")
    with Store(db) as store:
        record = next(r for r in store.query_cases(CaseQuery(order="queue"))[0]
                      if len(r["organisations"]) >= 2 and r["places"] and r["years"])
    url = f"/case/{record['case_id']}"
    html = client.get(url).text
    pillar = other_pillar(record["pillar"]["label"])
    items = sorted({3, 7} ^ {a["item"] for a in record["action_items"]})
    form = case_form(record, html, pillar=pillar, item=[str(i) for i in items], year_new="20225",
                     note="境界は次の段落まで", org_new="上田市商工会", org_keep=["1"],
                     org_name_1=record["organisations"][1]["name"] + "（改）")
    response = client.post(f"{url}/save", data=form)
    assert response.status_code == 422 and "「20225」 is not a calendar year" in response.text
    page = response.text
    assert stored(db, record["case_id"])[0]["version"] == record["version"]  # nothing saved
    assert re.search(rf'value="{pillar}" data-key="\d" checked', page)
    assert sorted(int(i) for i in re.findall(r'name="item" value="(\d+)"[^>]*checked', page)) == items
    assert 'placeholder="note for other reviewers">境界は次の段落まで</textarea>' in page
    assert 'name="org_new" id="org-new" value="上田市商工会"' in page
    assert 'name="year_new" id="year-new" value="20225"' in page
    assert 'name="org_keep" value="0" aria-label' in page  # the row the reviewer unticked stays unticked
    assert 'name="org_keep" value="1" checked' in page
    assert f'name="org_name_1" value="{record["organisations"][1]["name"]}（改）"' in page
    # the page as shown, with the year corrected, saves what was typed
    again = case_form(record, page, pillar=pillar, item=[str(i) for i in items], year_new="2025",
                      note="境界は次の段落まで", org_new="上田市商工会", org_keep=["1"],
                      org_name_1=record["organisations"][1]["name"] + "（改）")
    assert client.post(f"{url}/save", data=again).status_code == 303
    case, _ = stored(db, record["case_id"])
    assert 2025 in case["years"] and case["notes"][-1]["text"] == "境界は次の段落まで"
    assert [o["name"] for o in case["organisations"]] == [record["organisations"][1]["name"] + "（改）", "上田市商工会"]


def _age_session(db: Path, token: str, seconds: int) -> None:
    """Move the last request of the session with this cookie token `seconds` into the past (as if
    the reviewer had left)."""
    from datetime import datetime, timedelta, timezone

    from jirei.webapp.auth import token_hash

    at = (datetime.now(timezone.utc) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds")
    with Store(db) as store:
        store.touch_session(token_hash(token), at)


def test_a_save_sent_after_the_session_expired_is_restored_after_login(app, db: Path):
    client = client_for(app, "ben")
    record = first_case(db)
    url = f"/case/{record['case_id']}"
    html = client.get(url + "?pillar=" + record["pillar"]["label"]).text
    pillar = other_pillar(record["pillar"]["label"])
    _age_session(db, client.cookies.get("jirei_session"), 3 * 3600)  # longer than the idle limit
    form = case_form(record, html, pillar=pillar, note="長い確認のあとのメモ", org_new="信濃毎日新聞社")
    response = client.post(f"{url}/save", data=form)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=") and "reason=kept" in location and "/save" not in location
    assert stored(db, record["case_id"])[0]["version"] == record["version"]  # nothing written to the case
    login = client.get(location)
    assert "your edit is kept" in login.text
    next_value = re.search(r'name="next" value="([^"]*)"', login.text).group(1)
    assert next_value == f"/case/{record['case_id']}?pillar={record['pillar']['label']}"

    cy = client_for(app, "cy")  # another reviewer never sees it
    assert "復元しました" not in cy.get(url).text
    back = client.post("/login", data={"name": "ben", "password": USERS["ben"][1], "csrf_token": csrf(login.text),
                                       "next": next_value})
    assert back.status_code == 303 and back.headers["location"] == next_value
    page = client.get(next_value)
    assert page.status_code == 200 and "Method Not Allowed" not in page.text
    assert 'id="restored"' in page.text and "Nothing of it is saved yet" in page.text
    assert re.search(rf'value="{pillar}" data-key="\d" checked', page.text)
    assert ">長い確認のあとのメモ</textarea>" in page.text and 'value="信濃毎日新聞社"' in page.text
    assert client.post(f"{url}/save", data=case_form(record, page.text, pillar=pillar, note="長い確認のあとのメモ",
                                                      org_new="信濃毎日新聞社")).status_code == 303
    case, _ = stored(db, record["case_id"])
    assert case["pillar"]["label"] == pillar and case["notes"][-1]["text"] == "長い確認のあとのメモ"
    assert "信濃毎日新聞社" in [o["name"] for o in case["organisations"]]
    assert 'id="restored"' not in client.get(url).text  # shown once


def test_a_form_without_any_session_cookie_says_it_was_not_saved(app, db: Path):
    record = first_case(db)
    response = client_for(app).post(f"/case/{record['case_id']}/save", data={"pillar": "work"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Fcase%2F{record['case_id']}&reason=lost"
    assert "what you sent was not saved" in client_for(app).get(response.headers["location"]).text


# --- sessions ---------------------------------------------------------------------------------------


def test_logout_ends_the_session_even_for_a_copied_cookie(app, db: Path):
    from jirei.webapp.auth import token_hash

    client = client_for(app, "ben")
    token = client.cookies.get("jirei_session")
    with Store(db) as store:
        row = store.session(token_hash(token))
    assert row["user"] == "ben" and row["client"] == "testclient" and token not in str(row)
    copy = TestClient(app, follow_redirects=False, cookies={"jirei_session": token})
    assert copy.get("/queue").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client.get("/queue").text)})
    assert copy.get("/queue").status_code == 303
    assert copy.get("/queue").headers["location"].startswith("/login?next=")
    with Store(db) as store:
        assert store.session(token_hash(token)) is None


def test_a_new_password_or_disabling_ends_the_users_other_sessions(app, db: Path, monkeypatch, capsys):
    from jirei.webapp.__main__ import main

    ana, ana2, ben, ben2 = (client_for(app, n) for n in ("ana", "ana", "ben", "ben"))
    page = ana.get("/admin/users").text
    assert ana.post("/admin/users", data={"csrf_token": csrf(page), "name": "ben", "role": "reviewer",
                                          "password": "ben-new-password"}).status_code == 303
    assert "2 session(s) of ben ended" in ana.get("/admin/users").text
    assert ben.get("/queue").status_code == 303 and ben2.get("/queue").status_code == 303
    # an admin setting her own password keeps the session she does it from, not her others
    page = ana.get("/admin/users").text
    ana.post("/admin/users", data={"csrf_token": csrf(page), "name": "ana", "role": "admin",
                                   "password": USERS["ana"][1] + "x"})
    assert ana.get("/queue").status_code == 200 and ana2.get("/queue").status_code == 303
    # `jirei users add` sets a password again: sessions end there too
    cy = client_for(app, "cy")
    monkeypatch.setattr("sys.stdin", io.StringIO("cy-new-password\n"))
    assert main(["users", "add", "cy", "--db", str(db)]) == 0
    assert "1 session(s) ended" in capsys.readouterr().out
    assert cy.get("/queue").status_code == 303
    # disabling ends every session at once, and a login session is never made for a disabled user
    from jirei.webapp.auth import hash_password

    with Store(db) as store:
        store.add_user("dee", "reviewer", hash_password("dee-pass-1"))
    USERS["dee"] = ("reviewer", "dee-pass-1")
    try:
        dee = client_for(app, "dee")
        ana.post("/admin/users/dee/active", data={"csrf_token": csrf(ana.get("/admin/users").text), "active": "0"})
        assert dee.get("/queue").status_code == 303
        with Store(db) as store:
            assert store.user_sessions("dee") == []
    finally:
        del USERS["dee"]


def test_idle_and_old_sessions_expire(app, db: Path):
    client = client_for(app, "ben")
    assert client.get("/queue").status_code == 200
    _age_session(db, client.cookies.get("jirei_session"), 2 * 3600 + 5)
    ended = client.get("/queue?pillar=work")
    assert ended.status_code == 303
    assert ended.headers["location"] == "/login?next=%2Fqueue%3Fpillar%3Dwork&reason=ended"
    assert "Your session has ended" in client.get(ended.headers["location"]).text
    assert client.get("/api/places?q=松本").status_code == 401
    # a session is over `session_max_age` after login, however busy
    aged = client_for(create_app(db, secret_key=SECRET, session_max_age=0), "ben")
    assert aged.get("/queue").status_code == 303


def test_logins_are_throttled_per_address_and_never_lock_the_owner_out_elsewhere(app):
    attacker = TestClient(app, follow_redirects=False, client=("192.0.2.7", 40000))
    token = csrf(attacker.get("/login").text)
    codes = [attacker.post("/login", data={"name": "ben", "password": f"guess-{i}", "csrf_token": token}).status_code
             for i in range(6)]
    assert codes == [401] * 5 + [429]
    owner = TestClient(app, follow_redirects=False, client=("198.51.100.3", 40001))
    good = owner.post("/login", data={"name": "ben", "password": USERS["ben"][1],
                                      "csrf_token": csrf(owner.get("/login").text)})
    assert good.status_code == 303  # the name is slowed only from the guessing address
    # one address trying many names is slowed too
    sprayer = TestClient(app, follow_redirects=False, client=("203.0.113.9", 40002))
    token = csrf(sprayer.get("/login").text)
    codes = [sprayer.post("/login", data={"name": f"user{i}", "password": "Password1", "csrf_token": token}).status_code
             for i in range(21)]
    assert codes == [401] * 20 + [429]
    late = sprayer.post("/login", data={"name": "ana", "password": USERS["ana"][1], "csrf_token": token})
    assert late.status_code == 429 and "from your address" in late.text


def test_logged_in_pages_are_not_cached_and_https_only_adds_hsts(app, db: Path):
    client = client_for(app, "ben")
    case_id = first_case_id(app)
    for url in ("/queue", f"/case/{case_id}", "/dashboard", "/api/places?q=松本"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store", url
        assert "strict-transport-security" not in response.headers
    secure = TestClient(create_app(db, secret_key=SECRET, https_only=True), base_url="https://testserver")
    assert secure.get("/login").headers["strict-transport-security"] == "max-age=31536000"


# --- the last admin -------------------------------------------------------------------------------


def test_the_last_admin_cannot_be_demoted_or_disabled(app, db: Path, monkeypatch, capsys):
    from jirei.store import LastAdminError
    from jirei.webapp.__main__ import main

    ana = client_for(app, "ana")
    page = ana.get("/admin/users").text
    demote = ana.post("/admin/users", data={"csrf_token": csrf(page), "name": "ana", "role": "reviewer",
                                            "password": USERS["ana"][1]})
    assert demote.status_code == 422 and "ana is the last active admin" in demote.text
    with Store(db) as store:
        assert store.user("ana")["role"] == "admin"
        with pytest.raises(LastAdminError):
            store.set_user_active("ana", False)
        with pytest.raises(LastAdminError):
            store.add_user("ana", "reviewer", store.user("ana")["password_hash"])
        assert store.user("ana")["role"] == "admin"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "ana", "--role", "reviewer", "--db", str(db)]) == 2
    assert main(["users", "disable", "ana", "--db", str(db)]) == 2
    assert "ana is the last active admin" in capsys.readouterr().err
    # with a second admin, one of them may go; then the other is the last
    ana.post("/admin/users", data={"csrf_token": csrf(page), "name": "ben", "role": "admin",
                                   "password": USERS["ben"][1]})
    ben = client_for(app, "ben")
    assert ben.post("/admin/users/ana/active", data={"csrf_token": csrf(ben.get("/admin/users").text),
                                                     "active": "0"}).status_code == 303
    refused = ben.post("/admin/users", data={"csrf_token": csrf(ben.get("/admin/users").text), "name": "ben",
                                             "role": "reviewer", "password": USERS["ben"][1]})
    assert refused.status_code == 422 and "ben is the last active admin" in refused.text
    with Store(db) as store:
        assert [u["name"] for u in store.users() if u["role"] == "admin" and u["active"]] == ["ben"]


# --- the queue's end ------------------------------------------------------------------------------


def test_saving_a_reviewed_case_goes_on_to_an_unreviewed_one_and_complete_means_complete(app, db: Path):
    ana, ben = client_for(app, "ana"), client_for(app, "ben")
    record = first_case(db)
    url = f"/case/{record['case_id']}"
    ben.post(f"{url}/save", data=case_form(record, ben.get(url).text))
    # the case is reviewed now: it sits at the end of the queue, and its page offers no next case
    html = ben.get(url).text
    assert re.search(r'name="next" value=""', html)
    again = ben.post(f"{url}/save", data=case_form(stored(db, record["case_id"])[0], html, pillar="work"))
    head = first_case(db, reviewed=False)["case_id"]
    assert again.status_code == 303 and again.headers["location"].startswith(f"/case/{head}?")
    # re-saving after a conflict goes on the same way
    page_a = ana.get(url).text
    ben.post(f"{url}/save", data=case_form(stored(db, record["case_id"])[0], ben.get(url).text, pillar="live"))
    conflict = ana.post(f"{url}/save", data=case_form(stored(db, record["case_id"])[0], page_a, pillar="nurture"))
    assert conflict.status_code == 409
    resaved = ana.post(f"{url}/save", data=case_form(stored(db, record["case_id"])[0], conflict.text,
                                                     pillar="nurture"))
    assert resaved.status_code == 303 and resaved.headers["location"].startswith(f"/case/{head}?")
    assert "このキューは完了です" not in ana.get(resaved.headers["location"]).text
    # a filtered queue reviewed to its end: only then is it called complete
    with Store(db) as store:
        ids = store.iter_case_ids(CaseQuery(search="セブン&アイ"))
    assert 1 <= len(ids) <= 5
    location = ""
    for case_id in ids:
        page = ben.get(f"/case/{case_id}?q=セブン%26アイ").text
        response = ben.post(f"/case/{case_id}/save", data=case_form(stored(db, case_id)[0], page))
        location = response.headers["location"]
    with Store(db) as store:
        assert store.queue_counts(CaseQuery(search="セブン&アイ", reviewed=False))["total"] == 0
    assert location.startswith("/queue?")
    assert "Queue complete" in ben.get(location).text
