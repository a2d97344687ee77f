"""Text ingestion on real seed text: encodings, NFKC, marks kept, bad files."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jirei import paths
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment
from jirei.extract.text import decode, normalise, read_text, without_running_lines
from jirei.records import IngestError

SEEDS = paths.seeds_dir()
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed reports not found at {SEEDS}")


def seed_text(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


@needs_seeds
@pytest.mark.parametrize("encoding", ["cp932", "euc_jp", "utf_8", "utf_8_sig", "shift_jis"])
def test_seed_text_decodes_from_office_encodings(tmp_path: Path, encoding: str):
    # the chamber report as a Windows office (CP932), a Unix server (EUC-JP) or a BOM editor would save it
    original = seed_text("004")[:6000]
    encodable = original.encode(encoding, errors="ignore").decode(encoding)
    path = tmp_path / f"report_{encoding}.md"
    path.write_bytes(encodable.encode(encoding))
    doc = read_text(path)
    assert doc.text == normalise(encodable)
    assert "諏訪市労務対策協議会(諏訪商工会議所)" in doc.text or "日本商工会議所" in doc.text
    assert doc.encoding is not None


def test_short_cp932_is_not_mistaken_for_euc():
    text = "福井県小浜市・若狭町の鯖街道トレッキング、令和元年度の取り組み。"
    assert decode(text.encode("cp932"))[0] == text
    assert decode(text.encode("euc_jp"))[0] == text


def test_nfkc_folds_pdf_lookalikes_but_keeps_layout_signals():
    # ⼈ (Kangxi radical) and full-width alphanumerics fold; ① numbering and ¹ footnote marks stay
    assert normalise("⼈材育成 ＡＢＣ１２３") == "人材育成 ABC123"
    assert normalise("① 日立製作所：実証（愛媛県松山市）") == "① 日立製作所:実証(愛媛県松山市)"
    assert normalise("取り組み¹") == "取り組み¹"
    assert normalise("#### 名称(商工会議所)\r\n- **太字**") == "#### 名称(商工会議所)\n- **太字**"


@needs_seeds
def test_markdown_marks_survive_as_layout_signals():
    doc = ingest(next(SEEDS.glob("004_*.txt")))
    assert "\n#### 諏訪市労務対策協議会(諏訪商工会議所)\n" in doc.text
    assert doc.kind == "text" and doc.pages == [] and len(doc.doc_id) == 64


def test_bad_text_inputs_fail_in_one_line(tmp_path: Path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    garbage = tmp_path / "binary.txt"
    garbage.write_bytes(bytes(range(0x80, 0x100)) * 40)
    other = tmp_path / "slides.key"  # Keynote: not a format Jirei reads
    other.write_bytes(b"PK\x03\x04")
    for path, problem in [(empty, "empty file"), (garbage, "not decodable"), (other, "unsupported file type")]:
        with pytest.raises(IngestError) as err:
            ingest(path)
        message = str(err.value)
        assert "\n" not in message and str(path) in message and problem in message


def test_page_breaks_of_a_converted_report_become_pages(tmp_path: Path):
    # a newsletter converted to markdown page by page (`---` between pages), and the same text as
    # pdftotext writes it (form feeds): three parts, each a page covering its text
    parts = ["# 広報みほん 9月号\n\n夏の新たな風物詩!\n森と匠の村ふるさと納涼まつり",
             "自分だけの小物づくり!\nエコミュージアムでワークショップを開催しました。",
             "お知らせ\n\n役場からのお知らせです。"]
    for name, sep in (("newsletter.md", "\n\n---\n\n"), ("newsletter.txt", "\f")):
        path = tmp_path / name
        path.write_text(sep.join(parts) + "\n", encoding="utf-8")
        doc = read_text(path)
        assert [p.label for p in doc.pages] == ["part 1", "part 2", "part 3"], name
        assert doc.pages[0].start == 0 and doc.pages[-1].end == len(doc.text)
        assert all(a.end == b.start for a, b in zip(doc.pages, doc.pages[1:]))
        for page, part in zip(doc.pages, parts):
            assert part.split("\n")[-1] in doc.text[page.start : page.end]


def test_rules_and_heading_underlines_are_no_pages(tmp_path: Path):
    # one rule marks no pages; `---` under a line is a markdown heading; front matter opens nothing
    cases = {
        "one_rule.md": "本文です。\n\n---\n\n問合せ先:企画課\n",
        "setext.md": "取組A\n---\n本文A\n\n取組B\n---\n本文B\n\n取組C\n---\n本文C\n",
        "front.md": "---\ntitle: 事例\n---\n\n本文\n\n---\n\n次\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert read_text(path).pages == [], name


PDFS = paths.shared_dir() / "pdfs"
VERTICAL_NOTICE = PDFS / "mhlw_kokuji_vertical_0000196314.pdf"
NEWSLETTER = PDFS / "otoineppu_kouhou_2021-04.pdf"


def _exported(pdf: Path, out: Path) -> Path:
    # the PDF's text as PDF-to-text exporters write it: each page's lines left to right, a form feed
    # between pages (pdfplumber's plain extraction)
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        out.write_text("\f".join(page.extract_text() or "" for page in doc.pages), encoding="utf-8")
    return out


@pytest.mark.skipif(not VERTICAL_NOTICE.is_file() or not NEWSLETTER.is_file(), reason=f"real PDFs not found in {PDFS}")
def test_vertical_pages_exported_across_their_columns_are_refused_in_one_line(tmp_path: Path):
    # the MHLW notice is set vertically: exported line by line, each line holds one character of
    # every column (`を 成 す ( 報 労 料`), and no sentence survives; read as a report it gave
    # hundreds of fragments as cases
    scattered = _exported(VERTICAL_NOTICE, tmp_path / "notice.txt")
    with pytest.raises(IngestError) as err:
        ingest(scattered)
    message = str(err.value)
    assert message.startswith(str(scattered)) and "\n" not in message
    assert "single characters set apart" in message and "make no words" in message and "submit the PDF" in message
    # a village newsletter exported the same way keeps its vertical cover lines (`第 八 令`) but
    # reads: it is no scattered text
    newsletter = read_text(_exported(NEWSLETTER, tmp_path / "newsletter.txt"))
    assert "音威子府村" in newsletter.text and len(newsletter.pages) > 5


def _vertical(columns: list[str]) -> str:
    # vertical text as pdfminer exports it: each column a stack of one-character lines, a blank line
    # between columns
    return "\n\n".join("\n".join(column) for column in columns) + "\n"


def test_vertical_columns_exported_a_character_per_line_are_read_as_lines(tmp_path: Path):
    articles = [f"第{n}条この規則は、従業員の{topic}について定める。" for n, topic in zip(
        "一二三四五六七八九十", ["労働時間", "休憩", "休日", "年次有給休暇", "賃金", "賞与", "退職", "解雇", "安全衛生", "表彰"])]
    columns = ["就業規則"] + articles * 3  # a work rules' text: each article cited in its column
    path = tmp_path / "rules.txt"
    path.write_text(_vertical(columns), encoding="utf-8")
    doc = read_text(path)
    lines = [ln for ln in doc.text.split("\n") if ln.strip()]
    assert lines[:2] == ["就業規則", "第一条この規則は、従業員の労働時間について定める。"]
    # a legal text holds no case (before, each column's characters gave fragments)
    assert segment(doc) == []
    # two or fewer one-character lines in a row are no column (`3`, a page number)
    path.write_text("村の話題\n\n3\n\n令\n和\n", encoding="utf-8")
    assert read_text(path).text.split("\n")[:4] == ["村の話題", "", "3", ""]


@pytest.mark.skipif(not VERTICAL_NOTICE.is_file(), reason=f"{VERTICAL_NOTICE} not found")
def test_a_vertical_notice_exported_by_pdfminer_gives_no_entry(tmp_path: Path):
    # pdfminer (and the converters built on it) exports the MHLW notice's vertical columns a
    # character per line: read so, it gave 140 fragments as cases
    from pdfminer.high_level import extract_text

    path = tmp_path / "notice.txt"
    path.write_text(extract_text(str(VERTICAL_NOTICE)), encoding="utf-8")
    doc = ingest(path)
    assert "本則を次のように改める。" in doc.text
    assert segment(doc) == []


@needs_seeds
def test_a_letter_spaced_report_is_read_with_its_spaces_gone(tmp_path: Path):
    # some OCR tools write Japanese one character at a time (`地 域 の 活 力 強 化`): joined, the
    # chamber report's sentences read again, and it is no scattered text to refuse
    original = normalise(seed_text("004")[:6000])
    path = tmp_path / "ocr.txt"
    path.write_text("\n".join(" ".join(line) for line in original.split("\n")), encoding="utf-8")
    doc = read_text(path)
    assert "地域の活力強化に向け、公民共創の観点から" in doc.text
    spaces = re.compile(r"[ \t\u3000]")
    assert spaces.sub("", doc.text) == spaces.sub("", original)


def test_a_letter_spaced_line_here_and_there_is_no_scattered_text():
    from jirei.extract.text import is_scattered_text

    report = ("広報おといねっぷ\n2 0 2 5\n第 八 令\n"
              "7月7日(土)に、小中学校グラウンドで、村民運動会が開催されました。\n"
              "今年新たに追加された、おと高生と村民が交流する「借り村人リレー」など、多くの村民が競技に取り組みました。\n")
    assert not is_scattered_text(report)
    assert is_scattered_text("を 成 す ( 報 労 料\n次 三 る 平 酬 働 の\nの 十 。 成 の 省\nよ 年 二 算 告 基\n")


def test_a_scattered_line_longer_than_sudachi_takes_is_read_without_a_traceback(tmp_path: Path):
    # one letter-spaced line of 30,000 characters joins to 90 KB of UTF-8, over Sudachi's ~49 KB
    path = tmp_path / "one_line.txt"
    path.write_text(" ".join("地域の活力強化に向けた取組を紹介します。" * 1500), encoding="utf-8")
    doc = read_text(path)
    assert doc.text.startswith("地域の活力強化に向けた取組を紹介します。地域の")


def _newsletter_pages() -> str:
    # a six-page village newsletter exported to text: each page opens with the masthead and closes
    # with the issue line and page number, as exporters print them
    articles = [
        ("村民運動会を開催しました", "7月7日に小中学校グラウンドで村民運動会が開催され、多くの村民が競技に参加しました。"),
        ("八幡神社祭", "7月22日に宵宮祭、23日に本祭が行われ、小中学生がお神輿を担ぎました。"),
        ("木工技術継承に向けた連携協定", "音威子府村と旭川市は木工芸の継承普及に向けた連携協定を締結しました。"),
        ("幼小中高連携授業", "幼児センター・小中学校・高校の連携授業で交通安全のキーホルダーを制作しました。"),
        ("北海道知事が来村", "鈴木直道北海道知事が木遊館を訪れ、木工体験と意見交換を行いました。"),
        ("地域おこし協力隊活動報告", "7月から着任した協力隊員が、村の行事と木工体験教室の様子を報告します。"),
    ]
    pages = []
    for n, (title, body) in enumerate(articles, 1):
        pages.append("\n".join([
            "Otoineppu", "p u b l i c", "relations", "magazine",
            title, body, "",
            "no.611", "A u g .", "2 0 2 5", str(n),
        ]))
    return "\f".join(pages)


def test_running_headers_and_footers_of_an_exported_text_are_dropped(tmp_path: Path):
    path = tmp_path / "kouhou.txt"
    path.write_text(_newsletter_pages(), encoding="utf-8")
    doc = read_text(path)
    assert len(doc.pages) == 6
    for running in ("Otoineppu", "p u b l i c", "magazine", "no.611", "A u g ."):
        assert running not in doc.text, running
    assert "村民運動会を開催しました" in doc.text and "音威子府村と旭川市" in doc.text
    # each page now opens at its article, which segmentation reads as the page's heading
    titles = [c.title for c in segment(doc)]
    assert "Otoineppu" not in titles
    assert {"八幡神社祭", "幼小中高連携授業", "北海道知事が来村"} <= set(titles)


def test_part_labels_and_a_title_over_consecutive_pages_are_no_running_lines():
    # a strategy prints `[現状と課題]` atop each measure's page, and a case runs over three pages
    # under its title: both are the report's structure, kept
    pages = []
    for n in range(1, 7):
        title = "事例1 上士幌町の自動運転バス" if n <= 3 else f"施策{n}"
        pages.append(f"{title}\n[現状と課題]\n高齢化が進み、移動手段の確保が課題となっています。\n"
                     f"施策{n}の取組を進めます\n{n}")
    text = "\n\n---\n\n".join(pages)
    kept, dropped = without_running_lines(text)
    assert dropped == 0 and kept == text
    # nor is a markdown head opening each case's page (`## 成果` over each case's results)
    pages = [f"## 事例{n}\n本文{n}です。\n## 成果\n成果{n}です。" for n in range(1, 7)]
    text = "\n\n---\n\n".join(pages)
    assert without_running_lines(text) == (text, 0)
    # nor are the field labels a case sheet prints atop each of its pages, one to a line as
    # pdftotext writes a table's cells
    pages = [f"事業名\n移住促進事業{n}\n実施主体\n上士幌町\n概要:\n移住者を支援します。" for n in range(1, 7)]
    text = "\n\n---\n\n".join(pages)
    assert without_running_lines(text) == (text, 0)
    # the same title atop every other page all through the report is a running header
    pages = [f"{'まち・ひと・しごと創生総合戦略' if n % 2 else '音威子府村'}\n本文{n}です。" for n in range(1, 9)]
    kept, dropped = without_running_lines("\n\n---\n\n".join(pages))
    assert dropped == 8 and "総合戦略" not in kept and "本文8です。" in kept


def test_text_without_pages_keeps_every_line():
    text = "広報おといねっぷ\n本文です。\n" * 5
    assert without_running_lines(text) == (text, 0)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (Debian poppler-utils) not installed")
@pytest.mark.skipif(not (PDFS / "otoineppu_kouhou_2025-08.pdf").is_file(), reason=f"real PDFs not found in {PDFS}")
def test_a_real_newsletter_exported_by_pdftotext_opens_its_articles(tmp_path: Path):
    # pdftotext keeps the newsletter's masthead (`Otoineppu` / `public` / `relations` / `magazine`,
    # `広` / `報` / `おとい` / `ねっぷ`) atop every page; the page floor used to title each page by it
    out = tmp_path / "kouhou.txt"
    subprocess.run(["pdftotext", str(PDFS / "otoineppu_kouhou_2025-08.pdf"), str(out)], check=True,
                   capture_output=True)
    doc = read_text(out)
    cases = segment(doc)
    titles = [c.title for c in cases]
    assert not {"Otoineppu", "広"} & set(titles)
    # its justified lines set apart (`る 運 動 ( 主 唱： 法 務 省 )`) read as words again
    assert "法 務 省" not in doc.text and "運動(主唱:法務省)" in doc.text.replace(" ", "")
    assert "お と 高 祭" not in doc.text and "おと高祭" in doc.text
    assert {"わっしょい!わっしょい!八幡神社祭", "◇社会を明るくする運動", "◇木工技術継承普及に向けた連携協定締結"} <= set(titles)
    # each article in an entry of its own. pdftotext 22.12.0-2+deb12u3 sets a piece of the masthead
    # (`O` on two pages only, so no running line) first on the sports day's page, and the page's
    # entry takes it as its title: the article is cut right, its title is not (titled by its
    # headline with earlier builds)
    holding = [next((k for k, c in enumerate(cases) if head in c.text), None)
               for head in ("大人も全員本気な村民運動会!", "わっしょい!わっしょい!八幡神社祭", "◇社会を明るくする運動")]
    assert None not in holding and len(set(holding)) == 3, (holding, titles)
    first = cases[holding[0]]
    assert first.title in ("大人も全員本気な村民運動会!", "O"), first.title
    assert first.text.split("大人も全員本気な村民運動会!")[0].count("\n") <= 4  # it opens the entry


def test_lines_set_apart_here_and_there_join_their_japanese_words_only(tmp_path: Path):
    # a report exported with a few justified lines set apart: their Japanese reads as words again;
    # the cover's year, a calendar's days and an empty table row keep their spaces
    lines = ["村民運動会が開催されました。多くの村民が参加し、交流を深めました。"] * 30 + [
        "7 月 19 日 ( 土 )、20 日 ( 日 ) に、 お と 高 祭",
        "が 開 催 さ れ ま し た。",
        "2 0 2 5",
        "| | |",
    ]
    path = tmp_path / "report.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    text = read_text(path).text
    assert "おと高祭" in text and "が開催されました。" in text
    assert "7 月 19 日" in text  # digits keep their spacing (a date, not letters)
    assert "\n2 0 2 5\n" in text and text.endswith("\n| | |")
