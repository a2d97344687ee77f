"""The label schemes load from their data files, with validation that names file and problem."""

import json
from pathlib import Path

import pytest

from jirei.classify.taxonomy import TAXONOMY_DIR, TaxonomyError, available_schemes, load_taxonomy


def test_both_schemes_load_the_same_way_with_versioned_label_sets():
    assert {"chiiki_kyoso", "chihou_sousei_2_0"} <= set(available_schemes())
    kyoso = load_taxonomy("chiiki_kyoso")
    sousei = load_taxonomy(TAXONOMY_DIR / "chihou_sousei_2_0.json")  # by path as well as by name
    assert kyoso.versioned_name == "chiiki_kyoso@2021-11"
    assert sousei.versioned_name == "chihou_sousei_2_0@2025-06"
    assert kyoso.label_set("pillar").version == "chiiki_kyoso@2021-11/pillar"
    assert sousei.label_set("policy_area").numbers == [1, 2, 3, 4, 5]
    assert not sousei.label_set("policy_area").multi_label
    assert len(kyoso.sha256) == 64 and kyoso.sha256 != sousei.sha256


def test_ten_action_items_in_groups_one_to_three_four_to_six_seven_to_nine_and_ten():
    items = load_taxonomy().label_set("action_item")
    assert items.multi_label
    assert items.numbers == list(range(1, 11))
    groups = {}
    for item in items.labels:
        groups.setdefault(item.get("group")["id"], []).append(item.number)
    assert groups == {"attract": [1, 2, 3], "jobs": [4, 5, 6], "appeal": [7, 8, 9], "hub": [10]}
    assert items.by_number(7).wording.startswith("DX")
    assert sum(len(i.get("partners")) for i in items.labels) == 21


def test_four_pillars_with_thirteen_themes_that_point_back_to_their_pillar():
    taxonomy = load_taxonomy()
    pillars = taxonomy.label_set("pillar")
    themes = taxonomy.label_set("theme")
    assert pillars.ids == ["live", "work", "nurture", "interact"]
    assert [p.label_ja for p in pillars.labels] == ["住む", "働く", "育む", "交わる"]
    assert len(themes.labels) == 13
    per_pillar = {p.id: [t["id"] for t in p.get("themes")] for p in pillars.labels}
    assert {k: len(v) for k, v in per_pillar.items()} == {"live": 4, "work": 4, "nurture": 3, "interact": 2}
    for theme in themes.labels:
        assert theme.id in per_pillar[theme.get("pillar")]


def _write(tmp_path: Path, data) -> Path:
    path = tmp_path / "broken_scheme.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _valid() -> dict:
    return json.loads((TAXONOMY_DIR / "chihou_sousei_2_0.json").read_text(encoding="utf-8"))


def _break_version(d):
    del d["version"]


def _duplicate_id(d):
    d["label_sets"]["policy_area"]["labels"][1]["id"] = "living_environment"


def _labels_not_a_list(d):
    d["label_sets"]["policy_area"]["labels"] = {"id": "x"}


def _no_multi_label(d):
    del d["label_sets"]["policy_area"]["multi_label"]


def _label_without_id(d):
    del d["label_sets"]["policy_area"]["labels"][0]["id"]


def _empty_version(d):
    d["version"] = " "


@pytest.mark.parametrize("breaker, problem", [
    (_break_version, "missing required key(s): version"),
    (_duplicate_id, "duplicate id 'living_environment'"),
    (_labels_not_a_list, "label_sets.policy_area.labels must be a non-empty list"),
    (_no_multi_label, "label_sets.policy_area has no boolean 'multi_label'"),
    (_label_without_id, "label_sets.policy_area.labels[0] has no 'id'"),
    (_empty_version, "'version' must be a non-empty string"),
])
def test_an_invalid_scheme_fails_on_load_with_one_line_naming_file_and_problem(tmp_path, breaker, problem):
    data = _valid()
    breaker(data)
    path = _write(tmp_path, data)
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and problem in message
    assert "\n" not in message


def test_unknown_pillar_reference_and_bad_json_are_reported(tmp_path):
    data = json.loads((TAXONOMY_DIR / "chiiki_kyoso.json").read_text(encoding="utf-8"))
    data["label_sets"]["theme"]["labels"][0]["pillar"] = "play"
    with pytest.raises(TaxonomyError, match="names unknown pillar 'play'"):
        load_taxonomy(_write(tmp_path, data))
    with pytest.raises(TaxonomyError, match="not valid UTF-8 JSON"):
        load_taxonomy(_write(tmp_path, "{\"scheme\": "))
    with pytest.raises(TaxonomyError, match="cannot read file"):
        load_taxonomy(tmp_path / "absent.json")
