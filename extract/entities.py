"""The entities stage: organisations, places and years for every case entry.

`extract_entities(document, cases, recognise)` fills `organisations`, `places`, `years` and
`year_mentions` of each Case in place. Every value carries `source` (heading | rule | ner |
document) and `span`: offsets into the document's text, the same space as `Case.span` (for
`document`, where the document states the value for all its parts).

What each part does:
- organisations: the heading first (layouts name the case's organisation there), then the body
  through GiNZA with Jirei's components (`jirei.extract.organisations`); filtered of generic
  mentions and internal units; a place name alone is no organisation here: the municipalities
  and prefectures that act are added, with kind, roles and the document's context, by
  `jirei.extract.actors`;
- places: gazetteer rules over the case text (`jirei.extract.places`), plus the city a
  chamber of commerce in the heading implies when the text does not name it;
- years: rules (`jirei.extract.years`); relative expressions resolved against the document's date;
  `years` holds the initiative's years only (mentions of kind statistic, history or target stay
  in `year_mentions`).

A submission form's declared fields (`Case.declared`, see `jirei.extract.forms`) come first, with
`source: "declared"`: the declared organisation is the lead (the heading rules are not applied to a
declared title), declared partners follow, the declared place is coded through the gazetteer, and
years written in the declared period are marked declared. The body's values are added after them.
"""

from __future__ import annotations

import re
from typing import Any


from jirei.extract import actors
from jirei.extract import organisations as orgs
from jirei.extract import places as places_mod
from jirei.extract import years as years_mod
from jirei.records import Case, Document


# --- helpers over the place gazetteer ------------------------------------------------------------


def is_place_only(fragment: str) -> bool:
    """Is the fragment nothing but place names (`長野県茅野市-東京都虎ノ門地区`, `福知山市`)?"""
    frag = fragment.strip()
    if not frag:
        return False
    found = places_mod.find_places(frag)
    covered = sum(p["span"][1] - p["span"][0] for p in found)
    rest = re.sub(r"[・、,\-‐~〜\s]|ほか|他|等|など|地区|地域|エリア|東部|西部|南部|北部", "", frag)
    return bool(found) and covered >= len(rest) * 0.8


# Particles and verb endings: a phrase (`NPO法人MEGURUと地域人材確保支援`), not a name.
_PHRASE = re.compile(r"[とのをにでへ](?=[\u4e00-\u9fff])|による|における|した|する|向けた")


def _ner_name(ent) -> str | None:
    """An NER organisation worth keeping: a name (proper noun or Latin/katakana word in it), not
    ending in a verbal noun (`ファンド設立`, `新産業創出`), brackets balanced."""
    if ent.label_ not in orgs.NER_TRUSTED_LABELS or "\n" in ent.text:
        return None
    toks = [t for t in ent if not t.is_space]
    while toks and re.fullmatch(r"[ぁ-ゖ]+", toks[-1].text):  # `富士通ならび`
        toks.pop()
    if not toks:
        return None
    if not any(t.pos_ == "PROPN" or re.fullmatch(r"[A-Za-z][A-Za-z0-9\-&.]+", t.text) for t in toks):
        return None
    if toks[-1].pos_ in {"ADP", "AUX", "VERB", "SCONJ"}:
        return None
    # `ファンド設立`, `新産業創出` end in a verbal noun; `辻製油` is a surname + trade.
    if toks[-1].tag_.endswith("サ変可能") and not (len(toks) > 1 and toks[-2].pos_ == "PROPN"):
        return None
    text = ent.doc[toks[0].i : toks[-1].i + 1].text
    balanced = text.count("(") == text.count(")") and text.count("「") == text.count("」")
    return text if balanced else None


# Areas, facilities, funds, programmes and models are not organisations (corpus/entities/README.md).
_NOT_A_BODY = re.compile(
    r"(?:圏|圏域|地域|地区|駅|駅前|空港|公園|施設|モデル|方式|プロジェクト|事業|制度|プログラム)$|(?i:fund)|ファンド"
)
# `ABIC(国際社会貢献センター)`, `情報処理推進機構(IPA)`: an abbreviation and the name it stands for.
_ABBREVIATION = re.compile(r"([A-Za-z][A-Za-z0-9&\-]{1,11})\s*[(（]([^()（）]{3,30})[)）]|([^\s()（）、。]{3,30})[(（]([A-Za-z][A-Za-z0-9&\-]{1,11})[)）]")
# `京都や神戸商工会議所`: two bodies sharing one head.
_SHARED_HEAD = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,3})や([\u4e00-\u9fff]{2,3})(商工会議所|商工会)")


def _abbreviations(text: str) -> dict[str, str]:
    """Abbreviation → full name, from the `ABBR(name)` and `name(ABBR)` shapes in a text."""
    out = {}
    for m in _ABBREVIATION.finditer(text):
        abbr, full = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        if orgs.has_org_head(full) or full.endswith(("センター", "会")):
            out[abbr] = full
    return out


def _shared_head_names(case: Case) -> list[dict]:
    out = []
    for m in _SHARED_HEAD.finditer(case.text):
        name = m.group(1) + m.group(3)
        if m.group(1).endswith(("市", "県", "町", "村")) or not _org_name_ok(name):
            continue
        s = case.span[0] + m.start()
        out.append({"name": name, "text": m.group(), "role": "partner", "source": "rule",
                    "label": "shared-head", "span": [s, case.span[0] + m.end()]})
    return out


def _org_name_ok(name: str) -> bool:
    n = orgs.normalise_org_name(name)
    if len(n) < 2 or orgs.is_generic(n) or _NOT_A_BODY.search(n):
        return False
    # A bare place name is left to the government-actor rules (jirei.extract.actors);
    # `関西広域連合` is a body named after one.
    if not orgs.has_org_head(n) and is_place_only(n):
        return False
    if re.fullmatch(r"[\d\s.,年月日度]+", n) or re.match(r"(?i)https?\b|www\.|.*://", n):
        return False  # dates, and URLs the NER takes for companies
    return True


# --- the stage -----------------------------------------------------------------------------------


def _locate(text: str, name: str, default: tuple[int, int]) -> tuple[int, int]:
    """Where `name` is written in `text`, allowing line breaks and spaces inside it (a heading
    wrapped over two lines)."""
    i = text.find(name)
    if i >= 0:
        return i, i + len(name)
    pattern = r"\s*".join(map(re.escape, name.replace(" ", "")))
    m = re.search(pattern, text) if pattern else None
    return (m.start(), m.end()) if m else default


def _heading_organisations(case: Case, heading_mentions: list[dict]) -> list[dict[str, Any]]:
    """Organisations the heading names, with the NER of the heading as the judge of bare names."""
    heading_ents = {m["text"].strip(): m["label"] for m in heading_mentions}

    def is_org_name(fragment: str, layout_says_org: bool = False, strict: bool = False) -> bool:
        f = fragment.strip()
        if not _org_name_ok(f):
            return False
        # `瀬戸内暮らしの大学` is a name; `NPO法人MEGURUと地域人材確保支援` a phrase.
        phrase = _PHRASE.search(f)
        if phrase and not (phrase.group() == "の" and orgs.has_org_head(f)):
            return False
        if orgs.has_org_head(f) or layout_says_org:
            return True
        label = heading_ents.get(f) or heading_ents.get(orgs.normalise_org_name(f))
        if strict:
            return label in orgs.NER_TRUSTED_LABELS
        # A heading whose subject the NER takes for a name, before a place in parentheses:
        # `浅野撚糸(福島県双葉町)`, `えちぜん鉄道(福井県)`.
        return label in orgs.NAME_LABELS

    leads, partners = orgs.organisations_from_heading(case.title, is_place_only, is_org_name)
    base = case.span[0]
    out = []
    for role, names in (("lead", leads), ("partner", partners)):
        for name in names:
            s, e = _locate(case.text, name, (0, len(case.title)))
            entry = {
                "name": orgs.normalise_org_name(name), "text": case.text[s:e], "role": role,
                "source": "heading", "span": [base + s, base + e],
            }
            # the NER's label of the name in the heading tells its kind (`Company` -> company)
            label = heading_ents.get(name.strip()) or heading_ents.get(entry["name"])
            if label:
                entry["label"] = label
            out.append(entry)
    return out


_LIST_SEPARATORS = re.compile(r"[、,，/／\n]|および|及び|並びに|ならびに")


def _declared_organisations(case: Case) -> list[dict[str, Any]]:
    """The lead a form declares, then its declared partners (a municipality partner is a place)."""
    out = []
    lead = case.declared.get("organisation")
    if lead:
        value = lead["value"].split("\n")[0].strip()
        s = lead["span"][0] + lead["value"].find(value)
        out.append({"name": orgs.normalise_org_name(value), "text": value, "role": "lead", "source": "declared",
                    "span": [s, s + len(value)]})
    partners = case.declared.get("partners")
    if partners:
        pos = 0
        for part in _LIST_SEPARATORS.split(partners["value"]):
            i = partners["value"].find(part, pos)
            pos = i + len(part)
            name = re.sub(r"^[・\s]+|[\s等など]+$", "", part)
            if not name or not _org_name_ok(name):
                continue
            s = partners["span"][0] + i + part.find(name)
            out.append({"name": orgs.normalise_org_name(name), "text": name, "role": "partner", "source": "declared",
                        "span": [s, s + len(name)]})
    return out


def _declared_places(case: Case) -> list[dict[str, Any]]:
    field = case.declared.get("place")
    if not field:
        return []
    out = []
    for p in places_mod.find_places(field["value"]):
        p = dict(p, source="declared")
        p["span"] = [field["span"][0] + p["span"][0], field["span"][0] + p["span"][1]]
        out.append(p)
    return out


def _is_alias_of(key: str, lead_key: str) -> bool:
    """`セブン&アイグループ`, `ENEOSグループ`, `三重大学大学院`: the lead under a group or school suffix."""
    m = re.fullmatch(r"(.+?)(?:グループ|大学院|本社)", key)
    if key == lead_key or not m:
        return False
    stem = m.group(1).replace("・", "")
    return lead_key.replace("・", "").startswith(stem) and len(stem) >= 2


def entity_mentions(nlp, texts: list[str]) -> list[list[dict]]:
    """Run the GiNZA pipeline over `texts`; per text, its entities as plain records
    `{text, label, source: rule|ner, start, end, org}` (offsets into the text; `org` is the
    organisation name as written when the entity passes the organisation checks, else None).

    Plain records, not Docs, so that the step can run in worker processes (`MentionRecogniser`).
    """
    from jirei.nlp import pipe_chunks

    out: list[list[dict]] = []
    for chunks in pipe_chunks(nlp, texts):
        mentions = []
        for offset, sdoc in chunks:
            rule_spans = {(s.start_char, s.end_char) for s in sdoc.spans.get("jirei_rules", [])}
            for ent in sdoc.ents:
                source = "rule" if (ent.start_char, ent.end_char) in rule_spans else "ner"
                org = None
                if ent.label_ in orgs.ORG_LABELS:
                    org = ent.text if source == "rule" else _ner_name(ent)
                start, end, text = offset + ent.start_char, offset + ent.end_char, ent.text
                cell = _one_cell(text)
                if cell is not None:  # a name never runs over a table's cell border (`|`, tab)
                    a, b = cell
                    start, end, text = start + a, start + b, text[a:b]
                    org = text if org is not None else None
                mentions.append({"text": text, "label": ent.label_, "source": source,
                                 "start": start, "end": end, "org": org})
        out.append(mentions)
    return out


_CELL_BORDER = re.compile(r"\s*[|\t]\s*")


def _one_cell(text: str) -> tuple[int, int] | None:
    """For an entity that runs over table cell borders, the (start, end) of its longest cell within
    its text; None for an entity inside one cell."""
    if not _CELL_BORDER.search(text):
        return None
    pieces, pos = [], 0
    for m in _CELL_BORDER.finditer(text):
        pieces.append((pos, m.start()))
        pos = m.end()
    pieces.append((pos, len(text)))
    return max(pieces, key=lambda ab: ab[1] - ab[0])


# The label of a form's `label:value` line (`No.:1`, `企業・団体名:…`) names a field, not a body.
_FIELD_LABEL = re.compile(r"(?m)^[^\S\n]*([^:\n]{1,24}):")


def _in_form_label(case: Case, start: int, end: int) -> bool:
    return bool(case.declared) and any(m.start(1) <= start and end <= m.end(1) + 1
                                       for m in _FIELD_LABEL.finditer(case.text))


def _body_organisations(case: Case, mentions: list[dict], lead: str | None) -> list[dict[str, Any]]:
    out = []
    lead_key = orgs.org_key(lead) if lead else None
    abbreviations = _abbreviations(case.text)
    for m in mentions:
        written = m["org"]
        if not written or _in_form_label(case, m["start"], m["end"]):
            continue
        name = orgs.normalise_org_name(abbreviations.get(written, written))
        if not _org_name_ok(name):
            continue
        if lead_key and _is_alias_of(orgs.org_key(name), lead_key):
            continue
        s = case.span[0] + m["start"] + m["text"].find(written)
        out.append({"name": name, "text": written, "role": "partner", "source": m["source"],
                    "label": m["label"], "span": [s, s + len(written)]})
    return out


def _document_organisations(per_case) -> dict[str, str]:
    """Organisations found anywhere in the document, by key: a name the NER recognised in one
    entry (or a heading gave) is recognised in every entry that writes it."""
    known: dict[str, str] = {}
    for heading_orgs, body_orgs, _lead in per_case:
        for o in heading_orgs + body_orgs:
            if len(o["name"]) >= 3 and o.get("label") != "shared-head":
                known.setdefault(orgs.org_key(o["name"]), o["text"])
    return known


def _mentions_of_known(case: Case, known: dict[str, str], lead: str | None) -> list[dict]:
    out = []
    lead_key = orgs.org_key(lead) if lead else None
    abbreviations = _abbreviations(case.text)
    for key, written in known.items():
        i = case.text.find(written)
        if i < 0 or key == lead_key or (lead_key and _is_alias_of(key, lead_key)):
            continue
        s = case.span[0] + i
        name = orgs.normalise_org_name(abbreviations.get(written, written))
        out.append({"name": name, "text": written, "role": "partner",
                    "source": "rule", "label": "document", "span": [s, s + len(written)]})
    return out


def _drop_truncated(found: list[dict]) -> list[dict]:
    """Drop a mention that is the start of a longer organisation of the same case, which the NER
    cut short (`やまがたグローバル人材育成` for `…コンソーシアム`)."""
    keys = [orgs.org_key(o["name"]) for o in found]
    return [o for o, k in zip(found, keys)
            if o["source"] in ("heading", "declared") or not any(len(other) > len(k) >= 4 and other.startswith(k) for other in keys)]


def _chamber_places(organisations: list[dict], places: list[dict]) -> list[dict]:
    """Cities implied by chambers of commerce named in the heading, when the text does not name them."""
    implied = []
    named = {(p.get("prefecture"), p.get("municipality")) for p in places}
    named_prefs = {p.get("prefecture") for p in places if p.get("level") == "prefecture"}
    for o in organisations:
        if o["source"] not in ("heading", "declared") or not re.search(r"商工会議所|商工会$", o["name"]):
            continue
        for p in places_mod.places_implied_by_organisation(o["name"]):
            key = (p.get("prefecture"), p.get("municipality"))
            if key in named or (p.get("municipality") is None and p.get("prefecture") in named_prefs):
                continue
            p = dict(p, source="rule", span=list(o["span"]))
            implied.append(p)
            named.add(key)
    return implied


class MentionRecogniser:
    """`entity_mentions` over a list of texts, in this process or in worker processes that each
    load the pipeline once (Sudachi's tokenizer is not thread-safe: one process, one thread).
    Use as a context manager so the workers stop."""

    def __init__(self, workers: int = 1, nlp=None):
        self.workers = max(1, workers)
        self._nlp = nlp
        self._pool = None

    def __enter__(self) -> "MentionRecogniser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __call__(self, texts: list[str]) -> list[list[dict]]:
        if self.workers == 1 or len(texts) < 2 * self.workers:
            if self._nlp is None:
                from jirei.nlp import load_pipeline

                self._nlp = load_pipeline(ner=True)
            return entity_mentions(self._nlp, texts)
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_worker_init)
        # Interleaved slices balance long and short texts across the workers.
        slices = [list(range(i, len(texts), self.workers)) for i in range(self.workers)]
        results = self._pool.map(_worker_mentions, [[texts[j] for j in idx] for idx in slices])
        out: list[list[dict]] = [[] for _ in texts]
        for idx, res in zip(slices, results):
            for j, mentions in zip(idx, res):
                out[j] = mentions
        return out


def _worker_init() -> None:
    from jirei.nlp import load_pipeline

    load_pipeline(ner=True)


def _worker_mentions(texts: list[str]) -> list[list[dict]]:
    from jirei.nlp import load_pipeline

    return entity_mentions(load_pipeline(ner=True), texts)


def mention_texts(cases: list[Case]) -> list[str]:
    """The texts the NER reads for `cases`, in order: each case's text, then the headings that are
    not the start of their text. The heading is usually the first line(s) of the entry's text, so
    one NER pass serves both. (Batch runs split these texts over workers.)"""
    return [c.text for c in cases] + [c.title for c in cases if not c.text.startswith(c.title)]


def extract_entities(document: Document, cases: list[Case], recognise=None, doc_date: str | None = None) -> list[Case]:
    """Fill organisations, places, years and year_mentions of `cases` (in place; also returned).

    `recognise` maps texts to entity mentions (`jirei.pipeline.Recogniser`: a `MentionRecogniser`,
    or any callable doing what `entity_mentions` does; None: GiNZA in this process);
    `doc_date` (YYYY[-MM[-DD]]) overrides the date the report states, against which 本年/昨年度
    are resolved.
    """
    if not cases:
        return cases
    if recognise is None:
        recognise = MentionRecogniser(1)
    date = doc_date or document.doc_date or years_mod.find_document_date(document.text)
    texts = mention_texts(cases)
    results = recognise(texts)
    body_mentions = results[: len(cases)]
    extra_mentions = iter(results[len(cases):])
    per_case = []
    for case, mentions in zip(cases, body_mentions):
        if case.text.startswith(case.title):
            heading_mentions = [m for m in mentions if m["end"] <= len(case.title)]
        else:
            heading_mentions = next(extra_mentions)
        if case.declared:
            heading_orgs = _declared_organisations(case)
        else:
            heading_orgs = _heading_organisations(case, heading_mentions)
        lead = next((o["name"] for o in heading_orgs if o["role"] == "lead"), None)
        per_case.append((heading_orgs, _body_organisations(case, mentions, lead) + _shared_head_names(case), lead))
    known = _document_organisations(per_case)
    context = actors.document_context(document.text, cases)
    for case, (heading_orgs, body_orgs, lead) in zip(cases, per_case):
        again = _mentions_of_known(case, known, lead)
        found = _drop_truncated(orgs.dedupe_organisations(heading_orgs + body_orgs + again))
        case.organisations = found
        base = case.span[0]
        plc = _declared_places(case)
        declared_keys = {(p.get("prefecture"), p.get("municipality"), p.get("level")) for p in plc}
        for p in places_mod.find_places(case.text):
            if (p.get("prefecture"), p.get("municipality"), p.get("level")) in declared_keys:
                continue
            p = dict(p)
            p["span"] = [base + p["span"][0], base + p["span"][1]]
            plc.append(p)
        plc += _chamber_places(found, plc)
        case.organisations, case.places = actors.apply(case, context, found, plc)
        mentions = []
        period = case.declared.get("period")
        for m in years_mod.find_year_mentions(case.text, doc_date=date):
            m = dict(m)
            m["span"] = [base + m["span"][0], base + m["span"][1]]
            if period and period["span"][0] <= m["span"][0] < period["span"][1]:
                m["source"] = "declared"
            mentions.append(m)
        case.year_mentions = mentions
        case.years = years_mod.stated_years(mentions)
    return cases
