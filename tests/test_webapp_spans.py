"""The case page's span editing and boundary routes in process (Starlette's test client) over
the seed store of test_webapp: markup drawn from the text's own characters, all ten item
scores, a secondary pillar equal to the primary refused, typed entries located in the text,
the title, and split / merge with their CSRF, version and position checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jirei.store import CaseQuery, Store

from test_webapp import app, case_form, client_for, csrf, db, first_case, stored, template_db, version_of  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def find(db_path: Path, test) -> dict:
    with Store(db_path) as store:
        return next(r for r in store.query_cases(CaseQuery())[0] if test(r))


def test_markup_is_drawn_and_its_marks_stay_in_the_text(app, db: Path):  # noqa: F811
    record = find(db, lambda r: re.search(r"^#{1,6} ", r["text"], re.M) and re.search(r"^- ", r["text"], re.M))
    html = client_for(app, "ben").get(f"/case/{record['case_id']}").text
    body = html[html.index('id="case-text"'):html.index('id="case-text-data"')]
    heading = re.search(r"^(#{1,6}) (.*)$", record["text"], re.M)
    assert f'<span class="md-line md-h{len(heading.group(1))}"><span class="md-mark">{heading.group(1)} </span>' in body
    assert '<span class="md-line md-li"><span class="md-mark">- </span>' in body
    # every character of the text is in the page, in order (offsets of selections hold)
    plain = re.sub(r"<[^>]+>", "", body.split(">", 1)[1]).replace("&amp;", "&").replace("&lt;", "<") \
        .replace("&gt;", ">").replace("&#34;", '"').replace("&#39;", "'")
    assert plain.startswith(record["text"])


def test_every_items_calibrated_score_is_shown(app, db: Path):  # noqa: F811
    record = first_case(db)
    html = client_for(app, "ben").get(f"/case/{record['case_id']}").text
    items = html[html.index('<fieldset class="items">'):html.index("</fieldset>", html.index('<fieldset class="items">'))]
    shown = [float(x) for x in re.findall(r'<span class="score">([0-9.]+)</span>', items)]
    assert len(shown) == 10 == len(record["item_scores"])
    by_item = {s["item"]: round(s["score"], 2) for s in record["item_scores"]}
    assert shown == [by_item[n] for n in range(1, 11)]


def test_secondary_pillar_equal_to_primary_is_refused(app, db: Path):  # noqa: F811
    client = client_for(app, "ben")
    record = first_case(db)
    html = client.get(f"/case/{record['case_id']}").text
    response = client.post(f"/case/{record['case_id']}/save",
                           data=case_form(record, html, pillar="work", secondary=["work", "live"]))
    assert response.status_code == 422
    assert "is also the primary pillar" in response.text
    case, _ = stored(db, record["case_id"])
    assert case["version"] == record["version"] and case["secondary_pillars"] == []


def test_typed_and_selected_entries_are_saved_with_spans(app, db: Path):  # noqa: F811
    client = client_for(app, "ben")
    record = find(db, lambda r: r["title"].startswith("① セブン&アイ"))
    html = client.get(f"/case/{record['case_id']}").text
    base, text = record["span"][0], record["text"]
    at = text.index("イトーヨーカドー")
    form = case_form(record, html, span_form="1", men_keep=["0", "1"], new_n=["1", "2", "3"],
                     new_label_1="org", new_start_1=str(at), new_end_1=str(at + 8), new_kind_1="company",
                     new_role_1="partner", new_label_2="org", new_value_2="セブン-イレブン",
                     new_label_3="year", new_start_3="0", new_end_3="3")
    response = client.post(f"/case/{record['case_id']}/save", data=form)
    assert response.status_code == 422 and "is not a calendar year" in response.text  # ① セ is no year
    assert 'name="new_value_2" value="セブン-イレブン"' in response.text  # shown again as sent
    del form["new_label_3"]
    form["new_n"] = ["1", "2"]
    assert client.post(f"/case/{record['case_id']}/save", data=form).status_code == 303
    case, _ = stored(db, record["case_id"])
    orgs = {o["name"]: o for o in case["organisations"]}
    assert orgs["イトーヨーカドー"]["span"] == [base + at, base + at + 8] and orgs["イトーヨーカドー"]["kind"] == "company"
    seven = text.index("セブン-イレブン")
    assert orgs["セブン-イレブン"]["span"] == [base + seven, base + seven + 8]  # typed: found in the text
    assert case["year_mentions"] == record["year_mentions"]


def test_title_cannot_be_emptied(app, db: Path):  # noqa: F811
    client = client_for(app, "ben")
    record = first_case(db)
    html = client.get(f"/case/{record['case_id']}").text
    response = client.post(f"/case/{record['case_id']}/save", data=case_form(record, html, title="  "))
    assert response.status_code == 422 and "the title cannot be empty" in response.text


def test_split_and_merge_routes_check_token_version_and_position(app, db: Path):  # noqa: F811
    ben, ana = client_for(app, "ben"), client_for(app, "ana")
    record = first_case(db)
    url = f"/case/{record['case_id']}"
    html = ben.get(url).text
    token, version = csrf(html), version_of(html)
    assert ben.post(f"{url}/split", data={"at": "10", "version": version}).status_code == 403  # no CSRF token
    bad = ben.post(f"{url}/split", data={"csrf_token": token, "version": version, "at": str(len(record["text"]) + 5)})
    assert bad.status_code == 422 and "is not inside case" in bad.text and "Traceback" not in bad.text
    assert str(db) not in bad.text  # the reviewer reads the problem, not the store's path
    # ana saves first: ben's split of the page he read is refused, showing her change
    ana_html = ana.get(url).text
    assert ana.post(f"{url}/save", data=case_form(record, ana_html, pillar="work")).status_code == 303
    at = record["text"].index("\n") + 1
    stale = ben.post(f"{url}/split", data={"csrf_token": token, "version": version, "at": str(at)})
    assert stale.status_code == 409 and "ana changed this case" in stale.text
    fresh = ben.get(url).text
    done = ben.post(f"{url}/split", data={"csrf_token": token, "version": version_of(fresh), "at": str(at)})
    assert done.status_code == 303
    first = done.headers["location"].split("?")[0].rsplit("/", 1)[1]
    with Store(db) as store:
        assert store.boundary_origin(first)["from"] == [record["case_id"]]
        nxt = store.next_case(first)
    # the merge carries the next case's version as the page showed it
    page = ben.get(f"/case/{first}").text
    assert f'name="next_version" value="{nxt["version"]}"' in page
    merged = ben.post(f"/case/{first}/merge", data={"csrf_token": token, "version": version_of(page),
                                                    "next_version": str(nxt["version"] + 1)})
    assert merged.status_code == 409
    # a save on the replaced case is refused, not written
    old = ben.post(f"{url}/save", data=case_form(record, fresh, pillar="live"))
    assert old.status_code == 409 and "was replaced by" in old.text
    undo = ben.post(f"{url}/undo", data={"csrf_token": token, "version": version_of(fresh)})
    assert undo.status_code == 303 and "was replaced by" in ben.get(undo.headers["location"]).text
    with Store(db) as store:
        assert store.superseded(record["case_id"]) is not None  # nothing undone on the replaced case
