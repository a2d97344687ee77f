"""Assignment, blind double labelling, agreement, adjudication, bulk actions and the queue's
filters in real Chromium (Debian's /usr/bin/chromium driven by Playwright), served by uvicorn on
a loopback port over a store built from the seeds: an admin assigns a document's cases with an
overlap share, each reviewer works through their queue, the second reviewer labels blind, the
dashboard shows kappa, the admin adjudicates; bulk accept / set pillar with a conflict; filters,
sorts and the URL as a saved view; search hits highlighted."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from jirei.store import CaseQuery, Store
from jirei.webapp.dashboard import blind_agreement
from jirei.webapp.labels import review_changes

from test_webapp_browser import (CHROMIUM, PILLAR_KEYS, base_url, browser, checked_pillar, db,  # noqa: F401
                                 new_page, template_db)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (apt-get install chromium)"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def first_document(db: Path) -> tuple[str, list[str]]:
    """The document with the most unreviewed cases, and the first four of its queue in case-id
    order: the order in which assignment takes turns between reviewers."""
    with Store(db) as store:
        docs = sorted((d for d in store.documents() if d["status"] == "done"), key=lambda d: -d["n_cases"])
        doc = docs[0]["doc_id"]
        rows = store.queue_page(CaseQuery(doc_id=doc, order="queue", limit=4))
    return doc, sorted(r["case_id"] for r in rows)


def test_assign_my_queue_blind_second_labelling_kappa_and_adjudication(browser, base_url: str, db: Path):
    doc, ids = first_document(db)
    admin = new_page(browser, base_url, "ana")
    admin.goto(f"{base_url}/queue?doc={doc[:12]}")
    admin.click("#assign-link")
    admin.wait_for_url(re.compile(r".*/admin/assign\?doc="))
    admin.check("input[name=reviewer][value=ben]")
    admin.check("input[name=reviewer][value=cy]")
    admin.fill("#assign-limit", "4")
    admin.fill("#assign-overlap", "100")
    admin.click("#assign-button")
    admin.wait_for_selector(".flash")
    assert "Assigned 4 cases to ben, cy; 4 of them also go blind" in admin.locator(".flash").first.inner_text()
    # in turn: ben first on ids[0], ids[2] (cy blind), cy first on ids[1], ids[3] (ben blind)

    cy = new_page(browser, base_url, "cy")
    cy.click("#my-queue-link")
    cy.wait_for_url(re.compile(r".*mine=1"))
    mine = cy.locator("#queue-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.case)")
    assert sorted(mine) == sorted(ids)
    assert cy.locator("#queue-table tbody tr .badge.blind").count() == 2
    first_labels = {ids[1]: "work", ids[3]: "live"}
    for case_id, pillar in first_labels.items():
        cy.goto(f"{base_url}/case/{case_id}?mine=1")
        cy.keyboard.press(PILLAR_KEYS[pillar])
        cy.keyboard.press("s")
        cy.wait_for_url(lambda url, here=case_id: f"/case/{here}" not in url)  # on to the next in her queue
        assert "Saved" in cy.locator(".flash").first.inner_text()
    with Store(db) as store:
        cy_items = {c: [a["item"] for a in store.case(c)["action_items"]] for c in first_labels}

    ben = new_page(browser, base_url, "ben")
    ben.goto(f"{base_url}/case/{ids[1]}")  # the case page of a blind case sends ben to the blind page
    ben.wait_for_url(f"{base_url}/blind/{ids[1]}")
    assert ben.locator("input[name=pillar]:checked").count() == 0  # nothing of cy's labels
    assert ben.locator("input[name=item]:checked").count() == 0
    assert "cy" not in ben.locator("main").inner_text()
    ben.check("input[name=pillar][value=work]")
    for n in cy_items[ids[1]]:
        ben.check(f"input[name=item][value='{n}']")
    ben.click("#blind-save")
    ben.wait_for_selector(".flash")
    assert "Blind label saved" in ben.locator(".flash").first.inner_text()
    ben.goto(f"{base_url}/blind/{ids[3]}")
    ben.keyboard.press(PILLAR_KEYS["nurture"])  # by keyboard, as on the case page (cy said live)
    assert ben.locator("input[name=pillar]:checked").get_attribute("value") == "nurture"
    ben.keyboard.press("s")
    ben.wait_for_selector(".flash")
    with Store(db) as store:
        assert store.blind_pair(ids[1])["status"] == "agree"
        assert store.blind_pair(ids[3])["status"] == "disagree"
        assert store.case(ids[3])["pillar"]["label"] == "live"  # the blind label never touched the case
        expected = blind_agreement(store.blind_pairs())
    from sklearn.metrics import cohen_kappa_score

    assert expected["kappa"] == pytest.approx(cohen_kappa_score(["work", "live"], ["work", "nurture"]), abs=1e-3)

    admin.goto(f"{base_url}/dashboard")
    assert admin.locator("#blind-cases").inner_text() == "2"
    assert admin.locator("#blind-kappa").inner_text() == f"{expected['kappa']:.3f}"
    work_row = admin.locator("#kappa-pillars tr[data-pillar=work]").inner_text()
    assert "2" in work_row  # n = 2 cases behind the figure
    assert admin.locator("#kappa-items tr[data-item]").count() == 10
    assert admin.locator("#open-disagreements").inner_text() == "1"
    # region values on the map: a marker with the region's case count (the seeds name 関西)
    with Store(db) as store:
        regions = store.region_places()
    kansai = admin.locator("#japan-map .region-marker[data-region=関西]")
    assert kansai.count() == 1 and kansai.get_attribute("data-count") == str(regions["関西"]["cases"])
    assert "大阪府" in kansai.locator("title").text_content()

    admin.click("#open-disagreements")
    admin.wait_for_url(f"{base_url}/adjudicate")
    assert admin.locator("#disagreements tbody tr").count() == 1
    admin.click(f"#disagreements a[href='/adjudicate/{ids[3]}']")
    assert "live" not in admin.locator("#side-b").inner_text()
    assert "育む" in admin.locator("#side-b").inner_text() and "住む" in admin.locator("#side-a").inner_text()
    admin.click("#take-b")
    admin.wait_for_selector(".flash")
    assert "Adjudicated" in admin.locator(".flash").first.inner_text()
    with Store(db) as store:
        record = store.case(ids[3])
        assert record["pillar"]["label"] == "nurture" and record["sources"]["pillar"] == ["reviewer:ana"]
        assert any(h["who"] == "ana" and h["field"] == "pillar" and (h["note"] or "").startswith("adjudicate")
                   for h in store.history(ids[3]))
        assert store.blind_pair(ids[3])["status"] == "adjudicated"
    # the case page shows the adjudicated label; the blind label stays out of its history
    admin.goto(f"{base_url}/case/{ids[3]}")
    assert checked_pillar(admin) == "nurture"
    assert "blind_label" not in admin.locator("#history").inner_text()
    for p in (admin, cy, ben):
        p.context.close()


def test_bulk_accept_and_set_pillar_report_a_conflict(browser, base_url: str, db: Path):
    page = new_page(browser, base_url, "ana")
    rows = page.locator("#queue-table tbody tr")
    ids = rows.evaluate_all("rows => rows.slice(0, 3).map(r => r.dataset.case)")
    # x ticks the selected row; j moves down
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.locator(f"#queue-table tr[data-case='{ids[2]}'] input[name=sel]").check()
    assert page.locator("#selected-count").inner_text() == "3"
    with Store(db) as store:  # cy saves the second case after ana's queue page was shown
        version = store.case(ids[1])["version"]
        store.set_fields(ids[1], {**review_changes("interact", None, [], "cy"), "review_status": "reviewed"}, "cy",
                         source="reviewer:cy", expected_version=version, note="save by cy")
    page.select_option("#bulk-pillar", "nurture")
    page.click("#bulk-pillar-button")
    page.wait_for_selector(".flash")
    flashes = page.locator(".flash").all_inner_texts()
    assert any("set pillar 育む on 2 of 3 selected cases" in f for f in flashes)
    assert any(f"Conflict, not written: {ids[1]} was changed by cy" in f for f in flashes)
    with Store(db) as store:
        for c in (ids[0], ids[2]):
            record = store.case(c)
            assert record["pillar"]["label"] == "nurture" and record["review_status"] == "reviewed"
            assert record["sources"]["pillar"] == ["reviewer:ana"]
            notes = {h["note"] for h in store.history(c) if h["who"] == "ana"}
            assert len(notes) == 1  # one change per case, its entries sharing one note
        assert store.case(ids[1])["pillar"]["label"] == "interact"

    page.goto(f"{base_url}/queue?reviewed=no")
    todo = page.locator("#queue-table tbody tr").evaluate_all("rows => rows.slice(0, 2).map(r => r.dataset.case)")
    with Store(db) as store:
        model = {c: store.case(c)["pillar"]["label"] for c in todo}
    page.check("#select-all")
    assert page.locator("#selected-count").inner_text() == str(page.locator("#queue-table tbody tr").count())
    page.locator("#queue-table input[name=sel]").evaluate_all(
        "(boxes, keep) => boxes.forEach(b => { b.checked = keep.includes(b.value.split(':')[0]); })", todo)  # two
    page.click("#bulk-accept")
    page.wait_for_selector(".flash")
    assert "accepted the model's labels of 2 of 2 selected cases" in page.locator(".flash").first.inner_text()
    with Store(db) as store:
        for c in todo:
            record = store.case(c)
            assert record["pillar"]["label"] == model[c] and record["pillar"]["source"] == "reviewer"
            assert record["review_status"] == "reviewed"
    page.context.close()


def test_filters_sort_saved_view_in_the_url_and_search_highlight(browser, base_url: str, db: Path):
    page = new_page(browser, base_url, "ben")
    page.fill("input[name=margin_max]", "0.9")
    page.fill("input[name=score_min]", "0.3")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*margin_max=0.9.*"))
    page.click("a.sort[data-sort=margin]")  # sort by margin, ascending
    page.wait_for_url(re.compile(r".*sort=margin.*"))
    view = page.url
    q = parse_qs(urlparse(view).query)
    assert q["margin_max"] == ["0.9"] and q["score_min"] == ["0.3"] and q["sort"] == ["margin"]
    margins = [float(t) for t in page.locator("#queue-table tbody td:nth-child(5)").all_inner_texts() if t.strip()]
    assert margins == sorted(margins) and max(margins) <= 0.9
    with Store(db) as store:
        expected = store.queue_counts(CaseQuery(margin_max=0.9, score_min=0.3))["total"]
    assert f"{expected} 件" in page.locator(".counts").inner_text()
    page.click("a.sort[data-sort=margin]")  # again: descending
    page.wait_for_url(re.compile(r".*sort=-margin.*"))
    margins = [float(t) for t in page.locator("#queue-table tbody td:nth-child(5)").all_inner_texts() if t.strip()]
    assert margins == sorted(margins, reverse=True)

    other = new_page(browser, base_url, "cy")  # the address is the view: another reviewer opens it
    other.goto(view)
    assert other.locator("input[name=margin_max]").input_value() == "0.9"
    assert other.locator("input[name=score_min]").input_value() == "0.3"
    assert "▲" in other.locator("a.sort[data-sort=margin]").inner_text()
    other.context.close()

    page.goto(f"{base_url}/queue")
    page.keyboard.press("/")
    page.keyboard.type("観光")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=.*"))
    marks = page.locator("#queue-table .snippet mark").all_inner_texts()
    assert marks and all(m == "観光" for m in marks)
    assert page.locator("#queue-table tbody tr").count() == page.locator("#queue-table tbody tr .snippet").count()
    page.context.close()
