"""The labelling guideline as labelling functions: each rule votes for a pillar or an action item,
or abstains.

Contract:
- `LABELLING_FUNCTIONS` is a fixed, ordered tuple of `LabellingFunction`s. Each has a `name`, a
  `target` ("pillar" or "item"), the `label` it votes for (a pillar id or an item number) and
  the guideline rule it stands for (`rule`, a rule number of `corpus/GUIDELINE.md` or "taxonomy"
  for the scheme's own wording).
- `votes(text)` is one 0/1 vote per function, in that order: 1 = the rule fires and votes for its
  label, 0 = it abstains. Votes read only the text given (a case's title and text), by regular
  expressions over NFKC-normalised text: no model, no network, deterministic.
- `rule_report(rows)` measures each function on labelled rows: coverage (share of rows it votes
  on) and accuracy (share of its votes that match the row's label; for items, the vote is right
  when the item is among the row's items).

The votes enter the classifiers as a block of features (`features.FeatureLayout.RULES`), so the
logistic regressions learn how far to trust each rule from the training cases; a rule that is
often wrong gets a small or negative weight instead of overruling the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from jirei.normalise import normalise


@dataclass(frozen=True)
class LabellingFunction:
    name: str
    target: str  # "pillar" | "item"
    label: str | int
    rule: str
    fires: re.Pattern
    unless: re.Pattern | None = None
    requires: re.Pattern | None = None

    def vote(self, text: str) -> bool:
        if not self.fires.search(text):
            return False
        if self.requires is not None and not self.requires.search(text):
            return False
        return not (self.unless is not None and self.unless.search(text))


def _re(*words: str) -> re.Pattern:
    return re.compile("|".join(words))


# Word lists from the guideline's decision rules and the scheme's theme and item wording.
_LIVING_SERVICE = _re("医療", "診療", "介護", "福祉", "病院", "クリニック", "看護", "子育て", "保育", "交通", "バス",
                      "鉄道", "駅", "移動", "買物", "買い物", "防災", "減災", "災害", "水道", "インフラ", "住民サービス")
_BUSINESS = _re("事業展開", "販路", "売上", "新事業", "新規事業", "起業", "創業", "スタートアップ", "ベンチャー",
                "事業承継", "経営", "中小企業", "中堅", "稼ぐ", "企業誘致", "ビジネス", "商品開発", "生産性", "取引")
_FIRMS = _re("企業", "事業者", "事業所", "経営者", "会員企業", "商工会", "中小企業")
_HUMAN_RESOURCES = _re("人材", "採用", "就職", "雇用", "人手不足", "担い手", "求人", "就業", "確保")
_SCHOOL = _re("学生", "生徒", "児童", "子ども", "子供", "こども", "高校", "中学", "小学", "大学", "高専", "学校",
              "授業", "インターンシップ", "キャリア教育", "学び")
_VISITORS = _re("観光客", "来訪", "交流人口", "関係人口", "誘客", "インバウンド", "ツアー", "来場", "滞在",
                "旅行", "ファン", "周遊", "来村", "来町", "来県")
_FUNDS = _re("ファンド", "投資", "出資", "融資")
_RELOCATION = _re("本社機能", "移転", "工場", "拠点", "分散配置", "サテライトオフィス")
_HIRING = _re("雇用", "採用", "現地採用", "就業")

LABELLING_FUNCTIONS: tuple[LabellingFunction, ...] = (
    # Pillars.
    LabellingFunction("business_in_town_is_work", "pillar", "work", "1, 7",
                      _BUSINESS, unless=_LIVING_SERVICE),
    LabellingFunction("living_service_is_live", "pillar", "live", "3, 7", _LIVING_SERVICE),
    LabellingFunction("energy_circular_is_live", "pillar", "live", "taxonomy",
                      _re("エネルギー", "再生可能", "脱炭素", "カーボン", "リサイクル", "循環型", "水素", "発電")),
    LabellingFunction("data_town_is_live", "pillar", "live", "7",
                      _re("スマートシティ", "データ連携", "都市OS", "データ駆動", "まちづくり"), unless=_BUSINESS),
    LabellingFunction("hr_for_firms_is_work", "pillar", "work", "4",
                      _HUMAN_RESOURCES, requires=_FIRMS, unless=_SCHOOL),
    LabellingFunction("hr_for_students_is_nurture", "pillar", "nurture", "4",
                      _re("人材育成", "育成", "教育", "研修", "学び", "授業", "インターンシップ"), requires=_SCHOOL),
    LabellingFunction("health_is_nurture", "pillar", "nurture", "3",
                      _re("健康増進", "健康づくり", "健診", "検診", "健康経営", "フレイル", "健康寿命")),
    LabellingFunction("visitors_are_interact", "pillar", "interact", "2, 9", _VISITORS, unless=_FUNDS),
    LabellingFunction("living_ties_are_interact", "pillar", "interact", "9",
                      _re("移住", "二地域居住", "多拠点", "ワーケーション", "関係人口", "UIJ", "Uターン", "ふるさと")),
    LabellingFunction("tourism_investment_is_work", "pillar", "work", "2", _re("観光"), requires=_FUNDS),
    LabellingFunction("relocation_hiring_is_work", "pillar", "work", "10", _RELOCATION, requires=_HIRING),
    # Action items.
    LabellingFunction("item1_living", "item", 1, "9",
                      _re("移住", "二地域居住", "多拠点", "テレワーク", "ワーケーション", "定住", "UIJ", "Uターン")),
    LabellingFunction("item2_sports_culture", "item", 2, "9",
                      _re("スポーツ", "文化", "芸術", "アート", "祭", "音楽", "美術", "展覧", "展示", "体験")),
    LabellingFunction("item3_education", "item", 3, "4",
                      _re("人材育成", "育成", "教育", "研修", "インターンシップ", "キャリア", "授業", "学校", "就職")),
    LabellingFunction("item4_new_business", "item", 4, "8, 10",
                      _re("スタートアップ", "ベンチャー", "起業", "創業", "新事業", "新規事業", "新産業", "事業承継",
                          "ビジネスマッチング", "雇用創出", "雇用の創出", "インキュベーション", "中小企業")),
    LabellingFunction("item5_outside_talent", "item", 5, "4",
                      _re("出向", "派遣", "副業", "兼業", "プロフェッショナル人材", "人材マッチング", "地域の人事部",
                          "OB", "OG", "専門人材", "週1", "週１")),
    LabellingFunction("item6_local_resources", "item", 6, "2, 8",
                      _re("観光", "農業", "漁業", "林業", "水産", "農林", "地場産業", "特産", "伝統工芸", "農産物", "木材",
                          "酒", "6次産業", "六次産業")),
    LabellingFunction("item7_dx_gx", "item", 7, "6",
                      _re("DX", "デジタル", "IoT", "AI", "ICT", "データ", "脱炭素", "再生可能エネルギー", "GX",
                          "カーボン", "アプリ", "オンライン", "ドローン", "システム")),
    LabellingFunction("item8_disaster", "item", 8, "6", _re("防災", "減災", "災害", "復旧", "BCP", "レジリエンス")),
    LabellingFunction("item9_daily_life", "item", 9, "3, 7",
                      _re("医療", "介護", "育児", "子育て", "保育", "移動", "交通", "バス", "診療", "福祉", "買物",
                          "買い物", "健康")),
    LabellingFunction("item10_hub", "item", 10, "5",
                      _re("広域", "連携中枢", "圏域", "知事会", "市長会", "連合", "戦略会議", "推進会議", "プラットフォーム",
                          "産学官金", "多様な主体")),
)

NAMES: tuple[str, ...] = tuple(f.name for f in LABELLING_FUNCTIONS)


def votes(text: str) -> list[int]:
    """One 0/1 vote per labelling function, in `LABELLING_FUNCTIONS` order."""
    t = normalise(text)
    return [int(f.vote(t)) for f in LABELLING_FUNCTIONS]


@dataclass(frozen=True)
class RuleFigures:
    name: str
    target: str
    label: str | int
    rule: str
    rows: int  # rows with a label of the function's target
    coverage: float  # share of those rows the function votes on
    accuracy: float | None  # share of its votes that are right; None when it never votes


def rule_report(rows: Iterable) -> list[RuleFigures]:
    """Coverage and accuracy of each labelling function on labelled rows (objects with
    `input_text`, `pillar` and `items`, e.g. `training.TrainingRow`s of origin "case")."""
    rows = list(rows)
    all_votes = [votes(r.input_text) for r in rows]
    out = []
    for j, f in enumerate(LABELLING_FUNCTIONS):
        if f.target == "pillar":
            labelled = [(v[j], r.pillar == f.label) for r, v in zip(rows, all_votes) if r.pillar]
        else:
            labelled = [(v[j], f.label in r.items) for r, v in zip(rows, all_votes) if r.items]
        fired = [right for vote, right in labelled if vote]
        out.append(RuleFigures(f.name, f.target, f.label, f.rule, len(labelled),
                               len(fired) / len(labelled) if labelled else 0.0,
                               sum(fired) / len(fired) if fired else None))
    return out


def majority_vote(vote_rows: Sequence[Sequence[int]], labels: Sequence[str]) -> list[str | None]:
    """The pillar most pillar rules vote for in each row (ties: the first in `labels` order), or
    None when no pillar rule fires: the simplest label model over the pillar votes."""
    pillar_fns = [(j, f.label) for j, f in enumerate(LABELLING_FUNCTIONS) if f.target == "pillar"]
    out = []
    for v in vote_rows:
        counts = {label: 0 for label in labels}
        for j, label in pillar_fns:
            counts[label] += v[j]
        best = max(labels, key=lambda label: counts[label])
        out.append(best if counts[best] else None)
    return out
