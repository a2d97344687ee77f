"""The queue's filters as URL parameters, checked, and as the store's CaseQuery.

The same parameters travel from the queue to each case page and back (j/k and save move within
the filtered queue), so they are parsed in one place. Unknown or malformed values are dropped,
never passed to the store."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from urllib.parse import parse_qsl, urlencode

from jirei.store import CaseQuery

from .labels import scheme
from .places import PREFECTURES

PAGE_SIZE = 50
_DOC_RE = re.compile(r"^[0-9a-f]{4,64}$")
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

    @classmethod
    def from_params(cls, params) -> "QueueFilters":
        get = lambda k: (params.get(k) or "").strip()  # noqa: E731
        item = get("item")
        return cls(
            q=get("q")[:200],
            doc=get("doc").lower() if _DOC_RE.match(get("doc").lower()) else "",
            pillar=get("pillar") if get("pillar") in scheme().pillar_ids else "",
            item=item if item.isdigit() and scheme().item(int(item)) else "",
            pref=get("pref") if get("pref") in PREFECTURES else "",
            reviewed=get("reviewed") if get("reviewed") in ("yes", "no") else "",
            needs="1" if get("needs") == "1" else "",
        )

    @classmethod
    def from_query_string(cls, qs: str) -> "QueueFilters":
        return cls.from_params(dict(parse_qsl(qs or "")))

    def query(self, *, limit: int | None = None, offset: int = 0) -> CaseQuery:
        return CaseQuery(
            pillar=self.pillar or None, item=int(self.item) if self.item else None, prefecture=self.pref or None,
            search=self.q or None, needs_review=True if self.needs else None,
            reviewed={"yes": True, "no": False}.get(self.reviewed), doc_id=self.doc or None,
            order="queue", limit=limit, offset=offset)

    def params(self, **extra) -> dict[str, str]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
        out.update({k: str(v) for k, v in extra.items() if v not in (None, "")})
        return out

    def qs(self, **extra) -> str:
        """The filters (and `extra`) as a query string, empty values left out."""
        return urlencode(self.params(**extra))

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))
