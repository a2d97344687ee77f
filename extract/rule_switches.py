"""Named entity rules that can be switched off, so a rule is scored only on documents it was not
developed on (and a test can show what a rule changes).

A rule written while reading a real document's errors would flatter that document's figure. Each
such rule has a name here; `jirei evaluate entities` scores every document with all rules, and,
for its cross-document figure, scores each document again with the rules developed on it switched
off (`evaluation/entities.py`, `RULES_DEVELOPED_ON`). Outside that evaluation every rule is on.

`on(name)` is what a rule asks; `switched_off(names)` is a context manager for the evaluation.
The switch is a context variable, so it holds for the stage running in this thread only.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Iterable, Iterator

#: Every switchable rule, with what it does.
RULES = {
    "places.comparison": "a place named as a comparison or an exclusion (`札幌や東京等の都市にはない魅力`, "
                         "`東京と比べて`, `大阪以外`) is no place of the case",
    "places.event_venue": "a numbered event named by its city (`第22回旭川展`) and a venue joined by `in` "
                          "(`旭川展in旭川市民文化センター`) name the city where it is held",
    "places.title_page_first": "the document's own place is read first from its title page before the first "
                               "case (a town named in the first article is not the publisher)",
    "places.place_title_lines": "a line outside every case that is one municipality with its prefecture "
                                "(`兵庫県 豊岡市`, `東川町(北海道)`) states the place of the cases below it",
    "places.government_office": "a prefecture's department signing the title page (`長野県企画振興部`) makes the "
                                "document that prefecture's own publication, its name the document's place",
    "places.self_reference": "a case that names other towns but in which the publishing municipality speaks of "
                             "itself (`本村では`, `当町として`) has the document's place too",
    "places.self_named_municipality": "a document without a title page naming its municipality (a newsletter's "
                                      "articles sent as text) is that municipality's when it names it far more "
                                      "than any other and writes of itself in its words (`村民`, `本村`, `来村`)",
    "organisations.venue": "a facility named only as the venue (`in旭川市民文化センター`, `公民館にて`, `会場:…`, "
                           "`…で開催`) is mentioned, no partner",
    "organisations.kana_school_abbreviation": "a school's kana abbreviation in brackets after what it is "
                                               "(`村立高校(おと高)`) or before に/で/を/も (`おと高による`) names it",
    "sentences.run_on_after_particle": "a column's line cut at a particle before a blank line (`おと高に` / "
                                       "`よる連携授業`) runs on: the blank line ends no sentence",
    "places.chamber_report": "a local chamber's own report: a case naming no place gets the chamber's city",
}

_OFF: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("jirei_rules_off", default=frozenset())


def on(name: str) -> bool:
    """Is the rule `name` switched on (the default)?"""
    if name not in RULES:
        raise KeyError(f"unknown rule: {name}")
    return name not in _OFF.get()


@contextmanager
def switched_off(names: Iterable[str]) -> Iterator[None]:
    """Run the block with the rules `names` switched off."""
    names = frozenset(names)
    unknown = names - RULES.keys()
    if unknown:
        raise KeyError(f"unknown rules: {sorted(unknown)}")
    token = _OFF.set(_OFF.get() | names)
    try:
        yield
    finally:
        _OFF.reset(token)
