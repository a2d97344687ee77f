"""Dashboard figures: progress, reviewers' activity, model-vs-reviewer pillar confusion,
agreement between reviewers (Cohen's kappa) and cases per prefecture on a map of Japan.

Confusion and agreement are read from the history (`Store.label_history('pillar')`), not from
the current values, so a label a reviewer later undid does not count and one overwritten by a
second reviewer still does."""

from __future__ import annotations

import functools
import json
import math
import warnings
from dataclasses import dataclass, field

from jirei.paths import package_dir
from jirei.store import CaseQuery

from .labels import is_reviewer_value, scheme

MAP_FILE = package_dir("jirei.webapp.static.map") / "japan_prefectures.json"
# Sequential blues (light to dark) for the choropleth; grey for prefectures without cases.
MAP_COLOURS = ("#dbe9f6", "#a9cce3", "#6baed6", "#3182bd", "#08519c")
MAP_EMPTY = "#eeeeee"


@dataclass
class PillarReviews:
    """Per case: the model's pillar before any reviewer changed it, and each reviewer's final one."""

    model: str | None = None
    by_reviewer: dict[str, str] = field(default_factory=dict)  # insertion order = who labelled first


def pillar_reviews(entries: list[dict]) -> dict[str, PillarReviews]:
    cases: dict[str, PillarReviews] = {}
    for e in entries:
        r = cases.setdefault(e["case_id"], PillarReviews())
        old, new = e["old"], e["new"]
        if r.model is None and isinstance(old, dict) and old.get("label") and not is_reviewer_value(old):
            r.model = old["label"]
        if (e.get("note") or "").startswith("adjudicate "):
            continue  # a decision on a disagreement, not a labelling
        if (e.get("note") or "").startswith("undo #"):
            r.by_reviewer.pop(e["who"], None)  # the reviewer withdrew their label
        if is_reviewer_value(new) and new.get("label"):
            who = new.get("reviewer") or e["who"]
            r.by_reviewer.pop(who, None)  # re-insert: order is by their latest label
            r.by_reviewer[who] = new["label"]
    return cases


def confusion(reviews: dict[str, PillarReviews]) -> dict:
    ids = scheme().pillar_ids
    matrix = {m: {r: 0 for r in ids} for m in ids}
    pairs = changed = 0
    for r in reviews.values():
        if r.model not in matrix:
            continue
        for label in r.by_reviewer.values():
            if label in ids:
                matrix[r.model][label] += 1
                pairs += 1
                changed += label != r.model
    return {"matrix": matrix, "pairs": pairs, "changed": changed,
            "max": max([v for row in matrix.values() for v in row.values()] + [1])}


def agreement(reviews: dict[str, PillarReviews]) -> dict:
    """Cohen's kappa over cases labelled by two or more reviewers: the first two reviewers of
    each case are rater A and rater B (kappa for two raters; pooled over reviewer pairs)."""
    from sklearn.metrics import cohen_kappa_score

    a, b = [], []
    for r in reviews.values():
        labels = list(r.by_reviewer.values())
        if len(labels) >= 2:
            a.append(labels[0])
            b.append(labels[1])
    out = {"cases": len(a), "agree": sum(x == y for x, y in zip(a, b)), "kappa": None, "why": ""}
    if len(a) < 2:
        out["why"] = "needs at least two cases reviewed by two reviewers"
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one shared label: sklearn warns and returns nan
        kappa = cohen_kappa_score(a, b, labels=scheme().pillar_ids)
    if math.isnan(kappa):
        out["why"] = "undefined: both reviewers used a single label"
    else:
        out["kappa"] = round(float(kappa), 3)
    return out


def _kappa(a: list, b: list, labels: list) -> tuple[float | None, str]:
    """Cohen's kappa of two raters' labels (scikit-learn), or None and why it is undefined."""
    from sklearn.metrics import cohen_kappa_score

    if len(a) < 2:
        return None, "needs at least two double-labelled cases"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one shared label: sklearn warns and returns nan
        kappa = cohen_kappa_score(a, b, labels=labels)
    if math.isnan(kappa):
        return None, "undefined: both reviewers gave one single answer"
    return round(float(kappa), 3), ""


def blind_agreement(pairs: list[dict]) -> dict:
    """Agreement on the blind double labelling (`Store.blind_pairs()`): rater A is the case's
    first-pass reviewer, rater B its blind second reviewer, whatever the adjudication decided
    later. Cohen's kappa over the four pillars, then for each pillar (that pillar or not) and
    each action item (chosen or not), each with the number of cases behind it."""
    s = scheme()
    done = [p for p in pairs if p.get("first_label") and p["status"] in ("agree", "disagree", "adjudicated")]
    a = [p["first_label"].get("pillar") for p in done]
    b = [p["label"].get("pillar") for p in done]
    kappa, why = _kappa(a, b, s.pillar_ids)
    out = {"cases": len(done), "agree": sum(x == y for x, y in zip(a, b)), "kappa": kappa, "why": why,
           "waiting": sum(1 for p in pairs if p["status"] == "waiting"),
           "open": sum(1 for p in pairs if p["status"] == "disagree"),
           "adjudicated": sum(1 for p in pairs if p["status"] == "adjudicated"),
           "per_pillar": [], "per_item": []}
    for p in s.pillars:
        x, y = [v == p.id for v in a], [v == p.id for v in b]
        k, w = _kappa(x, y, [False, True])
        out["per_pillar"].append({"id": p.id, "ja": p.ja, "kappa": k, "why": w, "cases": len(done),
                                  "a": sum(x), "b": sum(y), "both": sum(i and j for i, j in zip(x, y))})
    items_a = [set(p["first_label"].get("action_items") or []) for p in done]
    items_b = [set(p["label"].get("action_items") or []) for p in done]
    for item in s.items:
        x, y = [item.number in i for i in items_a], [item.number in i for i in items_b]
        k, w = _kappa(x, y, [False, True])
        out["per_item"].append({"number": item.number, "ja": item.ja, "kappa": k, "why": w, "cases": len(done),
                                "a": sum(x), "b": sum(y), "both": sum(i and j for i, j in zip(x, y))})
    return out


@functools.lru_cache(maxsize=1)
def map_shapes() -> dict:
    return json.loads(MAP_FILE.read_text(encoding="utf-8"))


def prefecture_map(counts: dict[str, int]) -> dict:
    """The choropleth: each prefecture's path with its case count and fill colour (five equal
    steps up to the largest count), plus the legend."""
    shapes = map_shapes()
    top = max([counts.get(p["name"], 0) for p in shapes["prefectures"]] + [0])
    steps = len(MAP_COLOURS)

    def colour(n: int) -> str:
        if n <= 0 or top == 0:
            return MAP_EMPTY
        return MAP_COLOURS[min(steps - 1, math.ceil(n / top * steps) - 1)]

    prefs = [{**p, "count": counts.get(p["name"], 0), "fill": colour(counts.get(p["name"], 0))}
             for p in shapes["prefectures"]]
    legend = [{"fill": MAP_EMPTY, "text": "0"}]
    for i, c in enumerate(MAP_COLOURS):
        lo, hi = math.floor(top * i / steps) + 1, math.floor(top * (i + 1) / steps)
        if top and hi >= lo:
            legend.append({"fill": c, "text": f"{lo}–{hi}" if hi > lo else f"{hi}"})
    vb = shapes["viewBox"]
    return {"prefectures": prefs, "viewBox": " ".join(f"{v:g}" for v in vb), "inset": shapes["okinawa_inset"],
            "legend": legend, "source": shapes["source"], "top": top,
            "ranking": sorted((p for p in prefs if p["count"]), key=lambda p: -p["count"])[:10],
            "with_cases": sum(1 for p in prefs if p["count"])}


def region_markers(regions: dict[str, dict]) -> list[dict]:
    """Region values (関西 …) as markers on the map: at the mean centre of their prefectures."""
    centres = {p["name"]: p["centre"] for p in map_shapes()["prefectures"]}
    out = []
    for name, r in sorted(regions.items(), key=lambda kv: -kv[1]["cases"]):
        points = [centres[p] for p in r["prefectures"] if p in centres]
        if not points:
            continue
        x = sum(p[0] for p in points) / len(points)
        y = sum(p[1] for p in points) / len(points)
        out.append({"name": name, "cases": r["cases"], "prefectures": r["prefectures"], "x": round(x, 1),
                    "y": round(y, 1)})
    return out


def dashboard_context(store) -> dict:
    counts = store.queue_counts(CaseQuery())
    reviews = pillar_reviews(store.label_history("pillar"))
    pillar_counts = store.key_counts("pillar")
    place_counts = store.key_counts("places")
    s = scheme()
    return {
        "counts": counts,
        "progress": round(100 * counts["reviewed"] / counts["total"], 1) if counts["total"] else 0.0,
        "activity": store.reviewer_activity(),
        "reviewed_by": _reviewed_by(reviews),
        "confusion": confusion(reviews),
        "agreement": agreement(reviews),
        "pillars": [{"id": p.id, "ja": p.ja, "count": pillar_counts.get(p.id, 0)} for p in s.pillars],
        "map": prefecture_map(place_counts),
        "regions": region_markers(store.region_places()),
        "blind": blind_agreement(store.blind_pairs()),
        "assignments": store.assignment_summary(),
    }


def _reviewed_by(reviews: dict[str, PillarReviews]) -> dict[str, dict[str, int]]:
    """Per reviewer: cases they gave a pillar, and how many of those differ from the model."""
    out: dict[str, dict[str, int]] = {}
    for r in reviews.values():
        for who, label in r.by_reviewer.items():
            row = out.setdefault(who, {"labelled": 0, "changed": 0})
            row["labelled"] += 1
            row["changed"] += bool(r.model and label != r.model)
    return out
