"""The reviewer app end to end in real Chromium (Debian's /usr/bin/chromium driven by
Playwright), served by uvicorn on a free loopback port over a store built from the seeds:
keyboard review (pillar, items, save, reload, history, undo), two reviewers' conflict, a POST
without CSRF token, case text holding <script>, pages without a session, and a save sent after
the session expired coming back filled in after the login."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from jirei.store import CaseQuery, Store
from jirei.webapp import create_app
from jirei.webapp.server_thread import serving

from test_webapp import PAYLOAD, SECRET, USERS, make_review_store

CHROMIUM = Path("/usr/bin/chromium")
PILLAR_KEYS = {"live": "1", "work": "2", "nurture": "3", "interact": "4"}

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (apt-get install chromium)"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install playwright)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def template_db(tmp_path_factory, seeds_dir: Path) -> Path:
    return make_review_store(tmp_path_factory.mktemp("webapp-browser-store"), seeds_dir)


@pytest.fixture()
def db(template_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "jirei.db"
    shutil.copy(template_db, copy)
    return copy


@pytest.fixture()
def base_url(db: Path):
    with serving(create_app(db, secret_key=SECRET)) as url:
        yield url


def new_page(browser, base_url: str, user: str | None = None):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(15000)
    if user:
        log_in(page, base_url, user)
    return page


def log_in(page, base_url: str, user: str) -> None:
    """By keyboard only: name, Tab, password, Enter."""
    page.goto(f"{base_url}/login")
    deadline = time.monotonic() + 10
    while page.evaluate("document.activeElement && document.activeElement.name") != "name":
        assert time.monotonic() < deadline, "the name field never got the focus"
        time.sleep(0.05)  # autofocus lands once the page is parsed
    page.keyboard.type(user)
    page.keyboard.press("Tab")
    page.keyboard.type(USERS[user][1])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/queue")


def checked_pillar(page) -> str | None:
    return page.locator("input[name=pillar]:checked").get_attribute("value") \
        if page.locator("input[name=pillar]:checked").count() else None


def case_id_of(url: str) -> str:
    return re.search(r"/case/([0-9a-f]{16}-\d{4})", url).group(1)


def test_a_page_without_a_session_goes_to_the_login_page(browser, base_url: str):
    page = new_page(browser, base_url)
    for path in ("/queue", "/dashboard", "/case/0000000000000000-0001", "/admin/users"):
        page.goto(base_url + path)
        assert page.url.startswith(f"{base_url}/login"), path
        assert page.locator("input[name=password]").is_visible()
    page.context.close()


def test_keyboard_review_save_reload_history_and_undo(browser, base_url: str, db: Path):
    page = new_page(browser, base_url, "ben")
    page.keyboard.press("Enter")  # open the first case of the queue
    page.wait_for_url(re.compile(r".*/case/"))
    case_id = case_id_of(page.url)
    with Store(db) as store:
        first, _ = store.query_cases(CaseQuery(order="queue", limit=1))
        record = store.case(case_id)
    assert case_id == first[0]["case_id"]  # the queue's most uncertain case
    model = record["pillar"]["label"]
    assert checked_pillar(page) == model
    target = next(p for p in PILLAR_KEYS if p != model)
    item_on = 3 if 3 not in [a["item"] for a in record["action_items"]] else 4

    page.keyboard.press("?")  # the key map
    assert page.locator("dialog#keys").is_visible()
    assert "アクション項目 toggle action items 1–10" in page.locator("dialog#keys").inner_text()
    page.keyboard.press("Escape")
    assert not page.locator("dialog#keys").is_visible()

    page.keyboard.press(PILLAR_KEYS[target])
    page.keyboard.press(f"Shift+Digit{item_on}")
    assert checked_pillar(page) == target
    assert page.locator(f"input[name=item][value='{item_on}']").is_checked()
    page.keyboard.press("s")  # save and move on
    page.wait_for_url(re.compile(rf".*back={case_id}.*"))
    assert case_id_of(page.url) != case_id
    assert "Saved" in page.locator(".flash").first.inner_text()

    page.keyboard.press("k")  # back to the case just saved
    page.wait_for_url(re.compile(rf".*/case/{case_id}.*"))
    page.reload()
    assert checked_pillar(page) == target
    assert page.locator(f"input[name=item][value='{item_on}']").is_checked()
    assert "レビュー済" in page.locator("#status-badge").inner_text()
    rows = page.locator("#history tbody tr").all_inner_texts()
    assert any("ben" in r and "pillar" in r for r in rows)

    page.keyboard.press("u")
    page.wait_for_selector(".flash")
    assert "Undone" in page.locator(".flash").first.inner_text()
    assert checked_pillar(page) == model
    rows = page.locator("#history tbody tr").all_inner_texts()
    assert any("undo #" in r and "pillar" in r for r in rows)
    with Store(db) as store:
        assert store.case(case_id)["pillar"] == record["pillar"]
    page.context.close()


def test_second_reviewers_save_gets_the_conflict_message(browser, base_url: str, db: Path):
    with Store(db) as store:
        record = store.query_cases(CaseQuery(order="queue", limit=1))[0][0]
    model = record["pillar"]["label"]
    others = [p for p in PILLAR_KEYS if p != model]
    ana, ben = new_page(browser, base_url, "ana"), new_page(browser, base_url, "ben")
    for page in (ana, ben):
        page.goto(f"{base_url}/case/{record['case_id']}")
    ben.keyboard.press(PILLAR_KEYS[others[0]])
    ben.keyboard.press("s")
    ben.wait_for_url(re.compile(r".*back=.*"))
    ana.keyboard.press(PILLAR_KEYS[others[1]])
    ana.keyboard.press("s")
    ana.wait_for_selector("#conflict")
    text = ana.locator("#conflict").inner_text()
    assert "ben changed this case while you were editing" in text and "Nothing of yours was saved" in text
    assert "pillar" in text
    with Store(db) as store:
        assert store.case(record["case_id"])["pillar"]["reviewer"] == "ben"
    ana.context.close()
    ben.context.close()


def test_a_post_without_csrf_token_is_refused(browser, base_url: str, db: Path):
    page = new_page(browser, base_url, "ben")
    with Store(db) as store:
        record = store.query_cases(CaseQuery(order="queue", limit=1))[0][0]
    page.goto(f"{base_url}/case/{record['case_id']}")
    version = page.locator("#review-form input[name=version]").get_attribute("value")
    response = page.request.post(f"{base_url}/case/{record['case_id']}/save",
                                 form={"version": version, "pillar": "work"})  # session cookie, no token
    assert response.status == 403 and "CSRF" in response.text()
    with Store(db) as store:
        assert store.case(record["case_id"])["version"] == record["version"]
    page.context.close()


def test_case_text_with_script_is_shown_as_text(browser, base_url: str, db: Path):
    with Store(db) as store:
        record = store.query_cases(CaseQuery(search="document.title"))[0][0]
    page = new_page(browser, base_url, "ben")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base_url}/case/{record['case_id']}")
    text = page.locator("#case-text").inner_text()
    assert PAYLOAD in text  # shown, character for character
    assert page.locator("#case-text script, #case-text img").count() == 0
    assert page.title() != "pwned" and not dialogs
    assert page.evaluate("typeof window.pwned") == "undefined"
    page.context.close()


def test_save_after_the_session_expired_comes_back_filled_in_after_login(browser, base_url: str, db: Path):
    """`s` after the session timed out: the login page says the edit is kept; after logging in
    the case shows the pillar and the note as they were typed, and nothing was saved meanwhile."""
    from test_webapp import _age_session

    page = new_page(browser, base_url, "ben")
    with Store(db) as store:
        record = store.query_cases(CaseQuery(order="queue", limit=1))[0][0]
    page.goto(f"{base_url}/case/{record['case_id']}")
    target = next(p for p in PILLAR_KEYS if p != record["pillar"]["label"])
    page.keyboard.press(PILLAR_KEYS[target])
    page.keyboard.press("n")
    page.keyboard.type("出典の表と突き合わせ済み")
    page.keyboard.press("Escape")

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "jirei_session")
    _age_session(db, token, 3 * 3600)
    page.keyboard.press("s")
    page.wait_for_url(re.compile(r".*/login\?.*reason=kept"))
    assert "your edit is kept" in page.locator(".flash-error").inner_text()
    page.keyboard.type("ben")
    page.keyboard.press("Tab")
    page.keyboard.type(USERS["ben"][1])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/case/{record['case_id']}.*"))
    assert page.locator("#restored").is_visible()
    assert checked_pillar(page) == target
    assert page.locator("#note").input_value() == "出典の表と突き合わせ済み"
    with Store(db) as store:
        assert store.case(record["case_id"])["version"] == record["version"]
    page.keyboard.press("s")
    page.wait_for_url(re.compile(rf".*back={record['case_id']}.*"))
    with Store(db) as store:
        assert store.case(record["case_id"])["pillar"]["label"] == target
    page.context.close()
