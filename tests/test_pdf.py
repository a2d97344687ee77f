"""PDF ingestion (`jirei.extract.pdf.read_pdf`) on the four real PDFs in ../shared/pdfs and on
broken inputs made on the fly.

The real PDFs are not part of the repository: the tests look for them in
<repo>/../shared/pdfs (or $JIREI_SHARED/pdfs) and skip, saying where they looked, when absent.
Each real PDF is read once per session (module-scoped fixtures); the 93- and 220-page files
take several seconds each and are marked slow (they run by default).
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from jirei.extract.pdf import read_pdf
from jirei.extract.text import normalise
from jirei.records import Document, IngestError

SOGO = "otoineppu_sogosenryaku.pdf"
KOUHOU = "otoineppu_kouhou_2023-09.pdf"
SHUGYO = "mhlw_model_shugyo_kisoku_R4-11.pdf"
KOKUJI = "mhlw_kokuji_vertical_0000196314.pdf"


def _pdfs_dir() -> Path:
    env = os.environ.get("JIREI_SHARED")
    shared = Path(env).expanduser() if env else Path(__file__).resolve().parents[2] / "shared"
    return shared / "pdfs"


def _real_pdf(name: str) -> Path:
    path = _pdfs_dir() / name
    if not path.is_file():
        pytest.skip(f"real PDF {name} not found in {_pdfs_dir()} (set JIREI_SHARED to the shared folder)")
    return path


_cache: dict[str, Document] = {}


def _doc(name: str) -> Document:
    if name not in _cache:
        _cache[name] = read_pdf(_real_pdf(name))
    return _cache[name]


@pytest.fixture(scope="module")
def sogo() -> Document:
    return _doc(SOGO)


@pytest.fixture(scope="module")
def kouhou() -> Document:
    return _doc(KOUHOU)


@pytest.fixture(scope="module")
def shugyo() -> Document:
    return _doc(SHUGYO)


@pytest.fixture(scope="module")
def kokuji() -> Document:
    return _doc(KOKUJI)


def page_text(doc: Document, number: int) -> str:
    page = doc.pages[number - 1]
    assert page.number == number
    return doc.text[page.start : page.end]


def assert_document_invariants(doc: Document, path: Path) -> None:
    """What every Document from read_pdf must satisfy, whatever the PDF."""
    assert doc.kind == "pdf"
    assert doc.name == path.name
    assert doc.path == str(path)
    assert doc.doc_id == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc.doc_date is None
    # Pages tile the text: page texts joined by a blank line give the document text.
    assert [p.number for p in doc.pages] == list(range(1, len(doc.pages) + 1))
    assert doc.pages[0].start == 0 and doc.pages[-1].end == len(doc.text)
    for a, b in zip(doc.pages, doc.pages[1:]):
        assert a.start <= a.end and b.start == a.end + 2
        assert doc.text[a.end : b.start] == "\n\n"
    # Offsets refer to normalised text (NFKC etc. applied before offsets were taken).
    assert normalise(doc.text) == doc.text
    assert not re.search(r"[０-９Ａ-Ｚａ-ｚ]", doc.text)  # NFKC folded full-width alphanumerics
    # Heading levels sit at line starts and are 1-based.
    for off, level in doc.line_levels.items():
        assert 0 <= off < len(doc.text) and (off == 0 or doc.text[off - 1] == "\n")
        assert level >= 1


# -------------------------------------------------------------------------------------------
# otoineppu_sogosenryaku.pdf: overprinted bold, side-by-side boxes, two blank pages


def test_sogo_pages_and_missing_text_layer(sogo: Document):
    assert_document_invariants(sogo, _real_pdf(SOGO))
    assert len(sogo.pages) == 16
    assert [p.number for p in sogo.pages if p.needs_ocr] == [2, 4]
    assert "page 2: no text layer (needs OCR)" in sogo.warnings
    assert "page 4: no text layer (needs OCR)" in sogo.warnings
    assert page_text(sogo, 2) == "" and page_text(sogo, 4) == ""


def test_sogo_overprinted_heading_comes_out_once(sogo: Document):
    # Page 11 prints its heading four times over (fake bold): pdfplumber's raw text reads
    # "１１１１．．．．村村村村のののの…"; de-duplicated it is the heading, once, at level 1.
    p11 = page_text(sogo, 11)
    heading = "1.村の振興の要となる高校の機能強化"
    assert p11.startswith(heading + "\n")
    assert sogo.line_levels.get(sogo.pages[10].start) == 1
    assert "村村村村" not in sogo.text and "1111" not in sogo.text
    # The boxed labels on page 6 are overprinted too.
    p6 = page_text(sogo, 6)
    for label in ("【将来像】", "【基本目標】", "【重点プロジェクト】"):
        assert p6.count(label) == 1
    assert "【【" not in sogo.text and "将将" not in sogo.text
    # Overprinted bold at body size is a heading, below the big section heading.
    off = sogo.pages[5].start + p6.index("【将来像】")
    assert sogo.line_levels.get(off, 0) > 1


def test_sogo_side_by_side_boxes_are_not_interleaved(sogo: Document):
    p6 = page_text(sogo, 6)
    # Right-hand boxes, each wrapped over 4-5 lines beside the left-hand chart boxes.
    for sentence in (
        "「総合計画」は、総合戦略に位置づけられた取り組みだけでなく、将来の人口規模等とリンクし"
        "ながら予見・予想される様々な問題・課題に対応する取り組みを含め、音威子府村の最上位の計画"
        "として位置づけるものです。",
        "「人口ビジョン」は総合計画を踏まえ、戦略人口とその実現を前提にした将来の音威子府村の姿を示すものです。",
        "「総合戦略」は、人口ビジョンにおいて設定された将来人口規模(戦略人口)を達成するための戦略であり、"
        "予想される問題・課題のすべての対応を扱うものではありません。",
    ):
        assert sentence in p6
    # The left-hand box beside them, two lines, stays whole too.
    assert "戦略人口を前提に描かれるまちの姿" in p6
    # pdfplumber's default order would have put a left-hand label inside the first box.
    assert "位置づ\n人口ビジョン" not in p6 and "将来人口 見・予想" not in p6


def test_sogo_lines_broken_by_layout_are_joined_without_spaces(sogo: Document):
    p5 = page_text(sogo, 5)
    # "…生み出すため、「地方にしごとを" / "つくり、安心して働けるようにする」…" in the PDF.
    assert "「地方にしごとをつくり、安心して働けるようにする」「地方への新しいひとの流れをつくる」" in p5
    # Digits set with Japanese get no spaces either ("1990 年の 1,584 人" in pdfplumber's text).
    assert "1990年の1,584人から2010年には995人(20年間で589人の減少)" in p5
    # Paragraphs (each ○ item) stay on lines of their own.
    assert "を策定します。\n" in p5 and "\n○音威子府村においても、" in p5


def test_page_at_maps_offsets_to_pages(sogo: Document):
    p5 = sogo.pages[4]
    assert p5.end > p5.start
    for off in (p5.start, (p5.start + p5.end) // 2, p5.end - 1):
        assert sogo.page_at(off) == 5
    assert sogo.page_at(sogo.pages[5].start) == 6
    assert sogo.page_at(0) == 1


# -------------------------------------------------------------------------------------------
# otoineppu_kouhou_2023-09.pdf: magazine, vertical pages, sideways digits


def test_kouhou_vertical_pages_read_naturally(kouhou: Document):
    assert_document_invariants(kouhou, _real_pdf(KOUHOU))
    assert len(kouhou.pages) == 12
    p5 = page_text(kouhou, 5)
    # Three artists' messages in vertical columns, in three tiers; each reads straight through.
    assert (
        "今回、展示を通して村の方々や高校生と交流することができ、音威子府村との関わりを深められた気がします。"
        in p5
    )
    assert (
        "私が在学していた当時は新型コロナウイルスの影響もあり、村民の方との交流がほとんどなかったので、"
        "今回の音威子府展U22で村民の方と交流できたことがよかったです。" in p5
    )
    # Furigana (小谷 真夕 with こたに まゆ above it) is dropped, not read into the name.
    assert "小谷 真夕" in p5 and "こたに" not in p5
    # Latin words keep their spaces; Japanese gets none.
    assert "Otoineppu public relations magazine\n森とともに一人ひとりの匠が活躍する村" in page_text(kouhou, 1)
    assert "電子メールbikky.atelier.3more@gmail.com" in page_text(kouhou, 11)
    p4 = page_text(kouhou, 4)
    # "21" and "22" set sideways (縦中横) inside the vertical lines stay in place.
    assert "8月21日(火)から「音威子府展U22" in p4
    assert "22歳以下の卒業生を対象にした公募展形式" in p4


def test_vertical_articles_side_by_side_are_read_one_after_the_other():
    # otoineppu_kouhou_2021-04.pdf page 2: two vertical articles side by side under their own
    # horizontal headings, their tiers at the same heights; the right one is read whole (heading
    # first), then the left one, never tier by tier across both
    doc = _doc("otoineppu_kouhou_2021-04.pdf")
    p2 = page_text(doc, 2)
    right = p2.index("音威子府村「みんなの駅」プロジェクト")
    left = p2.index("「宗谷本線マイレール意識向上事業実行")
    assert right < p2.index("本村では、これまでのJR北海道に対する国からの経営支援") < left
    assert right < p2.index("地域内外の皆さんと一緒に考えていくことを目的としています。") < left
    assert left < p2.index("本実行委員会は、宗谷本線を『地域の鉄道』として考え、沿線地域住民のマイレール意識向上を目指し")
    assert left < p2.index("伊豆急行株式会社(伊豆急)の協力を得て")


def test_kouhou_running_footer_and_page_numbers_removed(kouhou: Document):
    for page in kouhou.pages[1:]:
        text = kouhou.text[page.start : page.end]
        assert "sep." not in text and "no.588" not in text.lower()
        lines = [ln for ln in text.split("\n") if ln.strip()]
        assert lines and not re.fullmatch(r"\d{1,3}", lines[-1])


# -------------------------------------------------------------------------------------------
# mhlw_kokuji_vertical_0000196314.pdf: 220 pages of vertical text


@pytest.mark.slow
def test_kokuji_vertical_text_reads_naturally(kokuji: Document):
    assert_document_invariants(kokuji, _real_pdf(KOKUJI))
    assert len(kokuji.pages) == 220
    p2 = page_text(kokuji, 2)
    # One item spread over three vertical lines, read right to left, top to bottom.
    assert (
        "一 保険医療機関(健康保険法(大正十一年法律第七十号)第六十三条第三項第一号に規定する保険医療機関を"
        "いう。以下同じ。)は、第二から第十までに規定する施設基準に従い、適正に届出を行わなければならないこと。"
        in p2
    )
    assert "第一 届出の通則\n一 保険医療機関" in p2  # item numbers stay with their text
    # Two-digit numbers set sideways inside the vertical line.
    assert "医科初診料の注7、注8及び注11、医科再診料の注6及び注16、外来診療料の注9及び注11並びに" in page_text(kokuji, 3)
    assert not any(p.needs_ocr for p in kokuji.pages)


@pytest.mark.slow
def test_kokuji_furigana_and_list_items(kokuji: Document):
    p219 = page_text(kokuji, 219)
    # 腔 and 臍 carry furigana (くう, さい); list items are one per line.
    assert "総排泄腔遺残\n頭蓋骨早期癒合症\n" in p219
    assert "くう" not in p219 and "さい\n" not in p219
    assert "\n臍帯ヘルニア\nダウン症候群\n18トリソミー\n13トリソミー\n" in p219


# -------------------------------------------------------------------------------------------
# mhlw_model_shugyo_kisoku_R4-11.pdf: 93 pages, articles, page numbers "- N -"


@pytest.mark.slow
def test_shugyo_articles_present_in_order(shugyo: Document):
    assert_document_invariants(shugyo, _real_pdf(SHUGYO))
    assert len(shugyo.pages) == 93
    text = shugyo.text
    # Lines starting with an article number: the contents, the rules and their variants.
    # (The rules have 70 articles, 第1条 … 第70条; pdftotext -layout finds 165 such lines.)
    assert len(re.findall(r"^第\d+条", text, re.M)) >= 150
    assert {int(n) for n in re.findall(r"^第(\d+)条", text, re.M)} >= set(range(1, 71))
    # Each article's commentary heading 【第N条 …】 first appears in article order.
    first: dict[int, int] = {}
    for m in re.finditer(r"^【第(\d+)条", text, re.M):
        first.setdefault(int(m.group(1)), m.start())
    assert sorted(first) == list(range(1, 71))
    assert [first[n] for n in range(1, 71)] == sorted(first.values())
    # An article and its commentary read whole, in order.
    p10 = page_text(shugyo, 10)
    assert (
        "(目的)\n第1条 この就業規則(以下「規則」という。)は、労働基準法(以下「労基法」という。)"
        "第89条に基づき、 株式会社の労働者の就業に関する事項を定めるものである。\n"
        "2 この規則に定めた事項のほか、就業に関する事項については、労基法その他の法令の定めによる。" in p10
    )


@pytest.mark.slow
def test_shugyo_no_running_footer_or_page_numbers(shugyo: Document):
    text = shugyo.text
    # The footer "- N -" is on every page of the PDF; none of it is left.
    assert not re.search(r"^\s*[-‐−–—]\s*\d+\s*[-‐−–—]\s*$", text, re.M)
    # No page starts or ends with a line that is only a page number, and no first/last line
    # repeats (digits ignored) across many pages.
    edges: collections.Counter = collections.Counter()
    for page in shugyo.pages:
        lines = [ln for ln in shugyo.text[page.start : page.end].split("\n") if ln.strip()]
        if not lines:
            continue
        for ln in {lines[0], lines[-1]}:
            assert not re.fullmatch(r"[\s\-‐−–—―(]*\d{1,3}[\s\-‐−–—―)]*(/\s*\d+)?", ln), (page.number, ln)
            edges[re.sub(r"\d+", "#", ln)] += 1
    assert max(edges.values()) < 10, edges.most_common(3)


@pytest.mark.slow
def test_shugyo_headings_from_typography(shugyo: Document):
    text = shugyo.text
    p10 = shugyo.pages[9]
    assert text.startswith("第1章 総則\n", p10.start)
    assert shugyo.line_levels.get(p10.start) is not None
    # The title page's title (24 pt) ranks above the chapter headings (14 pt).
    assert shugyo.line_levels.get(0) == 1
    assert shugyo.line_levels[p10.start] > 1


# -------------------------------------------------------------------------------------------
# bad inputs


def _minimal_pdf(extra_trailer: bytes = b"", extra_objects: tuple[bytes, ...] = ()) -> bytes:
    """A one-page PDF without any text, with correct xref offsets."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
        *extra_objects,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + extra_trailer + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _handmade_encrypted_pdf() -> bytes:
    """Standard security handler (RC4, R2) whose /U matches no password, not even the empty
    one: exactly what a reader sees for a PDF protected by an unknown user password."""
    o = bytes(range(32)).hex().encode()
    u = bytes(range(100, 132)).hex().encode()
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /Length 40 /O <" + o + b"> /U <" + u + b"> /P -4 >>"
    ident = b"<0123456789abcdef0123456789abcdef>"
    return _minimal_pdf(b"/Encrypt 4 0 R /ID [" + ident + b" " + ident + b"] ", (encrypt,))


def _assert_one_line_error(exc: IngestError, path: Path, problem: str) -> None:
    message = str(exc)
    assert "\n" not in message
    assert message.startswith(str(path) + ": ")
    assert path.name in message
    assert problem in exc.problem
    assert exc.path == str(path)


def test_encrypted_pdf_handmade(tmp_path: Path):
    path = tmp_path / "locked.pdf"
    path.write_bytes(_handmade_encrypted_pdf())
    with pytest.raises(IngestError) as err:
        read_pdf(path)
    _assert_one_line_error(err.value, path, "encrypted PDF (password protected)")


@pytest.mark.parametrize("mode", ["aes256", "rc4-128"])
def test_encrypted_pdf_from_qpdf(tmp_path: Path, mode: str):
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.skip("qpdf not installed (Debian package qpdf); the hand-made encrypted PDF still runs")
    src = tmp_path / "plain.pdf"
    src.write_bytes(_minimal_pdf())
    path = tmp_path / f"locked-{mode}.pdf"
    args = ["secret", "owner", "256"] if mode == "aes256" else ["secret", "owner", "128"]
    cmd = [qpdf, "--allow-weak-crypto", "--encrypt", *args, "--", str(src), str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    with pytest.raises(IngestError) as err:
        read_pdf(path)
    _assert_one_line_error(err.value, path, "encrypted PDF (password protected)")


def test_empty_file(tmp_path: Path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(IngestError) as err:
        read_pdf(path)
    _assert_one_line_error(err.value, path, "empty file")


def test_random_bytes_with_pdf_name(tmp_path: Path):
    path = tmp_path / "noise.pdf"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(IngestError) as err:
        read_pdf(path)
    _assert_one_line_error(err.value, path, "not a readable PDF (")
    # Random bytes behind a PDF header get past the header check and fail in the parser.
    path2 = tmp_path / "noise2.pdf"
    path2.write_bytes(b"%PDF-1.7\n" + os.urandom(4096))
    with pytest.raises(IngestError) as err:
        read_pdf(path2)
    _assert_one_line_error(err.value, path2, "not a readable PDF (")


@pytest.mark.parametrize("keep", [0.02, 0.5, 0.98])
def test_truncated_pdf(tmp_path: Path, keep: float):
    # A real report cut short (a failed download): the cross-reference table and trailer at
    # the end are gone, and pdfminer's fallback finds no pages.
    data = _real_pdf(SOGO).read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: max(16, int(len(data) * keep))])
    with pytest.raises(IngestError) as err:
        read_pdf(path)
    _assert_one_line_error(err.value, path, "not a readable PDF (")


def test_image_only_pdf_needs_ocr(tmp_path: Path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(_minimal_pdf())
    with pytest.raises(IngestError) as err:
        read_pdf(path)
    _assert_one_line_error(err.value, path, "no text layer on any page (image-only PDF; needs OCR)")


def test_missing_file(tmp_path: Path):
    path = tmp_path / "absent.pdf"
    with pytest.raises(IngestError) as err:
        read_pdf(path)
    _assert_one_line_error(err.value, path, "cannot read file")


def test_pdfminer_noise_does_not_reach_the_user(tmp_path: Path, caplog, capfd):
    real = _real_pdf(SOGO)
    data = real.read_bytes()
    path = tmp_path / "damaged.pdf"
    path.write_bytes(data[: len(data) // 3])
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning raised while reading fails the test
        with pytest.raises(IngestError):
            read_pdf(path)
        read_pdf(real)
    noisy = [r for r in caplog.records if r.name.startswith(("pdfminer", "pdfplumber")) and r.levelno >= logging.WARNING]
    assert noisy == []
    out, err = capfd.readouterr()
    assert out == "" and err == ""
