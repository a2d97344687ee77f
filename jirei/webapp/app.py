"""The reviewer web app: Starlette routes, server-rendered Jinja2 pages, one store connection
per request from a small pool.

Request path: SecurityHeaders → LoginRequired (no session cookie: login page) → CSRFProtect
(state-changing requests need the token that goes with the cookie) → route, which looks the
session up in the store (ended or expired: login page). A route's work (store reads and writes,
template rendering) runs in Starlette's thread pool, so a slow save never blocks the event loop;
the store's busy timeout queues concurrent writers. Every page behind the login is sent with
`Cache-Control: no-store`.

A review form sent after its session expired is kept in the store for that user and case
(`drafts`); after the login the case page shows it filled in again, with a notice. A form that
fails validation is shown again as it was sent, with the errors.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from jirei import paths
from jirei.paths import package_dir
from jirei.evaluation.runs import DEFAULT_RUNS_FILE
from jirei.export import place_label
from jirei.store import ConflictError, LastAdminError, Store, StoreError, search_terms

from . import assign, auth, places
from .casepage import (NOTHING_TO_UNDO, accept_changes, case_context, case_region, change_note, describe_changes,
                       form_context, load_case, parse_review_form, typed_entries, undo_target)
from .dashboard import dashboard_context
from .filters import PAGE_SIZE, SORTS, QueueFilters, valid_case_id
from .labels import model_labels, scheme, summarise
from . import models_page
from .models_page import ModelWatch
from .pages import PageImages
from .pool import StorePool

SESSION_MAX_AGE = 12 * 3600  # a working day after login
SESSION_IDLE = 2 * 3600  # without a request
DOCUMENT_LIST_SECONDS = 10.0
MAX_DOCUMENT_OPTIONS = 300  # more documents: the queue's document filter is a typed id prefix


class QueueCounts:
    """Counts of the queue under each filter (total, reviewed, needs review), kept until the store
    changes: the key includes Store.change_counter(), which every write of case data moves on
    (from this app, `jirei batch` or `jirei relabel` alike). Counting scans every case matching
    the filters; many page views between two saves then share one count. Where one count takes
    over SLOW_COUNT_MS (on 100,000 cases: the whole queue 10 ms, a search for a two-character
    word 80 ms), a changed store does not make a page wait for a new count: the page gets the
    last one and the count is made again in the background (one thread with its own connection),
    at most every REFRESH_SECONDS per filter, and the thread counts at most BACKGROUND_SHARE of
    its time (after each count it rests 5.7 times as long as the count took), so that while
    reviewers save all the time it takes no more than 15 % of a core from the pages (per server
    process); the pages then show counts some seconds old (tens of seconds while many filters
    are in use and reviewers save without pause). On a small store every count is exact. The sort is not part of the key: it does not
    change counts."""

    SLOW_COUNT_MS = 5.0
    REFRESH_SECONDS = 10.0
    BACKGROUND_SHARE = 0.15
    SPARSE_SHARE = 10  # fewer than 1 in 10 cases match: read the matches as a set, not along the index

    def __init__(self, db_path: Path | None = None, size: int = 256):
        self.size = size
        self.db_path = db_path
        self._cache: OrderedDict[QueueFilters, tuple[int, float, float, dict]] = OrderedDict()
        self._lock = threading.Lock()
        self._counting: dict[QueueFilters, threading.Lock] = {}  # one count per key at a time
        self._pending: set[QueueFilters] = set()
        self._refresh: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def get(self, store: Store, filters: QueueFilters) -> dict[str, int]:
        key = replace(filters, sort="")
        counter = store.change_counter()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                seen, at, cost_ms, counts = hit
                self._cache.move_to_end(key)
                if seen == counter:
                    return counts
                if cost_ms > self.SLOW_COUNT_MS and self.db_path is not None:
                    if time.monotonic() - at >= self.REFRESH_SECONDS and key not in self._pending:
                        self._pending.add(key)
                        self._start_worker()
                        self._refresh.put(key)
                    return counts
            gate = self._counting.setdefault(key, threading.Lock())
        with gate:  # requests wanting the same count wait for the one counting it
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None and hit[0] == counter:
                    return hit[3]
            return self._count(store, key)

    def _count(self, store: Store, key: QueueFilters) -> dict[str, int]:
        counter = store.change_counter()
        t0 = time.perf_counter()
        counts = store.queue_counts(key.query())
        cost_ms = (time.perf_counter() - t0) * 1000
        with self._lock:
            self._cache[key] = (counter, time.monotonic(), cost_ms, counts)
            self._cache.move_to_end(key)
            while len(self._cache) > self.size:
                old, _ = self._cache.popitem(last=False)
                self._counting.pop(old, None)
        return counts

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="jirei-queue-counts", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        store = None
        try:
            while True:
                key = self._refresh.get()
                if key is None:
                    return
                t0 = time.perf_counter()
                try:
                    if store is None:
                        store = Store(self.db_path, create=False)
                        store.tune_for_reads()
                    self._count(store, key)
                except StoreError:
                    pass  # the store is busy or gone: the next page view asks again
                finally:
                    with self._lock:
                        self._pending.discard(key)
                time.sleep((time.perf_counter() - t0) * (1 / self.BACKGROUND_SHARE - 1))
        finally:
            if store is not None:
                store.close()

    def close(self) -> None:
        if self._worker is not None:
            self._refresh.put(None)
            self._worker.join(5)
            self._worker = None

    def sparse(self, store: Store, filters: QueueFilters) -> bool:
        """The search and the filters on case values (pillar, item, prefecture, score, model,
        reviewer, notes) together keep few cases (from their counts): the store reads those as a
        set instead of walking the queue's index and looking each case up (which the other
        filters, in the index, narrow by themselves)."""
        values = QueueFilters(**{name: getattr(filters, name) for name in VALUE_FILTERS})
        if not values.active:
            return False
        everything = self.get(store, QueueFilters())["total"]
        return self.get(store, values)["total"] * self.SPARSE_SHARE < everything


VALUE_FILTERS = ("q", "pillar", "item", "pref", "score_min", "score_max", "model", "reviewer", "notes")


@dataclass
class AppState:
    pool: StorePool
    templates: Environment
    page_images: PageImages
    throttle: auth.LoginThrottle
    counts: QueueCounts
    models: ModelWatch  # the store's active model, followed per request
    secret: str
    policy: auth.SessionPolicy
    https_only: bool
    seeds: Path | None = None  # seed reports, for retraining from the Models page
    _documents: tuple[float, list[dict], Markup] = (0.0, [], Markup(""))
    _models: tuple[float, list[str]] = (0.0, [])

    def model_versions(self, store: Store) -> list[str]:
        """Model versions the store has seen (the queue's model filter), read every few seconds."""
        at, versions = self._models
        if time.monotonic() - at > DOCUMENT_LIST_SECONDS:
            versions = [m["version"] for m in store.models()]
            self._models = (time.monotonic(), versions)
        return versions

    def document_options(self, store: Store, chosen: str) -> Markup | None:
        """The queue's document filter as <option>s, `chosen` (an id prefix) selected. The list
        is read again every few seconds (a new batch shows up a little later; the filter itself
        is never stale) and built once per read: a store of 10,000 cases has some 250
        documents, and building their options on every page costs more than the page's query.
        Markup.format escapes every name and id."""
        at, docs, options = self._documents
        if time.monotonic() - at > DOCUMENT_LIST_SECONDS:
            docs = [d for d in store.documents() if d["status"] == "done" and d["current"]]
            option = Markup('<option value="{}">{} ({})</option>')
            options = Markup("").join(option.format(d["doc_id"], d["name"], d["n_cases"]) for d in docs)
            self._documents = (time.monotonic(), docs, options)
        if len(docs) > MAX_DOCUMENT_OPTIONS:
            return None  # the queue asks for an id prefix instead of a list longer than anyone reads
        selected = next((d["doc_id"] for d in docs if chosen and d["doc_id"].startswith(chosen)), None)
        if selected is None:
            return options
        return options.replace(Markup('value="{}"').format(selected), Markup('value="{}" selected').format(selected))


@dataclass
class Ctx:
    """One request's view of the app: the request, its store connection, the logged-in user and
    their session (None on the login page), the token the CSRF token goes with."""

    request: Request
    store: Store
    user: dict | None
    form: Any
    state: AppState
    session: dict | None = None
    token: str | None = None
    _flashes: list | None = None

    @property
    def who(self) -> str:
        return self.user["name"]

    @property
    def csrf(self) -> str:
        return auth.csrf_for(self.state.secret, self.token)

    def render(self, template: str, status: int = 200, **context) -> HTMLResponse:
        flashes = list((self.session or {}).get("flash") or []) + list(self._flashes or [])
        if flashes and self.session:
            self.store.clear_flash(self.session["token_hash"])  # shown once
        html = self.state.templates.get_template(template).render(
            user=self.user, csrf=self.csrf, flashes=flashes, path=self.request.url.path, scheme=scheme(),
            **context)
        return HTMLResponse(html, status_code=status)

    def flash(self, text: str, kind: str = "ok") -> None:
        """A message for the next page this session sees (kept in the store across a redirect)."""
        self._flashes = (self._flashes or []) + [[kind, text]]
        if self.session:
            self.store.push_flash(self.session["token_hash"], kind, text)


def _templates() -> Environment:
    # autoescape on every template: case text is untrusted. No auto_reload: templates ship with
    # the package, and checking their mtimes on every render costs a stat per request.
    env = Environment(loader=FileSystemLoader(str(package_dir("jirei.webapp.templates"))), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["summarise"] = summarise
    env.filters["place_label"] = place_label
    return env


def create_app(db_path: str | Path, *, secret_key: str | None = None, https_only: bool = False,
               pool_size: int = 8, session_max_age: int = SESSION_MAX_AGE, session_idle: int = SESSION_IDLE,
               models_dir: str | Path = paths.MODELS, runs_file: str | Path = DEFAULT_RUNS_FILE,
               seeds_dir: str | Path | None = None) -> Starlette:
    """The app over the store at `db_path` (which must exist). Without `secret_key` the key of
    the CSRF tokens is read from (or made in) `<db>.session-key` beside the store. Sessions end
    `session_idle` seconds after the last request and `session_max_age` after login. The
    dashboard shows the store's active model (the latest promoted on the Models page; without
    one, the model in `models_dir`) and its held-out figures from the latest evaluation run of it
    in `runs_file`; a promotion is picked up by the next request, without a restart. Retrains
    read the seed reports in `seeds_dir` (default: the shared folder's). With `https_only` the
    cookie is Secure and pages carry Strict-Transport-Security."""
    db_path = Path(db_path)
    with Store(db_path, create=False) as store:
        store.analyze()  # planner statistics: the queue's filters need them on large stores
    if secret_key is None:
        secret_key, _ = auth.session_secret(db_path)
    scheme(), places.options()  # the taxonomy and the gazetteer, loaded once before requests come
    policy = auth.SessionPolicy(idle=session_idle, max_age=session_max_age)
    state = AppState(StorePool(db_path, pool_size), _templates(), PageImages([db_path.resolve().parent]),
                     auth.LoginThrottle(), QueueCounts(db_path), ModelWatch(models_dir, runs_file), secret_key,
                     policy, https_only, Path(seeds_dir) if seeds_dir else None)

    def page(view: Callable[[Ctx], Response], *, admin: bool = False):
        async def endpoint(request: Request) -> Response:
            form = await request.form() if request.method == "POST" else None

            def work() -> Response:
                token = auth.cookie_token(request.scope)
                with state.pool.store() as store:
                    status, session = auth.resolve_session(store, token, policy)
                    if status != "ok":
                        return _session_ended(request, store, session, form)
                    user = {"name": session["user"], "role": session["role"]}
                    ctx = Ctx(request, store, user, form, state, session, token)
                    if admin and user["role"] != "admin":
                        response = ctx.render("error.html", 403, title="Admins only",
                                              message="This page is for admins (users, exports).")
                    else:
                        response = view(ctx)
                response.headers["Cache-Control"] = "no-store"  # nothing of a logged-in page stays behind
                return response

            return await run_in_threadpool(work)

        return endpoint

    def login_form(ctx: Ctx, status: int, target: str, name: str, error: str) -> Response:
        return ctx.render("login.html", status, next=target, name=name, error=error)

    async def login_page(request: Request) -> Response:
        def work():
            token = auth.cookie_token(request.scope)
            target = auth.safe_next(request.query_params.get("next"))
            with state.pool.store() as store:
                status, _ = auth.resolve_session(store, token, policy)
                if status == "ok":
                    return RedirectResponse(target, status_code=303)
                fresh = token is None  # a visitor's anonymous token: what the form's CSRF token goes with
                token = token or auth.new_token()
                ctx = Ctx(request, store, None, None, state, None, token)
                reason = LOGIN_REASONS.get(request.query_params.get("reason") or "", "")
                response = login_form(ctx, 200, target, "", reason)
            if fresh:
                auth.set_session_cookie(response, token, policy, https_only)
            response.headers["Cache-Control"] = "no-store"
            return response
        return await run_in_threadpool(work)

    async def login_submit(request: Request) -> Response:
        form = await request.form()
        name = (form.get("name") or "").strip()
        password = form.get("password") or ""
        target = auth.safe_next(form.get("next"))
        address = request.client.host if request.client else ""

        def work():
            with state.pool.store() as store:
                ctx = Ctx(request, store, None, form, state, None, auth.cookie_token(request.scope))
                try:
                    # counted as a failure from here on, in the store every server process counts
                    # in, until the password proves right
                    wait, why = state.throttle.attempt(store, name, address)
                    if wait:
                        whom = "for this name from your address" if why == "name" else "from your address"
                        return login_form(ctx, 429, target, name, f"Too many failed logins {whom}: wait {wait} s. / "
                                                                  f"ログイン失敗が多すぎます。{wait} 秒待ってください。")
                    user = auth.authenticate(store, name, password)
                    if user is None:
                        return login_form(ctx, 401, target, name,
                                          "Wrong name or password. / 名前かパスワードが違います。")
                    state.throttle.succeeded(store, name, address)
                    # a new token at login: a token planted before it (session fixation) is worth nothing
                    token = auth.start_session(store, user["name"], address or None, policy)
                except StoreError as exc:  # a full disk, say: a login writes (its try, its session)
                    return login_form(ctx, 503, target, name, f"No login now: the case store cannot be written "
                                                              f"({_problem(ctx, exc)}). / ログインできません: "
                                                              "データベースに書き込めません。")
            response = RedirectResponse(target, status_code=303)
            auth.set_session_cookie(response, token, policy, https_only)
            return response

        def answer():
            response = work()
            response.headers["Cache-Control"] = "no-store"
            return response
        return await run_in_threadpool(answer)

    async def logout(request: Request) -> Response:
        def work():
            token = auth.cookie_token(request.scope)
            if token:
                with state.pool.store() as store:
                    store.end_session(auth.token_hash(token))  # the cookie, copied or not, is worth nothing now
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(auth.COOKIE, path="/", httponly=True, samesite="lax", secure=https_only)
            return response
        return await run_in_threadpool(work)

    async def home(request: Request) -> Response:
        return RedirectResponse("/queue", status_code=303)

    async def favicon(request: Request) -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @asynccontextmanager
    async def lifespan(app):
        yield
        state.counts.close()
        state.pool.close()

    routes = [
        Route("/", home),
        Route("/favicon.ico", favicon),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/queue", page(queue_view)),
        Route("/case/{case_id}", page(case_view)),
        Route("/case/{case_id}/save", page(save_view), methods=["POST"]),
        Route("/case/{case_id}/accept", page(accept_view), methods=["POST"]),
        Route("/case/{case_id}/undo", page(undo_view), methods=["POST"]),
        Route("/case/{case_id}/split", page(split_view), methods=["POST"]),
        Route("/case/{case_id}/merge", page(merge_view), methods=["POST"]),
        Route("/doc/{doc_id}/page/{number:int}.png", page(page_image_view)),
        Route("/api/places", page(places_api)),
        Route("/dashboard", page(dashboard_view)),
        Route("/queue/bulk", page(assign.bulk_submit), methods=["POST"]),
        Route("/blind/{case_id}", page(assign.blind_view), methods=["GET"]),
        Route("/blind/{case_id}", page(assign.blind_submit), methods=["POST"]),
        Route("/adjudicate", page(assign.adjudicate_list, admin=True)),
        Route("/adjudicate/{case_id}", page(assign.adjudicate_case, admin=True), methods=["GET"]),
        Route("/adjudicate/{case_id}", page(assign.adjudicate_submit, admin=True), methods=["POST"]),
        Route("/admin/assign", page(assign.assign_view, admin=True), methods=["GET"]),
        Route("/admin/assign", page(assign.assign_submit, admin=True), methods=["POST"]),
        Route("/admin/users", page(users_view, admin=True), methods=["GET"]),
        Route("/admin/users", page(users_add_view, admin=True), methods=["POST"]),
        Route("/admin/users/{name}/active", page(users_active_view, admin=True), methods=["POST"]),
        Route("/admin/export", page(export_view, admin=True)),
        Route("/admin/models", page(models_page.models_view, admin=True)),
        Route("/admin/models/retrain", page(models_page.retrain_view, admin=True), methods=["POST"]),
        Route("/admin/models/relabel", page(models_page.relabel_view, admin=True), methods=["POST"]),
        Route("/admin/models/jobs/{job_id:int}/{action:str}", page(models_page.decide_view, admin=True),
              methods=["POST"]),
        Route("/api/models/jobs/{job_id:int}", page(models_page.job_api, admin=True)),
        Mount("/static", StaticFiles(directory=str(package_dir("jirei.webapp.static"))), name="static"),
    ]
    middleware = [
        Middleware(auth.SecurityHeaders, hsts=https_only),
        Middleware(auth.LoginRequired),
        Middleware(auth.CSRFProtect, secret=secret_key),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.jirei = state
    return app


SERVE_ENV = "JIREI_SERVE_APP"  # the settings `jirei serve --workers N` hands to its worker processes


def app_from_environment() -> Starlette:
    """The app of one worker process of `jirei serve --workers N` (uvicorn's app factory). The
    settings are the JSON `jirei serve` puts in the environment variable JIREI_SERVE_APP before it
    starts the workers; the key of the CSRF tokens is the file beside the store that `jirei serve`
    made first, so every worker signs and checks with the same key. Everything else the workers
    share is in the store: sessions and their messages, the case data and its change counter
    (which the queue counts of each worker follow), the active model."""
    settings = json.loads(os.environ[SERVE_ENV])
    secret, _ = auth.session_secret(settings["db"])
    return create_app(settings["db"], secret_key=secret, https_only=settings["https_only"],
                      models_dir=settings["models"], runs_file=settings["runs"], seeds_dir=settings["seeds"])


LOGIN_REASONS = {
    "ended": "Your session has ended: log in again. / セッションが終了しました。もう一度ログインしてください。",
    "kept": "Your session ended before your save reached the store. Nothing was saved; your edit is kept and "
            "shown again after you log in. / セッション切れのため保存されていません。入力内容はログイン後に復元されます。",
    "lost": "Your session had ended, so what you sent was not saved: log in and send it again. / "
            "セッションが切れていたため、送信内容は保存されていません。",
}


def _session_ended(request: Request, store: Store, session: dict | None, form) -> Response:
    """A request whose session ended or expired. A review form sent after its session expired
    is kept for that user and case; everything else goes to the login page (API: 401)."""
    path = request.url.path
    if path.startswith("/api/"):
        return JSONResponse({"error": "log in first"}, status_code=401)
    target = auth.page_after_login(request.method, path, request.url.query)
    if request.method in auth.SAFE_METHODS:
        reason = "ended" if session else ""  # an unknown token may be a visitor's anonymous one
    else:
        reason = "lost"
        save = re.match(r"^/case/([0-9a-f]{16}-\d{4,})/save$", path)
        if save and session and form is not None:
            pairs = [(k, v) for k, v in form.multi_items() if k != "csrf_token" and isinstance(v, str)]
            if store.save_draft(session["user"], save.group(1), pairs):
                reason = "kept"
                queue = QueueFilters.from_query_string(form.get("queue") or "", session["user"])
                qs = queue.qs(back=valid_case_id(form.get("back")))
                target = f"/case/{save.group(1)}" + (f"?{qs}" if qs else "")
    response = RedirectResponse(auth.login_url(target, reason), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- queue -----------------------------------------------------------------------------------------


def queue_view(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    filters = QueueFilters.from_params(params, ctx.who)
    counts = ctx.state.counts.get(ctx.store, filters)
    pages = max(1, math.ceil(counts["total"] / PAGE_SIZE))
    page_no = min(max(1, int(params["page"]) if params.get("page", "").isdigit() else 1), pages)
    sparse = ctx.state.counts.sparse(ctx.store, filters)
    records = ctx.store.queue_page(filters.query(limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE, sparse=sparse),
                                   with_text=bool(filters.q))
    passes = ctx.store.assignment_passes(ctx.who, [r["case_id"] for r in records])
    rows = [_queue_row(r, (page_no - 1) * PAGE_SIZE + i + 1, filters.q, passes.get(r["case_id"]))
            for i, r in enumerate(records)]
    return ctx.render("queue.html", title="My queue" if filters.mine else "Queue", filters=filters, counts=counts,
                      rows=rows, page_no=page_no, pages=pages,
                      doc_options=ctx.state.document_options(ctx.store, filters.doc),
                      prefectures=list(places.PREFECTURES), case_qs=filters.qs(),
                      at=valid_case_id(params.get("at")) or "", models=ctx.state.model_versions(ctx.store),
                      reviewers=[u["name"] for u in ctx.store.users()], sorts=SORTS)


SNIPPET_CONTEXT = 36  # characters shown each side of a search hit


def snippet(text: str, query: str, windows: int = 2) -> list[tuple[str, bool]]:
    """Where the search's terms occur in a case text: up to `windows` stretches around hits, as
    (piece, is_hit) pairs; the template marks the hits (every piece is escaped). Terms are
    normalised as the search normalises them, and so is the stored text."""
    long_terms, short_terms = search_terms(query)
    terms = sorted(set(long_terms + short_terms), key=len, reverse=True)
    if not terms or not text:
        return []
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    hits = [(m.start(), m.end()) for m in pattern.finditer(text)]
    if not hits:
        return []
    out: list[tuple[str, bool]] = []
    shown_to = 0
    used = 0
    for start, end in hits:
        if used >= windows and start >= shown_to:
            break
        if start < shown_to:  # inside the stretch already shown
            continue
        lo = max(shown_to, start - SNIPPET_CONTEXT)
        hi = min(len(text), end + SNIPPET_CONTEXT)
        hi = max([hi] + [b for a, b in hits if a < hi < b])  # never cut a hit in two
        if lo > shown_to or (not out and lo > 0):
            out.append(("…", False))
        piece_hits = [(a, b) for a, b in hits if a >= lo and b <= hi]
        at = lo
        for a, b in piece_hits:
            if a < at:
                continue
            if a > at:
                out.append((text[at:a].replace("\n", " "), False))
            out.append((text[a:b], True))
            at = b
        if at < hi:
            out.append((text[at:hi].replace("\n", " "), False))
        shown_to = hi
        used += 1
    if shown_to < len(text):
        out.append(("…", False))
    return out


def _queue_row(r: dict, position: int, search: str = "", assigned: int | None = None) -> dict:
    pillar = r.get("pillar") or {}
    p = scheme().pillar(pillar.get("label"))
    blind = assigned == 2  # this reviewer labels it blind: show nothing of anyone's labels
    if blind:
        pillar, p = {}, None
    return {"position": position, "case_id": r["case_id"], "title": r["title"].replace("\n", " "), "doc": r["doc"],
            "version": r["version"], "assigned": assigned, "blind": blind, "notes": r.get("notes", 0),
            "agreement": r.get("blind") if not blind else None,
            "snippet": snippet(r.get("text") or "", search) if search else [],
            "href_base": f"/blind/{r['case_id']}" if blind else f"/case/{r['case_id']}",
            "pillar": p.ja if p else "—", "pillar_score": pillar.get("score"),
            "reviewer": (r.get("pillar_source") or "").startswith("reviewer") and not blind,
            "reviewer_name": (r.get("pillar_source") or "").split(":", 1)[1]
            if (r.get("pillar_source") or "").startswith("reviewer:") and not blind else "",
            "model": (r.get("pillar_source") or "").split("@", 1)[1]
            if (r.get("pillar_source") or "").startswith("model@") else "",
            "margin": r.get("margin"),
            "item_numbers": "" if blind else ", ".join(str(a.get("item")) for a in r.get("action_items") or []),
            "place": place_label(r["place"]) if r.get("place") else "",
            "org": (r.get("organisation") or {}).get("name", ""),
            "needs_review": r["needs_review"], "reviewed": r["review_status"] == "reviewed", "page": r.get("page"),
            "updated": r.get("updated_at") or ""}


# --- case ------------------------------------------------------------------------------------------


def _case_page(ctx: Ctx, record: dict, filters: QueueFilters, back: str | None, status: int = 200,
               sent=None, typed=None, **extra) -> Response:
    """The case page; with `sent` (a submitted form) the form shows what was sent, not the
    stored values, and carries the version the reviewer had read. With `typed` (after a
    conflict) only the new entries and the note of that form are kept: they add to whatever the
    other reviewer saved."""
    store = ctx.store
    # blind second labels stay out of the case page: the first pass must not see them either
    history = [h for h in store.history(record["case_id"]) if h["field"] != "blind_label"]
    doc = store.document_meta(record["doc_id"]) or {"doc_id": record["doc_id"], "name": record["doc"], "path": "",
                                                    "kind": None, "added_at": ""}
    source = ctx.state.page_images.source(doc) if doc.get("path") else None
    nb = store.queue_neighbours(filters.query(sparse=ctx.state.counts.sparse(store, filters)), record["case_id"]) or {}
    here = record["case_id"]
    nav = {
        "inside": nb.get("inside", False), "counts": ctx.state.counts.get(store, filters),
        "next": nb.get("next"), "prev": back or nb.get("prev"),
        "next_url": f"/case/{nb['next']}?{filters.qs(back=here)}" if nb.get("next") else "",
        "prev_url": f"/case/{back or nb['prev']}?{filters.qs()}" if (back or nb.get("prev")) else "",
        "queue_url": "/queue?" + filters.qs(at=here),
    }
    # Where the case is in its source: "p.3", or the page's own label ("slide 3", "sheet 事例 row 5").
    page_label = ""
    if record.get("page"):
        page_label = f"p.{record['page']}"
        for span in doc.get("page_spans") or []:
            if span[0] == record["page"] and len(span) > 4 and span[4]:
                page_label = span[4] + (" (OCR)" if len(span) > 5 and span[5] == "ocr" else "")
    page_url = ""
    if doc.get("kind") == "pdf" and record.get("page") and source and source.status == "ok":
        page_url = f"/doc/{doc['doc_id']}/page/{record['page']}.png"
    region = None
    if page_url:
        region = case_region(store.page_boxes(doc["doc_id"], record["page"]), record, doc.get("page_spans") or [])
    boundary = {"superseded": store.superseded(record["case_id"]), "origin": store.boundary_origin(record["case_id"]),
                "next": store.next_case(record["case_id"])}
    context = case_context(record, history)
    if sent is not None:
        context = form_context(context, sent, record)
    elif typed is not None:
        context["typed"] = typed_entries(typed)
    return ctx.render("case.html", status, title=record["title"][:60], record=record, doc=doc, source=source,
                      page_url=page_url, page_label=page_label, nav=nav, region=region, boundary=boundary, filters=filters, queue_qs=filters.qs(), back=back or "",
                      **context, **{"conflict": None, "attempted": [], "errors": [], "restored": None, **extra})


def _case_or_404(ctx: Ctx) -> dict | None:
    case_id = valid_case_id(ctx.request.path_params["case_id"])
    return load_case(ctx.store, case_id) if case_id else None


def _not_found(ctx: Ctx) -> Response:
    return ctx.render("error.html", 404, title="No such case", message="There is no case with this id.")


def case_view(ctx: Ctx) -> Response:
    record = _case_or_404(ctx)
    if record is None:
        return _not_found(ctx)
    params = ctx.request.query_params
    if ctx.store.blind_pending(ctx.who, record["case_id"]):  # labelled blind: never shown the labels here
        return RedirectResponse(f"/blind/{record['case_id']}", status_code=303)
    filters, back = QueueFilters.from_params(params, ctx.who), valid_case_id(params.get("back"))
    draft = ctx.store.take_draft(ctx.who, record["case_id"])
    if draft is None:
        return _case_page(ctx, record, filters, back)
    # a save sent after the session expired: shown once, filled in as it was sent
    sent = ImmutableMultiDict(draft["form"])
    version = _posted_version_of(sent)
    restored = {"at": draft["saved_at"].replace("T", " ")[:16] + " UTC",
                "changed": version is not None and version != record["version"]}
    return _case_page(ctx, record, filters, back, sent=sent, restored=restored)


def _posted_version_of(form) -> int | None:
    raw = (form.get("version") or "").strip()
    return int(raw) if raw.isdigit() else None


def _posted_version(ctx: Ctx) -> int | None:
    return _posted_version_of(ctx.form)


def _after_change(ctx: Ctx, record: dict, filters: QueueFilters) -> Response:
    """After a save or an accept: the case the page offered next if it still waits for review,
    else the first unreviewed case under the filters. The queue is called complete only when the
    store has no unreviewed case under them. Browsing reviewed cases (reviewed=yes) follows the
    offered case whatever its status."""
    here = record["case_id"]
    offered = valid_case_id(ctx.form.get("next"))
    if offered == here:
        offered = None
    if filters.reviewed == "yes":
        nxt = offered
    else:
        nxt = offered if offered and ctx.store.is_reviewed(offered) is False else None
        nxt = nxt or ctx.store.first_unreviewed(filters.query(sparse=ctx.state.counts.sparse(ctx.store, filters)),
                                                exclude=here)
    if nxt:
        return RedirectResponse(f"/case/{nxt}?{filters.qs(back=here)}", status_code=303)
    if filters.reviewed == "yes":
        ctx.flash("End of the list: no more reviewed cases after this one under these filters.")
    else:
        ctx.flash("Queue complete: no unreviewed case is left under these filters. / このキューは完了です。")
    return RedirectResponse("/queue?" + filters.qs(), status_code=303)


def _write(ctx: Ctx, record: dict, filters: QueueFilters, changes: dict, kind: str) -> Response:
    if ctx.store.blind_pending(ctx.who, record["case_id"]):
        ctx.flash("This case is yours to label blind: its own page takes your labels.", "error")
        return RedirectResponse(f"/blind/{record['case_id']}", status_code=303)
    version = _posted_version(ctx)
    sent = ctx.form if kind == "save" else None  # a refused save is shown again as it was sent
    if version is None:
        return _case_page(ctx, record, filters, None, 400, sent=sent,
                          errors=["the form has no case version; reload the page"])
    replaced = ctx.store.superseded(record["case_id"])
    if replaced:
        return _case_page(ctx, record, filters, None, 409, sent=sent,
                          errors=[f"this case was replaced by {', '.join(replaced.get('by') or [])} ({replaced.get('op')}); "
                                  "edit those instead"])
    model_version = model_labels(record, ctx.store.history(record["case_id"]))["version"]
    try:
        ctx.store.set_fields(record["case_id"], changes, ctx.who, source=f"reviewer:{ctx.who}",
                             model_version=model_version, expected_version=version, note=change_note(kind))
    except ConflictError as exc:
        return _conflict(ctx, exc, filters, describe_changes(changes, record))
    except StoreError as exc:
        return _case_page(ctx, record, filters, None, 400, sent=sent, errors=[str(exc)])
    pillar = summarise("pillar", changes.get("pillar")) if changes.get("pillar") else "no pillar"
    ctx.flash(f"{'Accepted' if kind == 'accept' else 'Saved'} {record['case_id']}: {pillar}")
    return _after_change(ctx, record, filters)


def _conflict(ctx: Ctx, exc: ConflictError, filters: QueueFilters, attempted: list[str]) -> Response:
    """Someone saved the case after this reviewer read it: show what they changed, the case as
    it is now, and what this reviewer tried; nothing of theirs is written."""
    record = load_case(ctx.store, exc.case_id)
    others = [{"who": c["who"], "at": c["at"].replace("T", " ")[:19] + " UTC", "field": c["field"],
               "old": summarise(c["field"], c["old"]), "new": summarise(c["field"], c["new"])}
              for c in exc.changes if c["field"] != "case"]
    conflict = {"who": ", ".join(sorted({c["who"] for c in others})) or "someone", "changes": others,
                "expected": exc.expected, "actual": exc.actual}
    typed = ctx.form if ctx.request.url.path.endswith("/save") else None
    return _case_page(ctx, record, filters, valid_case_id(ctx.form.get("back")), 409, typed=typed,
                      conflict=conflict, attempted=attempted)


def save_view(ctx: Ctx) -> Response:
    record = _case_or_404(ctx)
    if record is None:
        return _not_found(ctx)
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "", ctx.who)
    parsed = parse_review_form(ctx.form, record, ctx.who)
    if parsed.errors:  # shown again as sent: nothing typed is lost
        return _case_page(ctx, record, filters, valid_case_id(ctx.form.get("back")), 422, sent=ctx.form,
                          errors=parsed.errors, attempted=describe_changes(parsed.changes, record))
    return _write(ctx, record, filters, parsed.changes, "save")


def accept_view(ctx: Ctx) -> Response:
    record = _case_or_404(ctx)
    if record is None:
        return _not_found(ctx)
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "", ctx.who)
    changes = accept_changes(record, ctx.store.history(record["case_id"]), ctx.who)
    if changes is None:
        return _case_page(ctx, record, filters, valid_case_id(ctx.form.get("back")), 422,
                          errors=["the model gave this case no labels to accept"])
    return _write(ctx, record, filters, changes, "accept")


def undo_view(ctx: Ctx) -> Response:
    record = _case_or_404(ctx)
    if record is None:
        return _not_found(ctx)
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "", ctx.who)
    back = valid_case_id(ctx.form.get("back"))
    here = f"/case/{record['case_id']}?{filters.qs(back=back)}"
    replaced = ctx.store.superseded(record["case_id"])
    if replaced:
        ctx.flash(f"Nothing undone: this case was replaced by {', '.join(replaced.get('by') or [])} "
                  f"({replaced.get('op')}); undo there.", "error")
        return RedirectResponse(here, status_code=303)
    history = ctx.store.history(record["case_id"])
    ids, why = undo_target(history, ctx.who)
    origin = ctx.store.boundary_origin(record["case_id"])
    if not ids and why == NOTHING_TO_UNDO and origin is not None:
        return _undo_boundary(ctx, record, filters, origin)
    if why:
        ctx.flash(f"Nothing undone: {why}", "error")
        return RedirectResponse(here, status_code=303)
    try:
        ctx.store.undo_entries(ids, ctx.who, expected_version=_posted_version(ctx))
    except ConflictError as exc:
        return _conflict(ctx, exc, filters, ["undo of your last change"])
    fields = [h["field"] for h in history if h["id"] in ids and h["field"] != "review_status"]
    ctx.flash(f"Undone: your change of {', '.join(fields) or 'review status'} (new history entries).")
    return RedirectResponse(here, status_code=303)


def _problem(ctx: Ctx, exc: StoreError) -> str:
    """A store error as the reviewer reads it: without the store's path in front."""
    text = str(exc)
    prefix = f"{ctx.store.path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _undo_boundary(ctx: Ctx, record: dict, filters: QueueFilters, origin: dict) -> Response:
    """`u` on a case a split or merge made, with nothing else of the reviewer's to undo on it:
    the cases before the edit stand again."""
    try:
        restored = ctx.store.undo_boundary(record["case_id"], ctx.who, expected_version=_posted_version(ctx))
    except ConflictError as exc:
        return _conflict(ctx, exc, filters, [f"undo of the {origin['op']}"])
    except StoreError as exc:
        ctx.flash(f"Nothing undone: {_problem(ctx, exc)}", "error")
        return RedirectResponse(f"/case/{record['case_id']}?{filters.qs()}", status_code=303)
    ctx.flash(f"Undone: the {origin['op']} ({', '.join(origin['made'])}); {', '.join(restored)} stand again.")
    return RedirectResponse(f"/case/{restored[0]}?{filters.qs()}", status_code=303)


def split_view(ctx: Ctx) -> Response:
    """Split the case at a character position of its text (the start of the reviewer's selection)."""
    record = _case_or_404(ctx)
    if record is None:
        return _not_found(ctx)
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "")
    raw = (ctx.form.get("at") or "").strip()
    if not raw.isdigit():
        return _case_page(ctx, record, filters, None, 422,
                          errors=["split: select text in the case (its start is where the second case begins), "
                                  "then split (l)"])
    try:
        ids = ctx.store.split_case(record["case_id"], int(raw), ctx.who, expected_version=_posted_version(ctx),
                                   title=(ctx.form.get("split_title") or "").strip() or None,
                                   note=change_note("split"))
    except ConflictError as exc:
        return _conflict(ctx, exc, filters, [f"split at character {raw}"])
    except StoreError as exc:
        return _case_page(ctx, record, filters, None, 422, errors=[_problem(ctx, exc)])
    ctx.flash(f"Split {record['case_id']} into {ids[0]} and {ids[1]} (u undoes it).")
    return RedirectResponse(f"/case/{ids[0]}?{filters.qs()}", status_code=303)


def merge_view(ctx: Ctx) -> Response:
    """Merge the case with the next case of its document (as the page showed it)."""
    record = _case_or_404(ctx)
    if record is None:
        return _not_found(ctx)
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "")
    raw = (ctx.form.get("next_version") or "").strip()
    try:
        new_id = ctx.store.merge_with_next(record["case_id"], ctx.who, expected_version=_posted_version(ctx),
                                           next_version=int(raw) if raw.isdigit() else None,
                                           note=change_note("merge"))
    except ConflictError as exc:
        return _conflict(ctx, exc, filters, ["merge with the next case"])
    except StoreError as exc:
        return _case_page(ctx, record, filters, None, 422, errors=[_problem(ctx, exc)])
    ctx.flash(f"Merged into {new_id} (u undoes it).")
    return RedirectResponse(f"/case/{new_id}?{filters.qs()}", status_code=303)


def page_image_view(ctx: Ctx) -> Response:
    doc = ctx.store.document_meta(ctx.request.path_params["doc_id"])
    if doc is None:
        return Response("no such document", status_code=404, media_type="text/plain")
    png = ctx.state.page_images.png(doc, ctx.request.path_params["number"])
    if png is None:
        note = ctx.state.page_images.source(doc).note or "no such page"
        return Response(note, status_code=404, media_type="text/plain; charset=utf-8")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def places_api(ctx: Ctx) -> Response:
    q = (ctx.request.query_params.get("q") or "")[:40]
    return JSONResponse([o.as_json() for o in places.complete(q)])


# --- dashboard and admin --------------------------------------------------------------------------


def dashboard_view(ctx: Ctx) -> Response:
    model = ctx.state.models.summary(ctx.store)
    sources = ctx.store.source_counts("pillar")
    current = f"model@{model.version}"
    labelled_by = {"current": sources.get(current, 0),
                   "older": sum(n for s, n in sources.items() if s.startswith("model@") and s != current)}
    return ctx.render("dashboard.html", title="Dashboard", model=model, labelled_by=labelled_by,
                      **dashboard_context(ctx.store))


def users_view(ctx: Ctx, status: int = 200, error: str = "") -> Response:
    users = ctx.store.users()
    sessions = {u["name"]: auth.live_sessions(ctx.store, u["name"], ctx.state.policy) for u in users}
    return ctx.render("users.html", status, title="Users", users=users, roles=auth.ROLES, error=error,
                      activity={a["who"]: a for a in ctx.store.reviewer_activity()}, sessions=sessions)


def users_add_view(ctx: Ctx) -> Response:
    name = (ctx.form.get("name") or "").strip()
    role = ctx.form.get("role") or "reviewer"
    password = ctx.form.get("password") or ""
    problem = auth.check_username(name) or (None if role in auth.ROLES else f"unknown role {role!r}")
    if problem is None and len(password) < auth.MIN_PASSWORD:
        problem = f"a password needs at least {auth.MIN_PASSWORD} characters"
    if problem:
        return users_view(ctx, 422, problem)
    # a new password ends the user's sessions (an admin setting their own keeps this one)
    keep = ctx.session["token_hash"] if name == ctx.who else None
    try:
        ended = ctx.store.add_user(name, role, auth.hash_password(password), keep_session=keep)
    except LastAdminError:
        return users_view(ctx, 422, f"{name} is the last active admin: make another user admin first "
                                    "/ 最後の管理者は降格できません")
    ctx.flash(f"User {name} ({role}) saved." + (f" {ended} session(s) of {name} ended." if ended else ""))
    return RedirectResponse("/admin/users", status_code=303)


def users_active_view(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    active = ctx.form.get("active") == "1"
    if name == ctx.who and not active:
        return users_view(ctx, 422, "you cannot disable yourself")
    try:
        found = ctx.store.set_user_active(name, active)
    except LastAdminError:
        return users_view(ctx, 422, f"{name} is the last active admin: make another user admin first "
                                    "/ 最後の管理者は無効にできません")
    if not found:
        return users_view(ctx, 404, f"no user {name!r}")
    ctx.flash(f"User {name} {'enabled' if active else 'disabled'}.")
    return RedirectResponse("/admin/users", status_code=303)


def export_view(ctx: Ctx) -> Response:
    from jirei import export

    fmt = ctx.request.query_params.get("format", "csv")
    filters = QueueFilters.from_params(ctx.request.query_params, ctx.who)
    query = filters.query()
    query.order = "document"
    records, _ = ctx.store.query_cases(query)
    ctx.store.add_review_info(records)
    if fmt == "jsonl":
        import io

        buf = io.StringIO()
        export.write_jsonl(records, buf)
        data, media = buf.getvalue().encode("utf-8"), "application/x-ndjson"
    elif fmt == "xlsx":
        with tempfile.TemporaryDirectory(prefix="jirei-export-") as tmp:
            path = Path(tmp) / "cases.xlsx"
            export.write_xlsx(records, str(path))
            data = path.read_bytes()
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        fmt = "csv"
        data, _, _ = export.csv_bytes(records)
        media = "text/csv; charset=utf-8"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="jirei-cases.{fmt}"'})
