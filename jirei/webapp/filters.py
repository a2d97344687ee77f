"""The queue's filters as URL parameters, checked, and as the store's CaseQuery.

The same parameters travel from the queue to each case page and back (j/k and save move within
the filtered queue), so they are parsed in one place. Unknown or malformed values are dropped,
never passed to the store."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from urllib.parse import parse_qsl, urlencode

from jirei.store import CaseQuery

from .labels import scheme
from .places import PREFECTURES

PAGE_SIZE = 50
_DOC_RE = re.compile(r"^[0-9a-f]{4,64}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_MODEL_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
# The queue's sorts (column, direction) as the URL names them; "" is the queue's own order.
SORTS = ("", "margin", "-margin", "score", "-score", "title", "-title", "updated", "-updated")


def _fraction(value: str) -> str:
    """A number 0–1 as typed (".3", "0.25"), or "" when it is not one."""
    try:
        number = float(value)
    except ValueError:
        return ""
    return value if 0.0 <= number <= 1.0 else ""
_CASE_RE = re.compile(r"^[0-9a-f]{16}-\d{4,}$")


def valid_case_id(value: str | None) -> str | None:
    return value if value and _CASE_RE.match(value) else None


@dataclass(frozen=True)
class QueueFilters:
    q: str = ""  # full-text search
    doc: str = ""  # document id (prefix)
    pillar: str = ""
    item: str = ""
    pref: str = ""
    reviewed: str = ""  # yes | no | ""
    needs: str = ""  # "1": only cases the model flagged
    score_min: str = ""  # the pillar's probability, 0–1
    score_max: str = ""
    margin_max: str = ""  # best minus second pillar probability, 0–1
    model: str = ""  # pillar set by this model version
    reviewer: str = ""  # pillar set by this reviewer
    disagree: str = ""  # "1": blind double labelling disagrees, not adjudicated
    notes: str = ""  # "1": cases with a reviewer's note
    mine: str = ""  # "1": the logged-in user's open assignments
    sort: str = ""  # one of SORTS
    user: str = field(default="", compare=True, repr=False)  # whose queue `mine` means; never in the URL

    @classmethod
    def from_params(cls, params, user: str = "") -> "QueueFilters":
        """The filters of a URL's parameters; `user` (the logged-in reviewer) is what `mine` means."""
        get = lambda k: (params.get(k) or "").strip()  # noqa: E731
        item = get("item")
        mine = "1" if get("mine") == "1" and user else ""
        return cls(
            q=get("q")[:200],
            doc=get("doc").lower() if _DOC_RE.match(get("doc").lower()) else "",
            pillar=get("pillar") if get("pillar") in scheme().pillar_ids else "",
            item=item if item.isdigit() and scheme().item(int(item)) else "",
            pref=get("pref") if get("pref") in PREFECTURES else "",
            reviewed=get("reviewed") if get("reviewed") in ("yes", "no") else "",
            needs="1" if get("needs") == "1" else "",
            score_min=_fraction(get("score_min")), score_max=_fraction(get("score_max")),
            margin_max=_fraction(get("margin_max")),
            model=get("model") if _MODEL_RE.match(get("model")) else "",
            reviewer=get("reviewer") if _NAME_RE.match(get("reviewer")) else "",
            disagree="1" if get("disagree") == "1" else "",
            notes="1" if get("notes") == "1" else "",
            mine=mine, user=user if mine else "",
            sort=get("sort") if get("sort") in SORTS else "",
        )

    @classmethod
    def from_query_string(cls, qs: str, user: str = "") -> "QueueFilters":
        return cls.from_params(dict(parse_qsl(qs or "")), user)

    def query(self, *, limit: int | None = None, offset: int = 0, sparse: bool = False) -> CaseQuery:
        return CaseQuery(
            pillar=self.pillar or None, item=int(self.item) if self.item else None, prefecture=self.pref or None,
            search=self.q or None, needs_review=True if self.needs else None,
            reviewed={"yes": True, "no": False}.get(self.reviewed), doc_id=self.doc or None,
            score_min=float(self.score_min) if self.score_min else None,
            score_max=float(self.score_max) if self.score_max else None,
            margin_max=float(self.margin_max) if self.margin_max else None,
            model=self.model or None, reviewer=self.reviewer or None,
            assignee=self.user if self.mine and self.user else None,
            disagreement=bool(self.disagree), has_notes=bool(self.notes),
            order=self.sort or "queue", limit=limit, offset=offset, sparse=sparse)

    def params(self, **extra) -> dict[str, str]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) and f.name != "user"}
        out.update({k: str(v) for k, v in extra.items() if v not in (None, "")})
        return out

    def qs(self, **extra) -> str:
        """The filters (and `extra`) as a query string, empty values left out."""
        return urlencode(self.params(**extra))

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name != "user")

    def sorted_by(self, column: str) -> str:
        """The sort a column header's link asks for: ascending first, then descending, then off."""
        if self.sort == column:
            return "-" + column
        if self.sort == "-" + column:
            return ""
        return column
