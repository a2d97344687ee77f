"""Case segmentation: a CRF over the document outline, with the declared rule sets as priors.

`segment(doc)` builds the document's outline (`outline`), lets the rule sets tag
its lines (the best-scoring declared layout, else the general fallback; and the fallback
always), and labels every outline block BEGIN / INSIDE / OUTSIDE / SECTION with the trained
linear-chain CRF (`models/segmenter.crfsuite`, `jirei train-segmenter`), whose features include
those rule-set roles. `base.assemble` turns the labels into entries; `layout` is
`crf+<rule set>`. Without a model file, or with `layout=` naming a rule set, the rule set alone
decides (`segment_rules`). A new layout is added by writing a rule set (a `name`,
`score(lines)` and `tag(lines)`) and registering it here; the CRF then sees its roles.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from jirei import paths
from jirei.extract.forms import form_cases
from jirei.extract.table_rows import with_table_rows
from jirei.records import Case, Document

from .base import Role, RuleSet, Tag, assemble
from .casebook import CasebookRules
from .crf import (Segmenter, block_features, tags_from_labels, templated_runs, too_few_opened, topic_page_labels, under_read,
                  with_continued_cases, with_feature_articles, with_headlines_in_unopened_runs, with_newsletter_reading,
                  with_marked_siblings, with_reported_articles,
                  with_templated_units,
                  without_notice_cases, without_notice_regions)
from .fallback import FallbackRules
from .headed import HeadedReportRules
from .lines import Line, split_lines
from .outline import Outline
from .outline import outline as build_outline
from .patterns import is_legal_text
from .slides import SlideDeckRules

RULE_SETS: list[RuleSet] = [CasebookRules(), SlideDeckRules(), HeadedReportRules()]
FALLBACK: RuleSet = FallbackRules()
# The fallback's roles as the CRF reads them (trained so; see FallbackRules).
PRIOR_FALLBACK: RuleSet = FallbackRules(articles=False)
# A declared layout is trusted only when it finds at least this many typical case heads.
MIN_SCORE = 3
SEGMENTER_FILE = "segmenter.crfsuite"


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


def segment_rules(doc: Document, layout: str | None = None) -> list[Case]:
    """Entries as the rule sets alone give them (the chosen or the named rule set); none for a
    legal text unless a rule set is named."""
    if layout is None and is_legal_text(doc.text):
        return []
    lines = split_lines(doc)
    rule_set = rule_set_named(layout) if layout else choose_rule_set(lines)
    return assemble(doc, lines, rule_set.tag(lines), rule_set.name)


def rule_priors(lines: list[Line]) -> tuple[str, dict[str, list[Tag]]]:
    """The chosen rule set's name and the line tags the CRF reads as priors."""
    rule_set = choose_rule_set(lines)
    fallback = PRIOR_FALLBACK.tag(lines)
    declared = fallback if rule_set is FALLBACK else rule_set.tag(lines)
    return rule_set.name, {"declared": declared, "fallback": fallback}


def document_features(doc: Document):
    """(outline, per-block features, chosen rule set name, declared prior tags) of a document."""
    out = build_outline(doc)
    name, priors = rule_priors(out.lines)
    return out, block_features(out, priors, name), name, priors["declared"]


_SEGMENTERS: dict[str, object] = {}


def load_segmenter(path: str | Path | None = None):
    """The trained CRF at `path` (default models/segmenter.crfsuite), loaded once; None if absent."""
    path = Path(path) if path else paths.MODELS / SEGMENTER_FILE
    if not path.is_file():
        return None
    key = str(path.resolve())
    if key not in _SEGMENTERS:
        _SEGMENTERS[key] = Segmenter(path)
    return _SEGMENTERS[key]


def forget_segmenters() -> None:
    """Drop the loaded models, so the next `segment()` reads the model files again (after
    `jirei train-segmenter` rewrote them)."""
    _SEGMENTERS.clear()


RULES_FLOOR_MIN = 2  # cases the rule set must find where the model opened none


def segment_crf(doc: Document, segmenter) -> list[Case]:
    """Entries as the CRF labels the outline; where it opens cases on too few pages of a document
    paged by topic (slides, case sheets, newsletters in a layout it has not learned), one entry per
    topic page instead, with `layout` `pages+<rule set>`. Where the document's units are written to
    one template (`crf.with_templated_units`: a strategy's measures, each printing the same part
    labels), each unit is a case, with `layout` `template+<rule set>`. Where the model opens no
    case at all, the rule set's entries stand (`rules+<rule set>`; the fallback's take the final
    reading too). In plain text, the rule set's cases stand where the model has no case open
    (`with_rule_cases_between`)."""
    if is_legal_text(doc.text):
        return []  # the guideline's legal texts (work rules, official notices) hold no case
    out, feats, name, prior = document_features(doc)
    labels = without_notice_cases(out, with_headlines_in_unopened_runs(out, segmenter.label(feats)))
    # a case the model opened at a line that never heads one (`…)」` / `が設立されました。`, a
    # sentence the reader split) is closed above, which can leave the run it opened unopened: its
    # headlines over prose open cases as in any unopened run
    labels = without_notice_cases(out, with_feature_articles(out, with_headlines_in_unopened_runs(out, labels)))
    labels = with_reported_articles(out, with_continued_cases(out, labels))
    decided = "crf"
    if under_read(out, labels):
        keep = labels if too_few_opened(out, labels) else None
        labels, decided = topic_page_labels(out, keep), "pages"
    model_opened = "B" in labels
    labels = with_newsletter_reading(out, labels)
    templated = with_templated_units(out, labels)
    if _openings(templated) != _openings(labels):
        decided = "template"  # the template, not the model, says where cases open
    labels = templated
    if decided == "crf" and not model_opened:
        # the model opened no case at all, as it does on a layout unlike any it learned from (a
        # list of programmes whose heads carry only `概要:` `対象:` fields), the document is not
        # paged by topic and no template holds its units: where the rule set that claims it finds
        # cases, they stand
        rule_set = rule_set_named(name)
        cases = assemble(doc, out.lines, rule_set.tag(out.lines), f"rules+{name}")
        if len(cases) >= RULES_FLOOR_MIN:
            if name != "fallback":
                return cases
            # the fallback reads layouts no rule set knows, newsletters among them: its entries
            # take the readings every reading ends with (a notice's items open no case, an event
            # announced with its particulars is one, ...); a known casebook's numbered heads and
            # sub-heads are its rule set's to read
            read = with_newsletter_reading(out, without_notice_cases(out, labels_from_cases(out, cases)),
                                           rule_read=True)
            return assemble(doc, out.lines, tags_from_labels(out, read, prior), f"rules+{name}")
    cases = assemble(doc, out.lines, tags_from_labels(out, labels, prior), f"{decided}+{name}")
    if route_medium(doc) == "/text" and not templated_runs(out.blocks):
        # (a document written to a template has shown its case level: the rule set's readings of
        # plain text stay out)
        rule_set = rule_set_named(name)
        rule_cases = assemble(doc, out.lines, rule_set.tag(out.lines), f"rules+{name}")
        # ...except those a notice reading closes: a notice's numbered items (`②他の医療機関に通院
        # されている方`) are the rule set's heads, not cases
        read = without_notice_regions(out, without_notice_cases(out, labels_from_cases(out, rule_cases)),
                                      close_at_mark=True)
        # ...and those at a head the reading made a section (a feature's head over its articles)
        rule_cases = [c for c, k in zip(rule_cases, _first_blocks(out, rule_cases))
                      if k is not None and read[k] == "B" and labels[k] != "S"]
        cases = with_marked_siblings_across(doc, out, with_rule_cases_between(doc, cases, rule_cases))
    return cases


def with_marked_siblings_across(doc: Document, out: Outline, cases: list[Case]) -> list[Case]:
    """Plain text whose entries two readings decided (the model's and the rule set's between them)
    is read one way too: a head with the article mark of heads that open entries (`◇`), with text
    under it, that one reading left inside an entry opens its own (`crf.with_marked_siblings`
    over the merged entries). The entry it was in ends before it; the new one keeps its layout."""
    labels = labels_from_cases(out, cases)
    read = with_marked_siblings(out, labels)
    opened = [k for k, (a, b) in enumerate(zip(labels, read)) if b == "B" and a != "B"]
    if not opened:
        return cases
    cases = list(cases)
    for k in opened:
        start = out.blocks[k].start
        j = next((j for j, c in enumerate(cases) if c.span[0] < start < c.span[1]), None)
        if j is None:
            continue
        c = cases[j]
        end = c.span[0] + len(doc.text[c.span[0] : start].rstrip())
        head = replace(c, span=(c.span[0], end), text=doc.text[c.span[0] : end])
        title = out.blocks[k].text.split("\n")[0].strip()
        # its text is what the reading put under it, blocks outside any entry included
        last = k
        while last + 1 < len(read) and read[last + 1] == "I":
            last += 1
        stop = max(c.span[1], out.blocks[last].end)
        tail = replace(c, title=title, span=(start, stop), text=doc.text[start:stop], page=out.blocks[k].page)
        cases[j : j + 1] = [head, tail]
    return [replace(c, ordinal=n) for n, c in enumerate(cases, 1)]


def labels_from_cases(out: Outline, cases: list[Case]) -> list[str]:
    """Block labels of entries read another way (a rule set's): `B` at the first block an entry
    reaches, `I` for the further blocks that start inside it, `O` elsewhere."""
    labels = ["O"] * len(out.blocks)
    for c in cases:
        a, z = c.span
        inside = [k for k, b in enumerate(out.blocks) if b.end > a and b.start < z]
        for n, k in enumerate(inside):
            labels[k] = "I" if n else "B"
    return labels


def _first_blocks(out: Outline, cases: list[Case]) -> list[int | None]:
    """The first block each entry reaches (where `labels_from_cases` puts its `B`)."""
    return [next((k for k, b in enumerate(out.blocks) if b.end > c.span[0] and b.start < c.span[1]), None) for c in cases]


def _openings(labels: list[str]) -> list[int]:
    return [i for i, label in enumerate(labels) if label == "B"]


def with_rule_cases_between(doc: Document, cases: list[Case], rule_cases: list[Case]) -> list[Case]:
    """The model's cases, and the rule set's cases that open where the model has no case open (each
    ended at the model's next case): in plain text (no typography, no pages) the model opens few
    cases, the ones it is sure of (a newsletter's signed reports), and leaves whole columns of
    articles outside any case that the rule set's reading of text finds. Their `layout` says the
    rule set decided them."""
    starts = sorted(c.span[0] for c in cases)
    added = []
    for c in rule_cases:
        if any(k.span[0] <= c.span[0] < k.span[1] for k in cases):
            continue
        nxt = next((s for s in starts if s > c.span[0]), None)
        if nxt is not None and nxt < c.span[1]:
            c = replace(c, span=(c.span[0], nxt), text=doc.text[c.span[0] : nxt])
        added.append(c)
    if not added:
        return cases
    merged = sorted(cases + added, key=lambda c: c.span[0])
    return [replace(c, ordinal=k) for k, c in enumerate(merged, 1)]


def segment(doc: Document, layout: str | None = None, model: str | Path | None = None) -> list[Case]:
    """Split a document into case entries (heading + body) with spans, pages and sections.

    The trained CRF decides, except for a document kind (the rule set that claims the layout;
    `declared` pools the declared ones, for a layout without evidence of its own) where the model
    card's cross-validation evidence found the rule sets better; then the rule set decides, as
    `layout` says. A submission form is one case, whatever its layout (`jirei.extract.forms`); a
    table whose rows are cases gives one case per row (`jirei.extract.table_rows`)."""
    if layout in (None, "form"):
        cases = form_cases(doc)
        if cases or layout == "form":
            return cases
    if layout:
        return segment_rules(doc, layout)
    return with_table_rows(doc, _segment_by_route(doc, model))


def _segment_by_route(doc: Document, model: str | Path | None) -> list[Case]:
    segmenter = load_segmenter(model)
    if segmenter is None:
        return segment_rules(doc)
    lines = split_lines(doc)
    rule_set = choose_rule_set(lines)
    if rules_decide(segmenter.routes, doc, rule_set.name):
        if is_legal_text(doc.text):
            return []
        return assemble(doc, lines, rule_set.tag(lines), rule_set.name)
    return segment_crf(doc, segmenter)


def find_route(routes: dict[str, dict], rule_set: str, medium: str) -> dict:
    """The model card's route for a document that `rule_set` claims, in `medium` (`route_medium`):
    the evidence of its own kind in that medium, else (for a declared layout) of every declared
    layout pooled in that medium, else the same two for PDFs (a card without the medium's key);
    {} when the card has none (the CRF decides)."""
    declared = rule_set != FALLBACK.name
    for key in (rule_set + medium, "declared" + medium if declared else None,
                rule_set, "declared" if declared else None):
        if key and routes.get(key):
            return routes[key]
    return {}


def rules_decide(routes: dict[str, dict], doc: Document, rule_set: str) -> bool:
    """Do the rule sets decide `doc`'s entries rather than the CRF? They do where the route's
    cross-validation evidence found them better, or saw too few documents of this kind. The
    segmenter and the evaluation's "as routed" figure both ask this."""
    return route_path(find_route(routes, rule_set, route_medium(doc)), doc.kind == "pdf") == "rules"


def route_path(route: dict, pdf: bool) -> str:
    """The path a route sends a document down ("crf" or "rules"), for a PDF or (`pdf` False) a text
    document: the route's choice, unless it chose the CRF on too little evidence of that kind."""
    return "rules" if route.get("path", "crf") == "rules" or not _evidence_for_kind(route, pdf) else "crf"


# A text file without page breaks is markdown with headings when at least this many lines carry
# heading marks (`## 見出し`): converters that read font sizes write them.
MARKDOWN_HEADINGS_MIN = 3
_MARKDOWN_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.M)


def route_medium(doc: Document) -> str:
    """The medium a route is chosen for: "" for a PDF, "/paged" for a text file marking its pages
    (`jirei.extract.text.text_pages`), "/markdown" for an unpaged text file with markdown heading
    marks (at least MARKDOWN_HEADINGS_MIN), "/text" for other text and the Office formats."""
    if doc.kind == "pdf":
        return ""
    if doc.kind == "text" and doc.pages:
        return "/paged"
    if doc.kind == "text" and len(_MARKDOWN_HEADING.findall(doc.text)) >= MARKDOWN_HEADINGS_MIN:
        return "/markdown"
    return "/text"


def _evidence_for_kind(route: dict, pdf: bool) -> bool:
    """Did the cross-validation that chose the CRF for this route see documents of this kind?
    The evidence must hold at least two documents of the same kind (PDF pages, or plain text),
    else the rule sets decide: a short numbered casebook in a text file has no likeness among the
    CRF's paged development documents, and the rule sets read it right."""
    documents = route.get("documents")
    if documents is None:
        return True
    same_kind = [d for d in documents if d.split(" ")[0].endswith(".pdf") == pdf or (not pdf and " as " in d)]
    return len(same_kind) >= 2


__all__ = ["with_rule_cases_between", "route_medium", "find_route", "route_path", "rules_decide", "segment", "segment_rules", "segment_crf", "load_segmenter", "forget_segmenters", "choose_rule_set", "layout_names", "RULE_SETS", "Role", "Tag", "Line"]
