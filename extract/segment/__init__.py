"""Case segmentation: one declared rule set per layout family, plus a general fallback.

`segment(doc)` scores every registered rule set on the document's lines and lets the best one
tag them; a layout none of them recognises goes to the fallback. A new layout is added by
writing a rule set (a `name`, `score(lines)` and `tag(lines)`) and registering it here.
"""

from __future__ import annotations

from jirei.records import Case, Document

from .base import Role, RuleSet, Tag, assemble
from .casebook import CasebookRules
from .fallback import FallbackRules
from .headed import HeadedReportRules
from .lines import Line, split_lines
from .slides import SlideDeckRules

RULE_SETS: list[RuleSet] = [CasebookRules(), SlideDeckRules(), HeadedReportRules()]
FALLBACK: RuleSet = FallbackRules()
# A declared layout is trusted only when it finds at least this many typical case heads.
MIN_SCORE = 3


def choose_rule_set(lines: list[Line]) -> RuleSet:
    scored = [(rs.score(lines), i, rs) for i, rs in enumerate(RULE_SETS)]
    score, _, best = max(scored, key=lambda t: (t[0], -t[1]))
    return best if score >= MIN_SCORE else FALLBACK


def rule_set_named(name: str) -> RuleSet:
    for rs in [*RULE_SETS, FALLBACK]:
        if rs.name == name:
            return rs
    raise KeyError(f"unknown layout {name!r}; known: {', '.join(layout_names())}")


def layout_names() -> list[str]:
    return [rs.name for rs in [*RULE_SETS, FALLBACK]] + ["form"]


def segment(doc: Document, layout: str | None = None) -> list[Case]:
    """Split a document into case entries (heading + body) with spans, pages and sections."""
    if layout in (None, "form"):
        from jirei.extract.forms import form_cases  # a submission form is one case, whatever its layout

        cases = form_cases(doc)
        if cases or layout == "form":
            return cases
    lines = split_lines(doc)
    rule_set = rule_set_named(layout) if layout else choose_rule_set(lines)
    return assemble(doc, lines, rule_set.tag(lines), rule_set.name)


__all__ = ["segment", "choose_rule_set", "layout_names", "RULE_SETS", "Role", "Tag", "Line"]
