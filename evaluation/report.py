"""The evaluation report: one self-contained HTML file for an `EvaluationRun`.

Everything is inline (CSS, matplotlib plots as SVG, no script but the JSON data block), so the
file opens offline and can be attached or archived as it is. Case titles and text come from
the reports being evaluated and are untrusted: every text goes through `html.escape`, and the
JSON block escapes `<`, `>` and `&` so that no text can close it.

Sections (stable ids): segmentation, entities, classification, calibration, per-class,
confident-errors, timing, history. The run's figures, timings and each stage's JSON output
(as `jirei evaluate <stage> --json` prints it) are embedded in
`<script type="application/json" id="jirei-figures">`; `read_figures` reads them back.

Plot labels are ASCII (pillar ids, item numbers), so the plots need no CJK font; the tables
beside them carry the Japanese names.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any, Iterable

import matplotlib

matplotlib.use("Agg")  # no display, no network: files only

from matplotlib.figure import Figure  # noqa: E402  (after choosing the backend)

from jirei.evaluation.classification import EXTRA_PART, SYSTEMS  # noqa: E402
from jirei.evaluation.entities import FIELDS  # noqa: E402
from jirei.evaluation.run_all import EvaluationRun  # noqa: E402

SECTIONS = (
    ("segmentation", "Segmentation"),
    ("entities", "Entities"),
    ("classification", "Classification"),
    ("calibration", "Calibration"),
    ("per-class", "Per-class precision and recall"),
    ("confident-errors", "Most confidently wrong"),
    ("learning-curve", "Learning curve"),
    ("timing", "Timing"),
    ("history", "History"),
)
FIGURES_ID = "jirei-figures"
SYSTEM_NAMES = {"jirei": "Jirei", "char_tfidf_lr": "char TF-IDF + LR", "majority": "majority",
                "stock_ner": "stock ja_ginza NER"}
HISTORY_ROWS = 10
PLOT_STYLE = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
              "svg.fonttype": "none", "figure.dpi": 96}
COLOURS = {"jirei": "#1f6f8b", "char_tfidf_lr": "#e0a030", "majority": "#9a9a9a", "stock_ner": "#e0a030"}

CSS = """
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1.5em 2em; color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 2px solid #1f6f8b; padding-bottom: 0.15em; margin-top: 2em; }
h3 { font-size: 1em; margin: 1.2em 0 0.4em; }
nav a { margin-right: 1em; }
.meta { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.86em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.55em; vertical-align: top; }
th { background: #eef3f6; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.plot svg { max-width: 100%; height: auto; }
.note { color: #555; font-size: 0.86em; max-width: 60em; }
.case { border-left: 3px solid #c0392b; padding: 0.3em 0.8em; margin: 0.8em 0; background: #fbf6f5; }
.case .title { font-weight: bold; }
.case .excerpt { color: #444; font-size: 0.88em; }
.list { font-size: 0.86em; margin: 0.2em 0 0.8em; }
"""


# --- entry points -----------------------------------------------------------------------

def write_report(run: EvaluationRun, path: Path | str, history: list[dict[str, Any]] | None = None) -> Path:
    """Write the report of `run` to `path`; `history`: earlier run records (runs file) to list."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(run, history or []), encoding="utf-8")
    return path


def render_report(run: EvaluationRun, history: list[dict[str, Any]]) -> str:
    with matplotlib.rc_context(PLOT_STYLE):  # figures take the style when they are created
        return _render(run, history)


def _render(run: EvaluationRun, history: list[dict[str, Any]]) -> str:
    d = run.details
    body = [
        _header(run),
        _section("segmentation", segmentation_section(d["segmentation"], d["segmentation_total"])),
        _section("entities", entities_section(d["entities"])),
        _section("classification", classification_section(d["classification"], d["classification_analysis"])),
        _section("calibration", calibration_section(d["classification"], d["classification_analysis"])),
        _section("per-class", per_class_section(d["classification_analysis"])),
        _section("confident-errors", confident_errors_section(d["classification_analysis"])),
        _section("learning-curve", learning_curve_section(d.get("learning_curve"))),
        _section("timing", timing_section(run.timings, d["entities"])),
        _section("history", history_section(history, run)),
        figures_script(run),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>Jirei evaluation {e(run.run_id)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def figures_data(run: EvaluationRun) -> dict[str, Any]:
    """What the JSON block holds: the run record and each stage's --json output."""
    return {**run.record(), "stages": {k: run.details[k] for k in ("segmentation", "entities", "classification")}}


def figures_script(run: EvaluationRun) -> str:
    data = json.dumps(figures_data(run), ensure_ascii=False, indent=1)
    # JSON's \u escapes keep the values; no text can end the script element or open a comment.
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script type="application/json" id="{FIGURES_ID}">\n{data}\n</script>'


def read_figures(report_html: str) -> dict[str, Any]:
    """The JSON block of a report, parsed."""
    match = re.search(rf'<script type="application/json" id="{FIGURES_ID}">(.*?)</script>', report_html, re.S)
    if not match:
        raise ValueError(f"no {FIGURES_ID} block in the report")
    return json.loads(match.group(1))


# --- HTML helpers -----------------------------------------------------------------------

def e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _section(section_id: str, content: str) -> str:
    title = dict(SECTIONS)[section_id]
    return f'<section id="{section_id}">\n<h2>{e(title)}</h2>\n{content}\n</section>'


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


_NUMBER_TEXT = re.compile(r"[-+]?[\d,]*\.?\d+(?: / [-+]?[\d,]*\.?\d+)*")


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """An HTML table; every cell is escaped. Numbers are right-aligned, floats shown with three
    decimals; pass a number as a str ("0.25", "1,024", "0.916 / 0.377") to show it differently."""
    out = ["<table>", "<tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>"]
    for row in rows:
        cells = []
        for cell in row:
            if isinstance(cell, bool) or cell is None:
                cells.append(f"<td>{e('–' if cell is None else cell)}</td>")
            elif isinstance(cell, float):
                cells.append(f'<td class="num">{_f(cell)}</td>')
            elif isinstance(cell, int) or _NUMBER_TEXT.fullmatch(cell):
                cells.append(f'<td class="num">{e(cell)}</td>')
            else:
                cells.append(f"<td>{e(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _note(text: str) -> str:
    return f'<p class="note">{e(text)}</p>'


def _plots(*svgs: str) -> str:
    return '<div class="plots">' + "".join(f'<div class="plot">{s}</div>' for s in svgs) + "</div>"


# --- plots ------------------------------------------------------------------------------

def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def svg(fig: Figure) -> str:
    """The figure as an inline <svg> element: matplotlib's XML prolog and DOCTYPE dropped, and
    the ids nothing refers to (figure_1, patch_1, … repeat in every plot) removed, so that the
    page's ids stay unique."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    referenced = set(re.findall(r'(?:url\(#|href="#)([^)"]+)', text))
    return re.sub(r' id="([^"]+)"', lambda m: m.group(0) if m.group(1) in referenced else "", text)


def heatmap(ax, matrix: list[list[int]], row_labels: list[str], col_labels: list[str], title: str) -> None:
    ax.imshow(matrix, cmap="Blues", vmin=0)
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=30 if max(map(len, col_labels)) > 3 else 0,
                  ha="right" if max(map(len, col_labels)) > 3 else "center")
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    ax.spines[:].set_visible(False)
    peak = max((max(r) for r in matrix), default=0) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                        color="white" if count > peak * 0.6 else "black")


def grouped_bars(ax, groups: list[str], series: dict[str, list[float]], ylabel: str, title: str) -> None:
    width = 0.8 / max(len(series), 1)
    for k, (name, values) in enumerate(series.items()):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(groups))]
        ax.bar(xs, values, width, label=SYSTEM_NAMES.get(name, name), color=COLOURS.get(name))
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def legend_below(fig: Figure) -> None:
    fig.legend(loc="outside lower center", ncols=4, fontsize=8, frameon=False)


# --- sections ---------------------------------------------------------------------------

def _header(run: EvaluationRun) -> str:
    s = run.settings
    meta = (f"run {run.run_id} · started {run.started_at} · model {run.model_version} · "
            f"commit {run.git_commit or 'unknown'} · seeds {s.get('seeds')} · models {s.get('models')} · "
            f"baselines {'yes' if s.get('baselines') else 'stock NER skipped'}"
            + (f" · extra held-out cases {s['extra_cases']}" if s.get("extra_cases") else ""))
    nav = " ".join(f'<a href="#{sid}">{e(title)}</a>' for sid, title in SECTIONS)
    return (f"<h1>Jirei evaluation</h1>\n<p class=\"meta\">{e(meta)}</p>\n<nav>{nav}</nav>\n"
            + _note("Every stage is scored against the hand-made gold in corpus/ by the functions behind "
                    "`jirei evaluate segmentation`, `entities` and `classification`, beside each stage's "
                    "baselines, in one run."))


def segmentation_section(scores: list[dict], total: dict) -> str:
    rows = [[s["doc"], s["layout"], s["predicted"], s["gold"], s["matched"], s["precision"], s["recall"], s["f1"],
             s["ends_included"]] for s in scores + [total]]
    out = [table(["document", "layout", "predicted", "gold", "matched", "P", "R", "F1", "ends included"], rows),
           _note("An entry matches when its gold heading lies in one predicted entry (one-to-one); "
                 "'ends included' is the share of matched entries that contain their gold ending. "
                 "The last row sums the counts of every document.")]
    for s in scores:
        for kind in ("missed", "spurious", "truncated"):
            if s[kind]:
                items = "".join(f"<li>{e(x)}</li>" for x in s[kind])
                out.append(f'<div class="list">{e(s["doc"])}: {e(kind)}<ul>{items}</ul></div>')
    return "\n".join(out)


def entities_section(entities: dict[str, dict]) -> str:
    systems = list(entities)
    headers = ["field"] + [f"{SYSTEM_NAMES[s]} {k}" for s in systems for k in ("P", "R", "F1")]
    rows = [[f] + [entities[s]["fields"][f][k] for s in systems for k in ("precision", "recall", "f1")]
            for f in FIELDS]
    docs = list(entities["jirei"]["per_doc"])
    doc_rows = [[doc] + [" / ".join(_f(entities[s]["per_doc"][doc][f]["f1"]) for s in systems) for f in FIELDS]
                for doc in docs]
    doc_headers = ["document"] + [f"{f} F1 ({' / '.join(SYSTEM_NAMES[s] for s in systems)})" for f in FIELDS]
    fig = _new_figure(5.2, 3.0)
    grouped_bars(fig.add_subplot(), list(FIELDS), {s: [entities[s]["fields"][f]["f1"] for f in FIELDS] for s in systems},
                 "F1", "Entity F1 per field")
    legend_below(fig)
    lead = entities["jirei"]["lead_accuracy"]
    return "\n".join([
        table(headers, rows),
        _plots(svg(fig)),
        "<h3>Per document (F1)</h3>",
        table(doc_headers, doc_rows),
        _note(f"Lead organisation right in {_f(lead)} of the gold cases that have one (Jirei). Both systems read "
              "each gold case's span; stock = ja_ginza's NER alone mapped to the same fields through the same "
              "gazetteer and year rules. Micro-averaged over cases."),
    ])


def _score_rows(classification: dict) -> list[list]:
    return [[s["part"], SYSTEM_NAMES[s["system"]], s["cases"], s["pillar_accuracy"], s["pillar_macro_f1"],
             s["pillar_ece"], s["items_micro_f1"], s["items_macro_f1"], s["items_top1_hit"],
             s.get("pillar_accuracy_with_secondary")]
            for s in classification["scores"]]


def classification_section(classification: dict, analysis: dict) -> str:
    pillars = analysis["pillars"]
    fig = _new_figure(3.0 * len(SYSTEMS), 3.1)
    for ax, system in zip(fig.subplots(1, len(SYSTEMS)), SYSTEMS):
        heatmap(ax, analysis["pillar_confusion"][system], pillars, pillars, SYSTEM_NAMES[system])
    items = [str(i) for i in analysis["items"]]
    co = _new_figure(4.6, 4.0)
    heatmap(co.add_subplot(), analysis["item_cooccurrence"], items, items, "Action items (Jirei): gold x predicted")
    counts = analysis["item_counts"]
    item_rows = [[c["label"], analysis["item_names"].get(c["label"], "")]
                 + [c[k] for k in ("tp", "fp", "fn", "tn")]
                 + [counts[s][n]["tp"] for s in SYSTEMS[1:]]
                 for n, c in enumerate(counts["jirei"])]
    extra = ([_note(f"Part '{EXTRA_PART}': reviewed held-out cases of a case store, scored on their own.")]
             if any(s["part"] == EXTRA_PART for s in classification["scores"]) else [])
    return "\n".join([
        f'<p class="meta">model {e(classification["model_version"])}</p>',
        table(["part", "system", "n", "pillar acc", "pillar macro-F1", "pillar ECE", "items micro-F1",
               "items macro-F1", "top-1 item hit", "pillar acc, secondary counted"], _score_rows(classification)),
        *extra,
        _note("Held-out gold cases (seed 001 part II, 003, 004); the baselines are fitted on Jirei's training rows "
              "in the same run. Macro-F1 of items is over the items present in the gold. 'firm cases': those whose "
              "pillar the labeller did not mark a judgement call. 'secondary counted': the top pillar is right when "
              "it is the gold's or one the gold lists as a secondary pillar."),
        f"<h3>Pillar confusion matrices (held-out, n = {analysis['cases']})</h3>",
        _plots(svg(fig)),
        table(["pillar id", "pillar"], [[p, analysis["pillar_names"].get(p, "")] for p in pillars]),
        "<h3>Action items</h3>",
        _note("Items are multi-label, so there is no single confusion matrix. The table counts, per item, the "
              "yes/no decision 'this case has the item' over the held-out cases (TP, FP, FN, TN). The heatmap "
              "is the item × item co-occurrence of gold and prediction: cell (i, j) = cases whose gold has item i "
              "and whose prediction has item j; the diagonal is each item's true positives."),
        table(["item", "wording", "TP", "FP", "FN", "TN"] + [f"TP {SYSTEM_NAMES[s]}" for s in SYSTEMS[1:]], item_rows),
        _plots(svg(co)),
    ])


def calibration_section(classification: dict, analysis: dict) -> str:
    fig = _new_figure(4.4, 4.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#bbbbbb", linestyle="--", linewidth=1, label="perfect calibration")
    eces = {s["system"]: s["pillar_ece"] for s in classification["scores"] if s["part"] == "all"}
    for system in SYSTEMS:
        bins = analysis["reliability"][system]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o",
                color=COLOURS[system], label=f"{SYSTEM_NAMES[system]} (ECE {eces[system]:.3f})")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("mean top-pillar probability in bin")
    ax.set_ylabel("pillar accuracy in bin")
    ax.set_title("Reliability diagram (pillar)")
    ax.legend(fontsize=7.5, frameon=False, loc="upper left")
    rows = [[f"{b['lo']:.1f}–{b['hi']:.1f}", b["count"], b["confidence"], b["accuracy"],
             abs(b["accuracy"] - b["confidence"])] for b in analysis["reliability"]["jirei"]]
    return "\n".join([
        _plots(svg(fig), table(["bin (Jirei)", "cases", "mean probability", "accuracy", "gap"], rows)),
        _note("Ten equal-width bins of the top pillar probability over the held-out cases (empty bins left out). "
              "ECE = the bins' gaps weighted by their share of cases, as `jirei evaluate classification` "
              "computes it."),
    ])


def per_class_section(analysis: dict) -> str:
    per_class = analysis["per_class"]
    names = {"pillar": analysis["pillar_names"], "item": analysis["item_names"]}

    def rows(kind: str) -> list[list]:
        return [[r["label"], names[kind].get(r["label"], ""), r["support"], r["predicted"], r["precision"],
                 r["recall"], r["f1"]] for r in per_class[kind]]

    fig = _new_figure(8.4, 3.0)
    for ax, kind in zip(fig.subplots(1, 2, width_ratios=[2, 5]), ("pillar", "item")):
        labels = [r["label"] for r in per_class[kind]]
        xs = range(len(labels))
        first = kind == "pillar"  # one legend entry per series
        ax.bar([x - 0.2 for x in xs], [r["precision"] for r in per_class[kind]], 0.4,
               label="precision" if first else None, color=COLOURS["jirei"])
        ax.bar([x + 0.2 for x in xs], [r["recall"] for r in per_class[kind]], 0.4,
               label="recall" if first else None, color="#8fc1d4")
        ax.set_xticks(list(xs), labels, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Jirei per {kind}")
    legend_below(fig)
    headers = ["label", "name", "gold", "predicted", "P", "R", "F1"]
    return "\n".join([
        _plots(svg(fig)),
        "<h3>Pillars (Jirei, held-out)</h3>", table(headers, rows("pillar")),
        "<h3>Action items (Jirei, held-out)</h3>", table(headers, rows("item")),
        _note("Each label as a yes/no decision over the held-out cases; 'gold' is its support, 'predicted' how "
              "often Jirei gave it. A label never predicted has precision 0."),
    ])


def confident_errors_section(analysis: dict) -> str:
    errors = analysis["confident_errors"]
    if not errors:
        return _note("No held-out case has a wrong pillar.")
    cards = [_note(f"The {len(errors)} held-out cases whose pillar Jirei got wrong with the highest probability.")]
    cards += [error_card(err, analysis["pillar_names"]) for err in errors]
    return "\n".join(cards)


def error_card(err: dict, pillar_names: dict[str, str]) -> str:
    """One wrongly labelled case: title, labels and a text excerpt (all escaped)."""
    def pillar(p: str) -> str:
        return f"{p} ({pillar_names[p]})" if p in pillar_names else p

    labels = (f"{err['doc']} #{err['ordinal']} · gold {pillar(err['gold_pillar'])} · predicted "
              f"{pillar(err['predicted_pillar'])} at {err['confidence']:.3f} · items gold "
              f"{','.join(map(str, err['gold_items'])) or '-'} / predicted {','.join(map(str, err['predicted_items']))}")
    return (f'<div class="case"><div class="title">{e(err["title"])}</div>'
            f'<div class="meta">{e(labels)}</div><div class="excerpt">{e(err["excerpt"])}</div></div>')


def learning_curve_section(points: list[dict] | None) -> str:
    """Out-of-fold figures against the number of training cases (CV on the training data)."""
    if not points:
        return _note("Not computed in this run (`jirei evaluate all --learning-curve`).")
    fig = _new_figure(5.5, 3.0)
    ax = fig.add_subplot()
    cases = [p["cases"] for p in points]
    for key, label, colour in (("pillar_accuracy", "pillar accuracy", COLOURS["jirei"]),
                               ("pillar_macro_f1", "pillar macro-F1", "#5aa9c8"),
                               ("items_top1_hit", "item top-1 hit", COLOURS["char_tfidf_lr"])):
        ax.plot(cases, [p[key] for p in points], marker="o", label=label, color=colour)
    ax.set_xlabel("training cases")
    ax.set_ylim(0, 1)
    ax.set_title("learning curve (CV on training data)")
    ax.legend(loc="lower right", fontsize=8)
    rows = [[p["cases"], _f(p["pillar_accuracy"]), _f(p["pillar_macro_f1"]), _f(p["items_top1_hit"]), p["fits"]]
            for p in points]
    return (_plots(svg(fig))
            + table(["training cases", "pillar accuracy", "pillar macro-F1", "item top-1 hit", "fits"], rows)
            + _note("Each fold of the training CV holds out whole runs of a document's cases, fits on its first n "
                    "training cases (a seeded shuffle) plus the scheme rows and scores its own held-out training "
                    "cases; the held-out test documents play no part."))


def timing_section(timings: dict[str, float], entities: dict[str, dict]) -> str:
    stages = [s for s in timings if s != "total"]
    fig = _new_figure(5.2, 0.5 + 0.35 * len(stages))
    ax = fig.add_subplot()
    ax.barh(stages[::-1], [timings[s] for s in stages[::-1]], color=COLOURS["jirei"])
    ax.set_xlabel("seconds (wall clock)")
    rows = [[s, f"{timings[s]:.2f}"] for s in stages + ["total"] if s in timings]
    ner_rows = [[SYSTEM_NAMES[s], f"{entities[s]['seconds']:.2f}", f"{entities[s]['chars']:,}"] for s in entities]
    return "\n".join([
        _plots(table(["stage", "seconds"], rows), svg(fig)),
        _note("Wall-clock time of each stage in this run, model loading and document reading included; "
              "the classification stage includes fitting its baselines."),
        table(["entities system", "seconds in NER/rules only", "chars of case text"], ner_rows),
    ])


def history_section(history: list[dict[str, Any]], run: EvaluationRun) -> str:
    from jirei.evaluation.runs import HISTORY_COLUMNS, short_commit

    runs = history[-HISTORY_ROWS:]
    if not runs:
        return _note("No runs file, or no runs in it yet.")
    rows = [[r["run_id"] + (" (this run)" if r["run_id"] == run.run_id else ""), r.get("model_version", ""),
             short_commit(r.get("git_commit"))] + [r["figures"].get(name) for _, name in HISTORY_COLUMNS]
            + [_seconds(r.get("timings", {}).get("total"))] for r in reversed(runs)]
    headers = ["run", "model", "commit"] + [label for label, _ in HISTORY_COLUMNS] + ["seconds"]
    return "\n".join([table(headers, rows),
                      _note(f"Runs of the runs file, newest first (at most {HISTORY_ROWS}); "
                            "`jirei evaluate history --compare RUN` lists every figure's change.")])
