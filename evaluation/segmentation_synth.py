"""Training documents in other layouts, written from seed 001 part I's gold cases.

Contract:
    synthetic_documents(doc, gold, spans) -> list[(template name, Document, Gold)]

`doc` and `gold` are seed 001 part I (text) and its gold; nothing of part II, 003 or 004 is read.
Each case's heading (organisation, title, place) and body sentences are laid out again in six
report shapes that real reports use and that the seed does not show, with their gold boundaries
known by construction:

- `sheet`: government case sheets, one case per page: `【県市】` title, sub-headings inside the
  case (`✓概要`, `○` sub-projects, `【民】/【官】` boxes, `≪…KPI≫`, `今後の取組`), a case running
  over two pages (continuation page), statistics and definition pages between cases;
- `slides`: a slide deck, title line with a typographic level over bullets, Q1/A1 inside cases,
  a cover, an agenda and a `問合せ先` slide;
- `table`: a casebook page whose cases are table rows (`|` separated), header rows not cases;
- `programme`: a numbered programme list (`1-1` heads, `(1)` items inside a case), notices
  and a calendar between them;
- `newsletter`: pages with a catch line over the article title, paragraphs, notices, an
  editor's column and a contacts box;
- `two_column`: heads printed right under a bullet's last line with no gap.

The documents are deterministic (fixed seeds). They teach the segmenter which evidence marks a
case start in general (a repeating head family with named bodies, a page start), not the words
of one report. Being seed 001 part I content, they are grouped with seed 001 in cross-validation.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from jirei.records import Document, Page, sha256_bytes

from .segmentation import Gold, GoldCase

_CIRCLED = re.compile(r"^[-\s]*[①-⑳]\s*")


def _cases(doc: Document, spans: list[tuple[int, int]]) -> list[dict]:
    out = []
    for s, e in spans:
        lines = [ln.strip(" -#*") for ln in doc.text[s:e].split("\n") if ln.strip()]
        head = _CIRCLED.sub("", lines[0])
        org, _, rest = head.partition(":")
        if not rest:
            org, rest = "", head
        m = re.search(r"\(([^()]*)\)$", rest)
        place = m.group(1) if m else ""
        title = rest[: m.start()] if m else rest
        body = "".join(lines[1:])
        sentences = [x + "。" for x in body.split("。") if len(x.strip()) > 8]
        if not sentences:
            continue
        out.append({"org": org.strip(), "title": title.strip(), "place": place.strip(), "sentences": sentences[:6]})
    return out


class _Writer:
    """Builds a text with pages, heading levels and gold spans as it goes."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.pages: list[Page] = []
        self.levels: dict[int, int] = {}
        self.gold: list[GoldCase] = []
        self._page_start: int | None = None

    def line(self, text: str, level: int | None = None) -> int:
        start = self.pos
        if level is not None:
            self.levels[start] = level
        self.parts.append(text + "\n")
        self.pos += len(text) + 1
        return start

    def blank(self) -> None:
        self.line("")

    def page(self) -> None:
        if self._page_start is not None:
            self.pages.append(Page(len(self.pages) + 1, self._page_start, self.pos))
        self._page_start = self.pos

    def case(self, heading: str, end: str) -> None:
        end = end.strip()
        self.gold.append(GoldCase(heading.strip(), end[-24:]))

    def document(self, name: str, paged: bool) -> tuple[Document, Gold]:
        if paged:
            self.page()
        text = "".join(self.parts)  # built from normalised text: offsets stay as written
        doc = Document(
            doc_id=sha256_bytes(text.encode()), name=name, path=name, kind="pdf" if paged else "text",
            text=text, pages=self.pages if paged else [], line_levels=self.levels if paged else {},
        )
        return doc, Gold(doc=name, sha256=doc.doc_id, cases=self.gold)


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _stats_page(w: _Writer, rng: random.Random) -> None:
    w.line("地域の現状(統計)", 2)
    for label in ("人口", "高齢化率", "事業所数", "観光入込客数"):
        w.line(f"{label} {rng.randint(10, 99)},{rng.randint(100, 999)} {rng.randint(1, 40)}.{rng.randint(0, 9)}%")
    w.line("出典:総務省「国勢調査」(2020年)")


def _definition_page(w: _Writer) -> None:
    w.line("用語の定義", 2)
    w.line("関係人口とは、移住した「定住人口」でもなく、観光に来た「交流人口」でもない、地域と多様に関わる人々を指す。")


def _contacts(w: _Writer, rng: random.Random) -> None:
    w.line("問合せ先", 3)
    w.line(f"企画課 地域振興係 電話 0{rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}")
    w.line("受付時間 平日 9:00~17:00")


def sheet(cases: list[dict], rng: random.Random) -> tuple[Document, Gold]:
    w = _Writer()
    w.page()
    w.line("地方創生の取組事例集", 1)
    w.line("令和5年3月 内閣府地方創生推進事務局")
    for k, c in enumerate(cases):
        w.page()
        if k % 5 == 2:
            _stats_page(w, rng)
            w.page()
        if k % 7 == 4:
            _definition_page(w)
            w.page()
        place = c["place"] or "全国"
        head = f"【{place}】{c['title']}"
        w.line(head, 1)
        w.line(f"実施主体:{c['org'] or place}")
        s = c["sentences"]
        w.line("✓概要", 3)
        w.line("・" + s[0])
        last = s[0]
        if len(s) > 1:
            box = rng.choice(["【民】", "【官】", "○", "≪成果・KPI≫"])
            w.line(box + ("民間事業者の取組" if box == "【民】" else "自治体の取組" if box == "【官】" else "取組の内容" if box == "○" else ""), 3)
            for x in s[1:3]:
                w.line("・" + x)
                last = x
        if len(s) > 3:
            if k % 3 == 0:  # the case runs over to a second page
                w.page()
                w.line(f"{c['title'][:20]}(続き)", 2)
            w.line("今後の取組", 3)
            for x in s[3:]:
                w.line("・" + x)
                last = x
        w.case(head, last)
        w.line(f"{rng.randint(2, 40)}")
    return w.document("synthetic-sheet.pdf", paged=True)


def slides(cases: list[dict], rng: random.Random) -> tuple[Document, Gold]:
    w = _Writer()
    w.page()
    w.line("地域活性化の取組について", 1)
    w.line("説明資料")
    w.page()
    w.line("目次", 1)
    for i, x in enumerate(("背景", "取組事例", "今後の進め方"), 1):
        w.line(f"{i}. {x}")
    for k, c in enumerate(cases):
        w.page()
        head = f"{c['title']}({c['place']})" if c["place"] else c["title"]
        w.line(head, 1)
        s = c["sentences"]
        for x in s[:2]:
            for j, part in enumerate(_wrap(x, 34)):
                w.line(("・" if j == 0 else "") + part)
        last = s[min(1, len(s) - 1)]
        if len(s) > 2 and k % 2 == 0:
            w.line("Q1 取組のきっかけは?", 3)
            w.line("A1 " + s[2])
            last = s[2]
        w.case(head, last)
        w.line(f"提供:{c['org'] or '各団体'}")
        w.line(str(k + 3))
        if k % 6 == 5:
            w.page()
            _stats_page(w, rng)
    w.page()
    _contacts(w, rng)
    return w.document("synthetic-slides.pdf", paged=True)


def table(cases: list[dict], rng: random.Random) -> tuple[Document, Gold]:
    w = _Writer()
    w.line("# 取組事例一覧")
    w.blank()
    w.line("本表は、各団体から提出された取組を分野別にまとめたものである。")
    w.blank()
    for k, c in enumerate(cases):
        if k % 8 == 0:
            w.blank()
            w.line(f"## 分野{k // 8 + 1}")
            w.blank()
            w.line("| 番号 | 実施主体 | 取組名 | 地域 | 概要 |")
            w.line("|---|---|---|---|---|")
        s = c["sentences"][0]
        row = f"| {k + 1} | {c['org'] or '—'} | {c['title']} | {c['place'] or '全国'} | {s} |"
        w.line(row)
        w.case(row[:40], s)
    w.blank()
    w.line("※ 取組内容は提出時点のもの。")
    return w.document("synthetic-table.md", paged=False)


def programme(cases: list[dict], rng: random.Random) -> tuple[Document, Gold]:
    w = _Writer()
    w.line("令和6年度 地域振興プログラム一覧")
    w.blank()
    for k, c in enumerate(cases):
        if k % 6 == 0:
            w.blank()
            w.line(f"{k // 6 + 1} 重点分野{k // 6 + 1}")
            w.blank()
        head = f"{k // 6 + 1}-{k % 6 + 1} {c['title']}"
        w.line(head)
        w.line(f"実施主体:{c['org'] or c['place'] or '村'}")
        last = ""
        for j, x in enumerate(c["sentences"][:3]):
            w.line(f"({j + 1}) {x}")
            last = x
        w.case(head, last)
        w.blank()
        if k % 9 == 4:
            w.line("お知らせ")
            w.line(f"説明会 {rng.randint(1, 12)}月{rng.randint(1, 28)}日(木) 14:00~ 役場2階会議室")
            w.blank()
        if k % 11 == 7:
            w.line("行事予定")
            for d in range(3):
                w.line(f"{rng.randint(1, 28)}日(月) 健康相談 保健センター {rng.randint(9, 15)}:00")
            w.blank()
    return w.document("synthetic-programme.md", paged=False)


def newsletter(cases: list[dict], rng: random.Random) -> tuple[Document, Gold]:
    w = _Writer()
    w.page()
    w.line("広報 ちいき", 1)
    w.line(f"No.{rng.randint(100, 700)} 2024年{rng.randint(1, 12)}月号")
    catch = ("地域が動いた!", "みんなで挑戦!", "新しい風が吹く", "ご存じですか?", "注目の取組")
    for k, c in enumerate(cases):
        if k % 2 == 0:
            w.page()
        head = catch[k % len(catch)]
        w.line(head, 4)
        w.line(c["title"], 3)
        last = ""
        for x in c["sentences"][:4]:
            for part in _wrap(x, 38):
                w.line(part)
            last = x
        w.case(head, last)
        if k % 4 == 3:
            w.line("おしらせ", 4)
            w.line(f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日(土) 10:00~ 公民館にて住民説明会を開催します。")
            _contacts(w, rng)
    w.page()
    w.line("編集後記", 4)
    w.line("今月号もお読みいただきありがとうございました。ご意見をお寄せください。")
    return w.document("synthetic-newsletter.pdf", paged=True)


def two_column(cases: list[dict], rng: random.Random) -> tuple[Document, Gold]:
    w = _Writer()
    w.line("地域連携の取組")
    w.blank()
    for k, c in enumerate(cases):
        place = c["place"] or "全国"
        head = f"{c['title'][:24]}({place})"
        w.line(head)
        last = ""
        for x in c["sentences"][:3]:
            w.line("・" + x)
            last = x
        w.case(head, last)
        if k % 3 == 2:
            w.blank()
    return w.document("synthetic-two-column.md", paged=False)


TEMPLATES = {"sheet": sheet, "slides": slides, "table": table, "programme": programme,
             "newsletter": newsletter, "two_column": two_column}


def synthetic_documents(doc: Document, gold: Gold, spans: list[tuple[int, int]]) -> list[tuple[str, Document, Gold]]:
    """Seed 001 part I's cases laid out in each template (see module doc): (template, document,
    gold) per template."""
    cases = _cases(doc, spans)
    out = []
    for i, (name, make) in enumerate(TEMPLATES.items()):
        rng = random.Random(1000 + i)
        subset = cases[i % 3 :: 2] if len(cases) > 20 else cases
        d, g = make(subset, rng)
        out.append((name, d, g))
    return out
