"""The reviewer web app: Starlette routes, server-rendered Jinja2 pages, one store connection
per request from a small pool.

Request path: SecurityHeaders → SessionMiddleware (signed cookie) → LoginRequired (no session:
login page) → CSRFProtect (state-changing requests need the session's token) → route. A route's
work (store reads and writes, template rendering) runs in Starlette's thread pool, so a slow
save never blocks the event loop; the store's busy timeout queues concurrent writers.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from jirei import paths
from jirei.evaluation.runs import DEFAULT_RUNS_FILE
from jirei.export import place_label
from jirei.store import ConflictError, Store, StoreError

from . import auth, places
from .casepage import (accept_changes, case_context, change_note, describe_changes, load_case,
                       parse_review_form, undo_target)
from .dashboard import dashboard_context
from .filters import PAGE_SIZE, QueueFilters, valid_case_id
from .labels import model_labels, scheme, summarise
from .modelinfo import ModelSummary, load_model_summary
from .pages import PageImages
from .pool import StorePool

HERE = Path(__file__).resolve().parent
SESSION_MAX_AGE = 12 * 3600  # a working day; the cookie is re-signed whenever the session changes
DOCUMENT_LIST_SECONDS = 10.0


class QueueCounts:
    """Counts of the queue under each filter (total, reviewed, needs review), kept until the store
    changes: the key includes Store.change_counter(), which every write of case data moves on
    (from this app, `jirei batch` or `jirei relabel` alike). Counting scans every case; many
    page views between two saves then share one count."""

    def __init__(self, size: int = 64):
        self.size = size
        self._cache: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: Store, filters: QueueFilters) -> dict[str, int]:
        key = (filters, store.change_counter())
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        counts = store.queue_counts(filters.query())
        with self._lock:
            self._cache[key] = counts
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return counts


@dataclass
class AppState:
    pool: StorePool
    templates: Environment
    page_images: PageImages
    throttle: auth.LoginThrottle
    counts: QueueCounts
    model: ModelSummary
    _documents: tuple[float, list[dict], Markup] = (0.0, [], Markup(""))

    def document_options(self, store: Store, chosen: str) -> Markup:
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
        selected = next((d["doc_id"] for d in docs if chosen and d["doc_id"].startswith(chosen)), None)
        if selected is None:
            return options
        return options.replace(Markup('value="{}"').format(selected), Markup('value="{}" selected').format(selected))


@dataclass
class Ctx:
    """One request's view of the app: the request, its store connection, the logged-in user."""

    request: Request
    store: Store
    user: dict | None
    form: Any
    state: AppState

    @property
    def who(self) -> str:
        return self.user["name"]

    def render(self, template: str, status: int = 200, **context) -> HTMLResponse:
        session = self.request.session
        flashes = session.pop("flash", []) if "flash" in session else []
        html = self.state.templates.get_template(template).render(
            user=self.user, csrf=auth.csrf_token(session), flashes=flashes, path=self.request.url.path,
            scheme=scheme(), **context)
        return HTMLResponse(html, status_code=status)

    def flash(self, text: str, kind: str = "ok") -> None:
        self.request.session["flash"] = self.request.session.get("flash", []) + [[kind, text]]


def _templates() -> Environment:
    # autoescape on every template: case text is untrusted. No auto_reload: templates ship with
    # the package, and checking their mtimes on every render costs a stat per request.
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["summarise"] = summarise
    env.filters["place_label"] = place_label
    return env


def create_app(db_path: str | Path, *, secret_key: str | None = None, https_only: bool = False,
               pool_size: int = 8, session_max_age: int = SESSION_MAX_AGE,
               models_dir: str | Path = paths.MODELS, runs_file: str | Path = DEFAULT_RUNS_FILE) -> Starlette:
    """The app over the store at `db_path` (which must exist). Without `secret_key` the key is
    read from (or made in) `<db>.session-key` beside the store. The dashboard shows the model in
    `models_dir` and its held-out figures from the latest evaluation run of it in `runs_file`."""
    db_path = Path(db_path)
    with Store(db_path, create=False) as store:
        store.analyze()  # planner statistics: the queue's filters need them on large stores
    if secret_key is None:
        secret_key, _ = auth.session_secret(db_path)
    scheme(), places.options()  # the taxonomy and the gazetteer, loaded once before requests come
    state = AppState(StorePool(db_path, pool_size), _templates(), PageImages([db_path.resolve().parent]),
                     auth.LoginThrottle(), QueueCounts(), load_model_summary(models_dir, runs_file))

    def page(view: Callable[[Ctx], Response], *, admin: bool = False):
        async def endpoint(request: Request) -> Response:
            form = await request.form() if request.method == "POST" else None

            def work() -> Response:
                with state.pool.store() as store:
                    user = _current_user(request, store)
                    if user is None:
                        request.session.clear()
                        return RedirectResponse("/login", status_code=303)
                    ctx = Ctx(request, store, user, form, state)
                    if admin and user["role"] != "admin":
                        return ctx.render("error.html", 403, title="Admins only",
                                          message="This page is for admins (users, exports).")
                    return view(ctx)

            return await run_in_threadpool(work)

        return endpoint

    async def login_page(request: Request) -> Response:
        def work():
            with state.pool.store() as store:
                if _current_user(request, store):
                    return RedirectResponse(auth.safe_next(request.query_params.get("next")), status_code=303)
                return Ctx(request, store, None, None, state).render(
                    "login.html", next=auth.safe_next(request.query_params.get("next")), error="", name="")
        return await run_in_threadpool(work)

    async def login_submit(request: Request) -> Response:
        form = await request.form()
        name = (form.get("name") or "").strip()
        password = form.get("password") or ""
        target = auth.safe_next(form.get("next"))

        def work():
            with state.pool.store() as store:
                ctx = Ctx(request, store, None, form, state)
                wait = state.throttle.wait_seconds(name)
                if wait:
                    return ctx.render("login.html", 429, next=target, name=name,
                                      error=f"Too many failed logins for this name: wait {wait} s.")
                user = auth.authenticate(store, name, password)
                if user is None:
                    state.throttle.failed(name)
                    return ctx.render("login.html", 401, next=target, name=name,
                                      error="Wrong name or password. / 名前かパスワードが違います。")
                state.throttle.succeeded(name)
                request.session.clear()
                request.session.update({"user": user["name"], "csrf": auth.new_csrf_token()})
                return RedirectResponse(target, status_code=303)
        return await run_in_threadpool(work)

    async def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def home(request: Request) -> Response:
        return RedirectResponse("/queue", status_code=303)

    async def favicon(request: Request) -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @asynccontextmanager
    async def lifespan(app):
        yield
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
        Route("/doc/{doc_id}/page/{number:int}.png", page(page_image_view)),
        Route("/api/places", page(places_api)),
        Route("/dashboard", page(dashboard_view)),
        Route("/admin/users", page(users_view, admin=True), methods=["GET"]),
        Route("/admin/users", page(users_add_view, admin=True), methods=["POST"]),
        Route("/admin/users/{name}/active", page(users_active_view, admin=True), methods=["POST"]),
        Route("/admin/export", page(export_view, admin=True)),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(auth.SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret_key, session_cookie="jirei_session",
                   max_age=session_max_age, same_site="lax", https_only=https_only),
        Middleware(auth.LoginRequired),
        Middleware(auth.CSRFProtect),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.jirei = state
    return app


def _current_user(request: Request, store: Store) -> dict | None:
    name = request.session.get("user")
    return store.user(name) if name else None


# --- queue -----------------------------------------------------------------------------------------


def queue_view(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    filters = QueueFilters.from_params(params)
    counts = ctx.state.counts.get(ctx.store, filters)
    pages = max(1, math.ceil(counts["total"] / PAGE_SIZE))
    page_no = min(max(1, int(params["page"]) if params.get("page", "").isdigit() else 1), pages)
    records = ctx.store.queue_page(filters.query(limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE))
    rows = [_queue_row(r, (page_no - 1) * PAGE_SIZE + i + 1) for i, r in enumerate(records)]
    return ctx.render("queue.html", title="Queue", filters=filters, counts=counts, rows=rows, page_no=page_no,
                      pages=pages, doc_options=ctx.state.document_options(ctx.store, filters.doc),
                      prefectures=list(places.PREFECTURES), case_qs=filters.qs(),
                      at=valid_case_id(params.get("at")) or "")


def _queue_row(r: dict, position: int) -> dict:
    pillar = r.get("pillar") or {}
    p = scheme().pillar(pillar.get("label"))
    return {"position": position, "case_id": r["case_id"], "title": r["title"].replace("\n", " "), "doc": r["doc"],
            "pillar": p.ja if p else "—", "pillar_score": pillar.get("score"),
            "reviewer": (r.get("pillar_source") or "").startswith("reviewer"), "margin": r.get("margin"),
            "item_numbers": ", ".join(str(a.get("item")) for a in r.get("action_items") or []),
            "place": place_label(r["place"]) if r.get("place") else "",
            "org": (r.get("organisation") or {}).get("name", ""),
            "needs_review": r["needs_review"], "reviewed": r["review_status"] == "reviewed", "page": r.get("page")}


# --- case ------------------------------------------------------------------------------------------


def _case_page(ctx: Ctx, record: dict, filters: QueueFilters, back: str | None, status: int = 200,
               **extra) -> Response:
    store = ctx.store
    history = store.history(record["case_id"])
    doc = store.document_meta(record["doc_id"]) or {"doc_id": record["doc_id"], "name": record["doc"], "path": "",
                                                    "kind": None, "added_at": ""}
    source = ctx.state.page_images.source(doc) if doc.get("path") else None
    nb = store.queue_neighbours(filters.query(), record["case_id"]) or {}
    here = record["case_id"]
    nav = {
        "inside": nb.get("inside", False), "counts": ctx.state.counts.get(store, filters),
        "next": nb.get("next"), "prev": back or nb.get("prev"),
        "next_url": f"/case/{nb['next']}?{filters.qs(back=here)}" if nb.get("next") else "",
        "prev_url": f"/case/{back or nb['prev']}?{filters.qs()}" if (back or nb.get("prev")) else "",
        "queue_url": "/queue?" + filters.qs(at=here),
    }
    page_url = ""
    if doc.get("kind") == "pdf" and record.get("page") and source and source.status == "ok":
        page_url = f"/doc/{doc['doc_id']}/page/{record['page']}.png"
    return ctx.render("case.html", status, title=record["title"][:60], record=record, doc=doc, source=source,
                      page_url=page_url, nav=nav, filters=filters, queue_qs=filters.qs(), back=back or "",
                      **case_context(record, history),
                      **{"conflict": None, "attempted": [], "errors": [], **extra})


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
    return _case_page(ctx, record, QueueFilters.from_params(params), valid_case_id(params.get("back")))


def _posted_version(ctx: Ctx) -> int | None:
    raw = (ctx.form.get("version") or "").strip()
    return int(raw) if raw.isdigit() else None


def _after_change(ctx: Ctx, record: dict, filters: QueueFilters) -> Response:
    """After a save or an accept: the next case of the queue (the one the page offered)."""
    nxt = valid_case_id(ctx.form.get("next"))
    if nxt and nxt != record["case_id"]:
        return RedirectResponse(f"/case/{nxt}?{filters.qs(back=record['case_id'])}", status_code=303)
    ctx.flash("End of the queue: no more cases under these filters. / このキューは完了です。")
    return RedirectResponse("/queue?" + filters.qs(), status_code=303)


def _write(ctx: Ctx, record: dict, filters: QueueFilters, changes: dict, kind: str) -> Response:
    version = _posted_version(ctx)
    if version is None:
        return _case_page(ctx, record, filters, None, 400, errors=["the form has no case version; reload the page"])
    model_version = model_labels(record, ctx.store.history(record["case_id"]))["version"]
    try:
        ctx.store.set_fields(record["case_id"], changes, ctx.who, source=f"reviewer:{ctx.who}",
                             model_version=model_version, expected_version=version, note=change_note(kind))
    except ConflictError as exc:
        return _conflict(ctx, exc, filters, describe_changes(changes, record))
    except StoreError as exc:
        return _case_page(ctx, record, filters, None, 400, errors=[str(exc)])
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
    return _case_page(ctx, record, filters, valid_case_id(ctx.form.get("back")), 409, conflict=conflict,
                      attempted=attempted)


def save_view(ctx: Ctx) -> Response:
    record = _case_or_404(ctx)
    if record is None:
        return _not_found(ctx)
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "")
    parsed = parse_review_form(ctx.form, record, ctx.who)
    if parsed.errors:
        return _case_page(ctx, record, filters, valid_case_id(ctx.form.get("back")), 422, errors=parsed.errors,
                          attempted=describe_changes(parsed.changes, record))
    return _write(ctx, record, filters, parsed.changes, "save")


def accept_view(ctx: Ctx) -> Response:
    record = _case_or_404(ctx)
    if record is None:
        return _not_found(ctx)
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "")
    changes = accept_changes(record, ctx.store.history(record["case_id"]), ctx.who)
    if changes is None:
        return _case_page(ctx, record, filters, valid_case_id(ctx.form.get("back")), 422,
                          errors=["the model gave this case no labels to accept"])
    return _write(ctx, record, filters, changes, "accept")


def undo_view(ctx: Ctx) -> Response:
    record = _case_or_404(ctx)
    if record is None:
        return _not_found(ctx)
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "")
    back = valid_case_id(ctx.form.get("back"))
    here = f"/case/{record['case_id']}?{filters.qs(back=back)}"
    history = ctx.store.history(record["case_id"])
    ids, why = undo_target(history, ctx.who)
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
    model = ctx.state.model
    sources = ctx.store.source_counts("pillar")
    current = f"model@{model.version}"
    labelled_by = {"current": sources.get(current, 0),
                   "older": sum(n for s, n in sources.items() if s.startswith("model@") and s != current)}
    return ctx.render("dashboard.html", title="Dashboard", model=model, labelled_by=labelled_by,
                      **dashboard_context(ctx.store))


def users_view(ctx: Ctx, status: int = 200, error: str = "") -> Response:
    return ctx.render("users.html", status, title="Users", users=ctx.store.users(), roles=auth.ROLES, error=error,
                      activity={a["who"]: a for a in ctx.store.reviewer_activity()})


def users_add_view(ctx: Ctx) -> Response:
    name = (ctx.form.get("name") or "").strip()
    role = ctx.form.get("role") or "reviewer"
    password = ctx.form.get("password") or ""
    problem = auth.check_username(name) or (None if role in auth.ROLES else f"unknown role {role!r}")
    if problem is None and len(password) < auth.MIN_PASSWORD:
        problem = f"a password needs at least {auth.MIN_PASSWORD} characters"
    if problem:
        return users_view(ctx, 422, problem)
    ctx.store.add_user(name, role, auth.hash_password(password))
    ctx.flash(f"User {name} ({role}) saved.")
    return RedirectResponse("/admin/users", status_code=303)


def users_active_view(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    active = ctx.form.get("active") == "1"
    if name == ctx.who and not active:
        return users_view(ctx, 422, "you cannot disable yourself")
    if not ctx.store.set_user_active(name, active):
        return users_view(ctx, 404, f"no user {name!r}")
    ctx.flash(f"User {name} {'enabled' if active else 'disabled'}.")
    return RedirectResponse("/admin/users", status_code=303)


def export_view(ctx: Ctx) -> Response:
    from jirei import export

    fmt = ctx.request.query_params.get("format", "csv")
    filters = QueueFilters.from_params(ctx.request.query_params)
    query = filters.query()
    query.order = "document"
    records, _ = ctx.store.query_cases(query)
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
