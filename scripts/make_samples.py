"""Write the binary sample reports Jirei ships in `samples/` (run once; the outputs are committed).

- `sample_slides.pdf`: a 16:9 slide deck (two cases, one running over two slides, a statistics
  slide that is not a case), printed by headless Chromium from HTML written here.

Every organisation and place name in the samples is made up for Jirei (架空, 見本, 試作 …)
except real municipalities, which the gazetteer codes.

    python scripts/make_samples.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

SLIDES = [
    ("地域協創セミナー 2025 事例紹介", ["見本経済連合会 地域協創委員会", "2025年11月"]),
    ("地域の人口動態(参考データ)", ["・総人口は2015年から2025年で約8%減少", "・生産年齢人口の比率は55%を下回る",
                               "・出典:国勢調査をもとに見本経済連合会作成"]),
    ("事例1 試作食品株式会社:規格外果実の加工による産地支援(山梨県笛吹市)",
     ["✓概要", "試作食品株式会社は、2021年から笛吹市の農家と契約し、規格外の桃とぶどうをジャムやピューレに加工して全国に販売している。",
      "✓連携", "笛吹市、地元のJA、見本大学と共同で商品開発を行う。"]),
    ("事例1 試作食品株式会社(続き)",
     ["✓成果", "契約農家は40戸に増え、農家の所得は平均で1割向上した。", "✓今後の取組", "加工場を増設し、地元の高校生のインターンシップを受け入れる。"]),
    ("事例2 見本観光協会:古民家を活かした分散型ホテル(兵庫県丹波篠山市)",
     ["✓概要", "見本観光協会は、城下町の古民家を客室として改修し、町全体を一つのホテルに見立てた宿泊事業を2019年から運営している。",
      "✓成果", "年間の宿泊者は1万人を超え、若手の料理人や職人の移住にもつながった。"]),
]


def slides_html() -> str:
    pages = []
    for title, lines in SLIDES:
        body = "".join(f"<p>{line}</p>" for line in lines)
        pages.append(f'<section><h1>{title}</h1>{body}</section>')
    return ("<!doctype html><html lang='ja'><head><meta charset='utf-8'><style>"
            "@page { size: 254mm 142.9mm; margin: 0 }"
            "body { margin: 0; font-family: 'Noto Sans CJK JP', sans-serif }"
            "section { width: 254mm; height: 142.9mm; box-sizing: border-box; padding: 12mm 16mm;"
            " page-break-after: always; overflow: hidden }"
            "h1 { font-size: 20pt; border-bottom: 2px solid #246; padding-bottom: 4mm }"
            "p { font-size: 13pt; margin: 3mm 0 }"
            "</style></head><body>" + "".join(pages) + "</body></html>")


def print_pdf(html: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer",
                        f"--print-to-pdf={out}", page.as_uri()], check=True, capture_output=True, timeout=120)


def main() -> int:
    print_pdf(slides_html(), SAMPLES / "sample_slides.pdf")
    print(f"wrote {SAMPLES / 'sample_slides.pdf'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
