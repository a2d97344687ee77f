"""Assignment, blind second labelling, adjudication and bulk changes in the reviewer app.

- Admins assign a slice of the queue (its filters, e.g. one document, and a number of cases) to
  reviewers in turn; a share of it (`overlap`) also goes to another reviewer for a blind second
  labelling. Each reviewer's open assignments are their queue (`/queue?mine=1`).
- A blind second labelling happens on its own page (`/blind/<case>`), which shows the case text
  and nothing of anyone's labels; until it is done the case page sends that reviewer there. The
  label is kept apart from the case's values (`blind_labels`), compared with the first pass's.
- Disagreements are listed for adjudication (`/adjudicate`): both labellings side by side, and the
  admin's decision becomes the case's labels (source `reviewer:<admin>`, history entries).
- Bulk: rows selected in the queue get the model's labels accepted or a pillar set; each case
  is written with the version the queue showed, and cases changed meanwhile are reported.

The views take the app's per-request context (`ctx`: store, user, form, render, flash)."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import RedirectResponse, Response

from jirei.store import ConflictError, StoreError

from .casepage import accept_changes, change_note, load_case
from .filters import PAGE_SIZE, QueueFilters, valid_case_id
from .labels import model_labels, review_changes, scheme, summarise

MAX_ASSIGN = 5000  # cases one assignment takes from the queue's order
_SELECTED = re.compile(r"^([0-9a-f]{16}-\d{4,}):(\d+)$")


# --- assignment -----------------------------------------------------------------------------------


def assign_view(ctx) -> Response:
    """GET: the slice the queue's filters make, the reviewers, the share labelled twice."""
    filters = QueueFilters.from_params(ctx.request.query_params)
    return _assign_page(ctx, filters)


def _assign_page(ctx, filters: QueueFilters, status: int = 200, error: str = "") -> Response:
    counts = ctx.store.queue_counts(filters.query())
    reviewers = [u for u in ctx.store.users() if u["active"]]
    return ctx.render("assign.html", status, title="Assign", filters=filters, counts=counts, reviewers=reviewers,
                      summary=ctx.store.assignment_summary(), error=error, max_assign=MAX_ASSIGN)


def assign_submit(ctx) -> Response:
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "")
    names = [n for n in ctx.form.getlist("reviewer") if n]
    raw_share, raw_limit = (ctx.form.get("overlap") or "0").strip(), (ctx.form.get("limit") or "").strip()
    try:
        share = float(raw_share) / 100.0
    except ValueError:
        return _assign_page(ctx, filters, 422, f"overlap: {raw_share!r} is not a percentage (0–100)")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_ASSIGN:
        return _assign_page(ctx, filters, 422, f"cases: give a number from 1 to {MAX_ASSIGN}")
    rows = ctx.store.queue_page(filters.query(limit=int(raw_limit)))
    try:
        out = ctx.store.assign_cases([r["case_id"] for r in rows], names, ctx.who, overlap=share)
    except StoreError as exc:
        return _assign_page(ctx, filters, 422, str(exc).split(": ", 1)[-1])
    ctx.flash(f"Assigned {out['first']} cases to {', '.join(names)}; {out['second']} of them also go blind to a "
              f"second reviewer; {out['skipped']} skipped (reviewed or assigned already).")
    return RedirectResponse("/admin/assign?" + filters.qs(), status_code=303)


# --- blind second labelling -------------------------------------------------------------------------


def blind_view(ctx) -> Response:
    case_id = valid_case_id(ctx.request.path_params["case_id"])
    record = ctx.store.case(case_id) if case_id else None
    if record is None:
        return ctx.render("error.html", 404, title="No such case", message="There is no case with this id.")
    if not ctx.store.blind_pending(ctx.who, case_id):
        return RedirectResponse(f"/case/{case_id}", status_code=303)
    return _blind_page(ctx, record)


def _blind_page(ctx, record: dict, status: int = 200, error: str = "", chosen: dict | None = None) -> Response:
    chosen = chosen or {"pillar": None, "theme": None, "action_items": []}
    s = scheme()
    return ctx.render("blind.html", status, title="Blind labelling", record=record, error=error,
                      pillars=s.pillars, items=s.items, themes=s.themes, chosen=chosen,
                      left=ctx.store.queue_counts(QueueFilters(mine="1", user=ctx.who).query())["total"])


def blind_submit(ctx) -> Response:
    case_id = valid_case_id(ctx.request.path_params["case_id"])
    record = ctx.store.case(case_id) if case_id else None
    if record is None:
        return ctx.render("error.html", 404, title="No such case", message="There is no case with this id.")
    s = scheme()
    pillar = ctx.form.get("pillar") or None
    theme = ctx.form.get("theme") or None
    items = sorted({int(n) for n in ctx.form.getlist("item") if n.isdigit() and s.item(int(n))})
    chosen = {"pillar": pillar, "theme": theme, "action_items": items}
    if pillar is None or s.pillar(pillar) is None:
        return _blind_page(ctx, record, 422, "choose a pillar (keys 1–4)", chosen)
    if theme is not None and (s.theme(theme) is None or s.theme(theme).pillar != pillar):
        return _blind_page(ctx, record, 422, f"theme {theme!r} is not a theme of this pillar", chosen)
    try:
        status = ctx.store.save_blind_label(case_id, ctx.who, chosen)
    except StoreError as exc:
        return _blind_page(ctx, record, 409, str(exc).split(": ", 1)[-1], chosen)
    ctx.flash(f"Blind label saved for {case_id}: {s.pillar(pillar).ja}"
              + {"waiting": " (the first pass is not in yet)", "agree": "", "disagree": ""}.get(status or "", ""))
    return _next_in_my_queue(ctx, case_id)


def _next_in_my_queue(ctx, here: str) -> Response:
    rows = ctx.store.queue_page(QueueFilters(mine="1", user=ctx.who).query(limit=2))
    nxt = next((r["case_id"] for r in rows if r["case_id"] != here), None)
    if nxt is None:
        ctx.flash("Your queue is complete: nothing assigned to you is left. / 担当分は完了です。")
        return RedirectResponse("/queue?mine=1", status_code=303)
    if ctx.store.blind_pending(ctx.who, nxt):
        return RedirectResponse(f"/blind/{nxt}", status_code=303)
    return RedirectResponse(f"/case/{nxt}?mine=1&back={here}", status_code=303)


# --- adjudication -----------------------------------------------------------------------------------


def _label_text(label: dict | None) -> dict[str, str]:
    label = label or {}
    s = scheme()
    pillar = s.pillar(label.get("pillar"))
    theme = s.theme(label.get("theme"))
    return {"pillar": pillar.ja if pillar else "—", "pillar_id": label.get("pillar") or "",
            "theme": theme.ja if theme else "—", "items": ", ".join(str(i) for i in label.get("action_items") or [])
            or "—"}


def adjudicate_list(ctx) -> Response:
    pairs = [p for p in ctx.store.blind_pairs() if p["status"] in ("disagree", "adjudicated")]
    records = {r["case_id"]: r for r in ctx.store.cases([p["case_id"] for p in pairs])}
    rows = [{"case_id": p["case_id"], "title": records[p["case_id"]]["title"] if p["case_id"] in records else "",
             "status": p["status"], "a_who": p["first_reviewer"], "a": _label_text(p["first_label"]),
             "b_who": p["reviewer"], "b": _label_text(p["label"]), "by": p["adjudicated_by"] or ""}
            for p in pairs]
    rows.sort(key=lambda r: (r["status"] != "disagree", r["case_id"]))
    return ctx.render("adjudicate.html", title="Adjudication", rows=rows, one=None)


def adjudicate_case(ctx, status: int = 200, error: str = "") -> Response:
    case_id = valid_case_id(ctx.request.path_params["case_id"])
    record = load_case(ctx.store, case_id) if case_id else None
    pair = ctx.store.blind_pair(case_id) if record else None
    if record is None or pair is None:
        return ctx.render("error.html", 404, title="Nothing to adjudicate",
                          message="This case has no blind second labelling.")
    s = scheme()
    one = {"record": record, "pair": pair, "a": _label_text(pair["first_label"]), "b": _label_text(pair["label"]),
           "a_items": set((pair["first_label"] or {}).get("action_items") or []),
           "b_items": set(pair["label"].get("action_items") or [])}
    return ctx.render("adjudicate.html", status, title="Adjudicate", rows=[], one=one, pillars=s.pillars,
                      items=s.items, themes=s.themes, error=error)


def adjudicate_submit(ctx) -> Response:
    case_id = valid_case_id(ctx.request.path_params["case_id"])
    record = ctx.store.case(case_id) if case_id else None
    pair = ctx.store.blind_pair(case_id) if record else None
    if record is None or pair is None:
        return ctx.render("error.html", 404, title="Nothing to adjudicate",
                          message="This case has no blind second labelling.")
    s = scheme()
    take = ctx.form.get("take") or ""
    if take in ("a", "b"):
        label = (pair["first_label"] if take == "a" else pair["label"]) or {}
        pillar, theme, items = label.get("pillar"), label.get("theme"), list(label.get("action_items") or [])
    else:
        pillar, theme = ctx.form.get("pillar") or None, ctx.form.get("theme") or None
        items = sorted({int(n) for n in ctx.form.getlist("item") if n.isdigit() and s.item(int(n))})
    if pillar is None or s.pillar(pillar) is None:
        return adjudicate_case(ctx, 422, "choose a pillar for the decision")
    if theme is not None and s.theme(theme) is None:
        theme = None
    raw = (ctx.form.get("version") or "").strip()
    if not raw.isdigit():
        return adjudicate_case(ctx, 400, "the form has no case version; reload the page")
    changes = review_changes(pillar, theme, items, ctx.who)
    model_version = model_labels(record, ctx.store.history(case_id))["version"]
    try:
        ctx.store.adjudicate(case_id, changes, ctx.who, expected_version=int(raw), model_version=model_version,
                             note=change_note("adjudicate"))
    except ConflictError as exc:
        return adjudicate_case(ctx, 409, f"{exc.changes[-1]['who'] if exc.changes else 'someone'} changed this "
                                         f"case meanwhile (version {exc.actual}, you had {exc.expected}); "
                                         "look again and decide")
    except StoreError as exc:
        return adjudicate_case(ctx, 409, str(exc).split(": ", 1)[-1])
    ctx.flash(f"Adjudicated {case_id}: {summarise('pillar', changes['pillar'])}, items "
              f"{summarise('action_items', changes['action_items'])}; this is now the case's label.")
    return RedirectResponse("/adjudicate", status_code=303)


# --- bulk -------------------------------------------------------------------------------------------


def bulk_submit(ctx) -> Response:
    """Selected queue rows (`case_id:version` as the queue showed them): accept the model's labels
    or set one pillar. Every case is written with its own version check; the report names the
    cases someone changed meanwhile (nothing of those is written) and those skipped."""
    filters = QueueFilters.from_query_string(ctx.form.get("queue") or "", ctx.who)
    back = "/queue?" + filters.qs(page=ctx.form.get("page") if (ctx.form.get("page") or "").isdigit() else None)
    action = ctx.form.get("action") or ""
    selected: dict[str, int] = {}
    for raw in ctx.form.getlist("sel"):
        m = _SELECTED.match(raw)
        if m:
            selected[m.group(1)] = int(m.group(2))
    if not selected:
        ctx.flash("Nothing selected: tick the rows first (x on a row).", "error")
        return RedirectResponse(back, status_code=303)
    if len(selected) > PAGE_SIZE * 4:
        ctx.flash(f"At most {PAGE_SIZE * 4} cases at once.", "error")
        return RedirectResponse(back, status_code=303)
    s = scheme()
    pillar = ctx.form.get("pillar") or ""
    if action == "pillar" and s.pillar(pillar) is None:
        ctx.flash("Choose the pillar to set.", "error")
        return RedirectResponse(back, status_code=303)
    if action not in ("accept", "pillar"):
        ctx.flash("Unknown bulk action.", "error")
        return RedirectResponse(back, status_code=303)
    blind = ctx.store.assignment_passes(ctx.who, list(selected))
    skipped: list[str] = []
    planned: dict[str, tuple[int, dict[str, Any]]] = {}
    model_versions: set[str] = set()
    for record in ctx.store.cases(list(selected)):
        case_id = record["case_id"]
        if blind.get(case_id) == 2:
            skipped.append(f"{case_id}: yours to label blind (its own page)")
            continue
        history = ctx.store.history(case_id)
        if action == "accept":
            changes = accept_changes(record, history, ctx.who)
            if changes is None:
                skipped.append(f"{case_id}: the model gave no labels")
                continue
        else:
            changes = {"pillar": review_changes(pillar, None, [], ctx.who)["pillar"], "review_status": "reviewed"}
            theme = (record.get("theme") or {}).get("label") if isinstance(record.get("theme"), dict) else None
            if theme and s.theme(theme) and s.theme(theme).pillar != pillar:
                changes["theme"] = review_changes(pillar, None, [], ctx.who)["theme"]  # a theme of another pillar
        version = model_labels(record, history)["version"]
        if version:
            model_versions.add(version)
        planned[case_id] = (selected[case_id], changes)
    note = change_note("accept" if action == "accept" else "save") + " bulk"
    report = ctx.store.bulk_set_fields(planned, ctx.who, source=f"reviewer:{ctx.who}",
                                       model_version=next(iter(model_versions)) if len(model_versions) == 1 else None,
                                       note=note)
    what = "accepted the model's labels of" if action == "accept" else f"set pillar {s.pillar(pillar).ja} on"
    ctx.flash(f"Bulk: {what} {len(report['done'])} of {len(selected)} selected cases.")
    for c in report["conflicts"]:
        ctx.flash(f"Conflict, not written: {c['case_id']} was changed by {c['who']} (version {c['actual']}, the "
                  f"queue showed {c['expected']}); open it to see their change.", "error")
    for line in skipped + [f"{c}: no such case" for c in report["missing"]]:
        ctx.flash(f"Skipped {line}.", "error")
    missing = set(selected) - set(planned) - {s.split(":")[0] for s in skipped}
    for case_id in sorted(missing - set(report["missing"])):
        ctx.flash(f"Skipped {case_id}: no such case.", "error")
    return RedirectResponse(back, status_code=303)
