"""Screenshot of the reviewer app's Models page for the docs: docs/screenshots/retrain.png.

The store of `scripts/screenshots.py` (the shared seeds and a village newsletter, two reviewers'
work through the app's routes, ana's pillar changes being the corrections), then in Debian's
Chromium: ana starts a retrain with the active model's hyperparameters, the page follows its
progress, and the picture is taken of the candidate's figures beside the active model's. Run by
`make screenshots`; needs /usr/bin/chromium and the shared folder; takes a few minutes.

    .venv/bin/python scripts/screenshot_retrain.py [--out docs/screenshots]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from screenshots import CHROMIUM, PASSWORDS, build, review_some, run, save_shot  # noqa: E402


def shoot(db: Path, out: Path) -> Path:
    from playwright.sync_api import sync_playwright

    from jirei.webapp import create_app
    from jirei.webapp.server_thread import serving

    out.mkdir(parents=True, exist_ok=True)
    path = out / "retrain.png"
    app = create_app(db, secret_key="screenshots-only-" + "x" * 32)
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900}, device_scale_factor=1, locale="ja-JP")
        page.goto(f"{base}/login")
        page.fill("input[name=name]", "ana")
        page.fill("input[name=password]", PASSWORDS["ana"])
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/queue")
        page.goto(f"{base}/admin/models")
        page.select_option("#hyperparameters", "active")
        page.click("#retrain-button")
        page.wait_for_url(f"{base}/admin/models")
        deadline = time.monotonic() + 1200
        while page.locator("#compare").count() == 0:
            if page.locator("#job-error").count():
                raise SystemExit(f"retrain failed: {page.inner_text('#job-error')}")
            if time.monotonic() > deadline:
                raise SystemExit("the retrain did not finish in 20 minutes")
            if page.locator("#job-progress").count():
                print(page.inner_text("#job-progress"), file=sys.stderr)
            page.wait_for_timeout(2000)
        save_shot(page, path, full_page=True)
        browser.close()
    return path


def main(argv: list[str] | None = None) -> int:
    def take(tmp: Path, out: Path) -> None:
        db = build(tmp)
        review_some(db)
        shoot(db, out)

    return run(argv, __doc__, take)


if __name__ == "__main__":
    sys.exit(main())
