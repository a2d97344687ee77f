"""Span editing and boundary edits in real Chromium (Debian's /usr/bin/chromium via Playwright),
over the seed store of the other browser tests and a real newsletter PDF: select text to add
organisations, places and years (several in one save; Enter never submits the case), click a
highlight to resize, relabel or delete it, edit the title, split at a selection and merge with
the next case, undo both, and the case's region drawn on its page image."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from jirei.store import CaseQuery, Store
from jirei.webapp import create_app
from jirei.webapp.sample_store import add_users, build_store
from jirei.webapp.server_thread import serving

from browser_js import SELECT_RANGE as SELECT
from test_webapp import SECRET, USERS
from test_webapp_browser import CHROMIUM, base_url, browser, case_id_of, db, new_page, template_db  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (apt-get install chromium)"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def select(page, text: str, surface: str, nth: int = 0) -> tuple[int, int]:
    at = -1
    for _ in range(nth + 1):
        at = text.index(surface, at + 1)
    page.evaluate(SELECT, [at, at + len(surface)])
    return at, at + len(surface)


def seven_eleven(db_path: Path) -> dict:
    with Store(db_path) as store:
        return next(r for r in store.query_cases(CaseQuery())[0] if r["title"].startswith("① セブン&アイ"))


def test_several_span_edits_in_one_save(browser, base_url: str, db: Path):  # noqa: F811
    record = seven_eleven(db)
    text, base = record["text"], record["span"][0]
    page = new_page(browser, base_url, "ben")
    page.goto(f"{base_url}/case/{record['case_id']}")
    url = page.url

    # relabel: the place 長野県上田市 becomes an organisation (a government)
    page.locator('#case-text mark[data-refs="place:0"]').click()
    assert page.locator("#span-editor").is_visible()
    page.select_option("#span-editor-label", "org")
    page.keyboard.press("Escape")
    assert page.locator('#case-text mark.hl-org', has_text="長野県上田市").count() == 1
    page.locator("#org-rows .entity-row.new select[name^=new_kind_]").last.select_option("government")

    # resize: the lead's highlight one character shorter at its end
    page.locator('#case-text mark[data-refs="org:0"]').first.click()
    page.locator("#span-editor [data-resize='end:-1']").click()
    page.keyboard.press("Escape")

    # delete: the year 2020
    page.locator("#case-text mark.hl-year", has_text="2020年").click()
    page.locator("#span-editor-delete").click()
    assert page.locator("#case-text mark.hl-year", has_text="2020年").count() == 0

    # add by selecting: two organisations, a place, a year; Enter in a field does not submit
    ito = select(page, text, "イトーヨーカドー")
    page.keyboard.press("o")
    seven = select(page, text, "セブン-イレブン")
    page.locator("#span-tools [data-add='org']").click()  # the selection toolbar does the same
    kind = page.locator("#org-rows .entity-row.new select[name^=new_kind_]").last
    kind.select_option("company")
    page.locator("#org-rows .entity-row.new select[name^=new_role_]").last.select_option("partner")
    nagano = select(page, text, "長野県")
    page.keyboard.press("p")
    year = select(page, text, "2020年")
    page.keyboard.press("y")
    page.locator("#org-rows .entity-row.new input[name^=new_value_]").first.press("Enter")
    page.locator("#title-input").press("Enter")
    assert page.url == url and "Enter does not save" in page.locator("#toast").inner_text()
    page.keyboard.press("Escape")  # leave the field: keys act on the case again
    assert page.locator("#case-text mark.hl-org").count() >= 4  # drawn again with the new rows
    page.keyboard.press("s")
    page.wait_for_url(re.compile(r".*/case/.*back=.*|.*/save$"))
    assert page.locator(".errors").count() == 0, page.locator(".errors").inner_text()
    assert f"back={record['case_id']}" in page.url

    with Store(db) as store:
        case = store.case(record["case_id"])
    orgs = {o["name"]: o for o in case["organisations"]}
    lead = record["organisations"][0]
    resized = orgs[lead["name"][:-1]]
    assert resized["span"] == [lead["span"][0], lead["span"][1] - 1] and resized["role"] == "lead"
    assert resized["kind"] == "company" and resized["source"] == "reviewer:ben"
    assert orgs["イトーヨーカドー"]["span"] == [base + ito[0], base + ito[1]]
    assert orgs["セブン-イレブン"] == {"name": "セブン-イレブン", "text": "セブン-イレブン", "role": "partner", "kind": "company",
                                 "source": "reviewer:ben", "reviewer": "ben", "span": [base + seven[0], base + seven[1]]}
    assert orgs["長野県上田市"]["kind"] == "government" and orgs["長野県上田市"]["span"] == record["places"][0]["span"]
    assert [p["code"] for p in case["places"]] == ["200000"]  # 長野県, coded; 上田市 became an organisation
    assert case["places"][0]["span"] == [base + nagano[0], base + nagano[1]]
    assert case["places"][0]["source"] == "reviewer:ben"
    added_year = [m for m in case["year_mentions"] if m.get("source") == "reviewer:ben"]
    assert [(m["year"], m["span"]) for m in added_year] == [(2020, [base + year[0], base + year[1]])]
    assert 2020 in case["years"] and 2001 in case["years"]
    # one save: every change is one history group, undone together
    entries = [h for h in store_history(db, record["case_id"]) if h["who"] == "ben"]
    assert {"organisations", "places", "year_mentions"} <= {h["field"] for h in entries}
    assert len({h["note"] for h in entries}) == 1
    page.context.close()


def store_history(db_path: Path, case_id: str) -> list[dict]:
    with Store(db_path) as store:
        return store.history(case_id)


def test_title_edit_split_at_selection_merge_and_undo(browser, base_url: str, db: Path):  # noqa: F811
    record = seven_eleven(db)
    page = new_page(browser, base_url, "ben")
    page.goto(f"{base_url}/case/{record['case_id']}")
    # the title: Enter keeps the page; s saves it with the labels
    page.keyboard.press("e")
    page.keyboard.press("Control+a")
    page.keyboard.type("セブン&アイ:移動販売と見守り")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.keyboard.press("s")
    page.wait_for_url(re.compile(rf".*back={record['case_id']}.*"))
    with Store(db) as store:
        assert store.case(record["case_id"])["title"] == "セブン&アイ:移動販売と見守り"

    # split where the selection starts
    page.goto(f"{base_url}/case/{record['case_id']}")
    at = record["text"].index("また、冷蔵機能")
    page.evaluate(SELECT, [at, at + 5])
    with page.expect_navigation():
        page.keyboard.press("l")
    first = case_id_of(page.url)
    assert first != record["case_id"] and "Split" in page.locator(".flash").first.inner_text()
    with Store(db) as store:
        origin = store.boundary_origin(first)
        second = store.case(origin["made"][1])
        assert store.superseded(record["case_id"])["by"] == origin["made"]
    assert second["text"].startswith("また、冷蔵機能") and second["title"].startswith("また、冷蔵機能")
    assert page.locator("#case-title").inner_text() == "セブン&アイ:移動販売と見守り"
    assert "made by split" in page.locator("#history").inner_text()

    # the replaced case says so and links to its parts
    page.goto(f"{base_url}/case/{record['case_id']}")
    assert page.locator("#superseded").is_visible()
    page.locator(f"#superseded a[href^='/case/{first}']").click()
    page.wait_for_url(re.compile(rf".*/case/{first}.*"))

    # merge the first part with the next case (the second part), then undo the merge and the split
    assert second["title"][:20] in page.locator("#merge-button").inner_text()
    with page.expect_navigation():
        page.keyboard.press("g")
    merged = case_id_of(page.url)
    with Store(db) as store:
        assert store.case(merged)["text"] == record["text"]  # the two parts back in one case
    with page.expect_navigation():
        page.keyboard.press("u")
    assert "Undone: the merge" in page.locator(".flash").first.inner_text()
    assert case_id_of(page.url) == first
    with page.expect_navigation():
        page.keyboard.press("u")
    assert "Undone: the split" in page.locator(".flash").first.inner_text()
    assert case_id_of(page.url) == record["case_id"]
    with Store(db) as store:
        ids = [r["case_id"] for r in store.query_cases(CaseQuery(doc_id=record["doc_id"]))[0]]
        assert record["case_id"] in ids and first not in ids and merged not in ids
    page.context.close()


def test_secondary_pillar_equal_to_primary_is_refused_with_a_message(browser, base_url: str, db: Path):  # noqa: F811
    record = seven_eleven(db)
    page = new_page(browser, base_url, "ben")
    page.goto(f"{base_url}/case/{record['case_id']}")
    primary = page.locator("input[name=pillar]:checked")
    key = page.locator(f"input[name=secondary][value='{primary.get_attribute('value')}']").get_attribute("data-key")
    page.keyboard.press(key)
    assert "Refused" in page.locator("#toast").inner_text()
    assert not page.locator(f"input[name=secondary][data-key='{key}']").is_checked()
    # markup drawn, every item scored
    assert page.locator("#case-text .md-mark").count() == 0 or not page.locator("#case-text .md-mark").first.is_visible()
    assert page.locator("fieldset.items .score").all_inner_texts().count("") == 0
    page.context.close()


@pytest.fixture(scope="module")
def pdf_db(tmp_path_factory, pdfs_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("spans-pdf")
    pdf = folder / "otoineppu_kouhou_2023-09.pdf"
    shutil.copy(pdfs_dir / pdf.name, pdf)
    db_path = folder / "jirei.db"
    build_store(db_path, [pdf])
    add_users(db_path, {"ben": USERS["ben"]})
    return db_path


def test_page_image_marks_the_case_region(browser, pdf_db: Path):
    with Store(pdf_db) as store:
        record = next(r for r in store.query_cases(CaseQuery())[0] if r["page"] and r["page"] > 1)
        boxes = store.page_boxes(record["doc_id"], record["page"])
    inside = [ln for ln in boxes["lines"] if ln[0] < record["span"][1] and ln[1] > record["span"][0]]
    assert inside and len(inside) < len(boxes["lines"])
    with serving(create_app(pdf_db, secret_key=SECRET)) as url:
        page = new_page(browser, url, "ben")
        page.goto(f"{url}/case/{record['case_id']}")
        img = page.locator("#page-figure img")
        img.evaluate("i => i.complete || new Promise(r => i.onload = r)")
        assert page.locator("#page-region rect.region-line").count() == len(inside)
        fig, outline = img.bounding_box(), page.locator("#page-region rect.region-outline").bounding_box()
        # the outline sits on the image, where the case's lines are (PDF points scaled to the image)
        scale = fig["width"] / boxes["width"]
        top = min(ln[3] for ln in inside)
        assert fig["x"] <= outline["x"] and outline["x"] + outline["width"] <= fig["x"] + fig["width"] + 1
        assert abs(outline["y"] - (fig["y"] + (top - 3) * scale)) < 2
        assert outline["height"] < fig["height"]
        page.context.close()
