"""The format data: every cell key of FORMAT.md §2 and no other, the facts the code reads from it, its validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from convert.checks import check_continuity, check_rules
from convert.errors import FormatDataError
from convert.formats import (
    Equation,
    also_counted,
    core,
    crosswalks,
    known_versions,
    load_format,
    parse_format_data,
    read_format_data,
    templates_dir,
    version_for_year,
)
from convert.parse import detect_version, parse_report
from tests.strategies import consistent_record

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

REQUESTS_COLUMNS = [
    "natural_person",
    "commercial",
    "research",
    "social_welfare",
    "legal_services",
    "other_org",
    "total",
]
REQUESTS_ROWS = (
    ["new_received", "carried_over", "granted", "partially_granted"]
    + [
        f"denied_{x}"
        for x in (
            "state_secret",
            "prohibited_by_law",
            "three_safeties",
            "third_party",
            "internal_affairs",
            "process_info",
            "enforcement_file",
            "query_matter",
        )
    ]
    + ["unable_not_held", "unable_needs_creation", "unable_unclear"]
    + [f"rejected_{x}" for x in ("complaint", "repeat", "publication", "excessive", "confirmation")]
)
OTHER_2019 = ["other_handling"]
OTHER_2021 = ["other_no_correction", "other_unpaid_fee", "other_other"]
APPEALS = [
    f"appeals.{g}.{c}"
    for g in ("review", "suit_direct", "suit_after_review")
    for c in ("upheld", "corrected", "other", "pending", "total")
]

PROACTIVE_2019 = {
    "regulations": ["made", "published", "public_total"],
    "normative_documents": ["made", "published", "public_total"],
    "licensing": ["prior_items", "change", "decisions"],
    "other_services": ["prior_items", "change", "decisions"],
    "penalties": ["prior_items", "change", "decisions"],
    "enforcement": ["prior_items", "change", "decisions"],
    "fees": ["prior_items", "change"],
    "procurement": ["projects", "amount"],
}
PROACTIVE_2021 = {
    "regulations": ["issued", "repealed", "in_force"],
    "normative_documents": ["issued", "repealed", "in_force"],
    "licensing": ["decisions"],
    "penalties": ["decisions"],
    "enforcement": ["decisions"],
    "fees": ["amount"],
}


def keys_of(proactive: dict[str, list[str]], requests_rows: list[str]) -> set[str]:
    keys = {f"proactive.{r}.{c}" for r, cols in proactive.items() for c in cols}
    keys |= {f"requests.{r}.{c}" for r in requests_rows for c in REQUESTS_COLUMNS}
    return keys | set(APPEALS)


def test_2019_keys_are_exactly_format_md() -> None:
    rows = [*REQUESTS_ROWS, "other_handling", "total", "carried_forward"]
    want = keys_of(PROACTIVE_2019, rows)
    got = load_format("2019").cell_keys
    assert set(got) == want
    assert len(got) == len(want) == 22 + 161 + 15


def test_2021_keys_are_exactly_format_md() -> None:
    # other_total: （六）其他处理's total, which the form leaves to its three rows (added for reports printing it alone).
    rows = [*REQUESTS_ROWS, *OTHER_2021, "other_total", "total", "carried_forward"]
    want = keys_of(PROACTIVE_2021, rows)
    got = load_format("2021").cell_keys
    assert set(got) == want
    assert len(got) == len(want) == 10 + 182 + 15


def test_money_and_signed_types() -> None:
    f19, f21 = load_format("2019"), load_format("2021")
    assert f19.cell_type("proactive.procurement.amount") == "money"
    assert f19.cell_type("proactive.licensing.change") == "signed"
    assert f21.cell_type("proactive.fees.amount") == "money"
    assert f21.cell_type("requests.total.total") == "count"


def test_formulas_cover_every_total() -> None:
    formulas = load_format("2021").formulas()
    assert formulas["requests.granted.total"][0] == "requests.granted.natural_person"
    assert len(formulas["requests.total.natural_person"]) == 19  # every outcome row of 2021, （六） as one
    assert formulas["appeals.review.total"] == tuple(
        f"appeals.review.{c}" for c in ("upheld", "corrected", "other", "pending")
    )


def test_labels_of_a_table_do_not_collide() -> None:
    for version in ("2019", "2021"):
        for table in load_format(version).tables.values():
            owners: dict[str, set[str]] = {}
            for row in table.rows:
                for label in (row.label, *row.aliases):
                    owners.setdefault(core(label), set()).add(row.key)
            shared = {c: rows for c, rows in owners.items() if len(rows) > 1}
            assert not shared, (version, table.key, shared)


# -- the moved facts give the same answers as before -------------------------------------------


def expected_equations(other_rows: list[str], other_total: str | None = None) -> list[Equation]:
    """Spell out the 勾稽 equations of FORMAT.md §3 for a version whose （六） has these rows (and this total)."""
    rows = [*REQUESTS_ROWS, *([other_total] if other_total else []), *other_rows, "total", "carried_forward"]
    outcomes = [*REQUESTS_ROWS[2:], *([other_total] if other_total else other_rows)]

    def cells(rows: list[str], col: str) -> tuple[str, ...]:
        return tuple(f"requests.{r}.{col}" for r in rows)

    parts = REQUESTS_COLUMNS[:-1]
    out = [
        Equation(
            "balance",
            f"requests.*.{c}",
            cells(["new_received", "carried_over"], c),
            cells(["total", "carried_forward"], c),
        )
        for c in REQUESTS_COLUMNS
    ]
    out += [
        Equation("row-total", f"requests.{r}", (f"requests.{r}.total",), tuple(f"requests.{r}.{c}" for c in parts))
        for r in rows
    ]
    out += [
        Equation("outcome-total", f"requests.*.{c}", cells(["total"], c), cells(outcomes, c)) for c in REQUESTS_COLUMNS
    ]
    if other_total:
        out += [
            Equation("other-total", f"requests.*.{c}", cells([other_total], c), cells(other_rows, c))
            for c in REQUESTS_COLUMNS
        ]
    out += [
        Equation(
            "appeal-total",
            f"appeals.{r}",
            (f"appeals.{r}.total",),
            tuple(f"appeals.{r}.{c}" for c in ("upheld", "corrected", "other", "pending")),
        )
        for r in ("review", "suit_direct", "suit_after_review")
    ]
    return out


def test_equations_are_the_formats_rules_spelled_out() -> None:
    assert load_format("2019").equations() == expected_equations(OTHER_2019)
    assert load_format("2021").equations() == expected_equations(OTHER_2021, "other_total")
    assert (len(load_format("2019").equations()), len(load_format("2021").equations())) == (40, 50)


def test_versions_and_the_year_rule() -> None:
    assert known_versions() == ("2019", "2021")
    assert {y: version_for_year(y) for y in (2018, 2019, 2020, 2021, 2025)} == {
        2018: "2019",
        2019: "2019",
        2020: "2019",
        2021: "2021",
        2025: "2021",
    }


def test_markers_decide_the_version_and_the_year_overrules_a_mixed_guess() -> None:
    markers_2019 = "、".join(load_format("2019").markers)
    markers_2021 = "、".join(load_format("2021").markers)
    assert detect_version(markers_2019) == ("2019", "")
    assert detect_version(markers_2021) == ("2021", "")
    assert detect_version("没有标志词")[0] == "2021"
    # houhe is a 2021 report; with every 2019 marker added, the markers point to 2019 and its year to 2021.
    text = (SAMPLES / "houhe-2021.txt").read_text(encoding="utf-8").rstrip() + f"\n\n{markers_2019}。\n"
    record = parse_report(text)
    assert (record.format, record.year) == ("2019", 2021)
    uncertain = [w.fields for w in record.warnings if w.code == "format-uncertain"]
    assert {"case": "year", "year": 2021, "wanted": "2021", "format": "2019"} in uncertain


def test_rows_ruled_per_row_name_their_blank_cells_by_column() -> None:
    record = consistent_record("2021", seed=3)
    record.cells["requests.granted.research"] = None
    record.cells["appeals.review.pending"] = None
    messages = {f.key: f.message for f in check_rules(record) if f.code == "missing"}
    assert "科研机构" in messages["requests.granted"]
    assert "尚未审结" in messages["appeals.review"]
    # A rule per column names the blank cell by its row.
    assert "（一）予以公开" in messages["requests.*.research"]


def test_carry_over_continuity_compares_last_years_carried_forward_with_this_years_carried_over() -> None:
    before = consistent_record("2019", seed=1)
    now = consistent_record("2021", seed=2)
    for col in REQUESTS_COLUMNS:
        now.cells[f"requests.carried_over.{col}"] = before.cells[f"requests.carried_forward.{col}"]
    assert check_continuity(now, before) == []
    now.cells["requests.carried_over.research"] = 99
    (finding,) = check_continuity(now, before)
    assert (finding.code, finding.key, finding.actual) == (
        "carry-over-continuity",
        "requests.carried_over.research",
        99,
    )
    assert finding.message.startswith("本年“上年结转”（99）与上一年度“结转下年度继续办理”")


def test_mixed_summaries_count_2019s_other_handling_under_2021s_other_other() -> None:
    assert also_counted("requests.other_other.total") == ("requests.other_handling.total",)
    # …and so under the （六） total of 2021, which sums 3.其他.
    assert also_counted("requests.other_total.research") == ("requests.other_handling.research",)
    assert also_counted("requests.other_unpaid_fee.total") == ()
    (walk,) = crosswalks()
    assert (walk.total_key, walk.total_label) == ("other_all", "（六）其他处理·合计（跨版本）")
    assert walk.total_rows == ("other_handling", "other_total")


def test_the_org_subtotal_column_is_named_by_its_group() -> None:
    (derived,) = load_format("2019").tables["requests"].derived_columns
    assert (derived.key, derived.name) == ("org_subtotal", "法人或其他组织 小计")
    assert derived.sums == tuple(REQUESTS_COLUMNS[1:6])


# -- the format data is validated when loaded --------------------------------------------------

SHIPPED = (templates_dir() / "format.toml").read_text(encoding="utf-8")


def edited(old: str, new: str, count: int = 1) -> str:
    """Return the shipped format.toml with `old` replaced; `old` must be there (else the test tests nothing)."""
    assert SHIPPED.count(old) >= count, old
    return SHIPPED.replace(old, new, count)


def test_the_shipped_data_loads_through_every_entry_point(tmp_path: Path) -> None:
    copy = tmp_path / "format.toml"
    copy.write_text(SHIPPED, encoding="utf-8")
    for data in (parse_format_data(SHIPPED), read_format_data(copy)):
        assert data.versions == known_versions()
        for version in data.versions:
            assert data.format(version).equations() == load_format(version).equations()
            assert data.format(version).cell_keys == load_format(version).cell_keys


def test_a_one_letter_typo_in_a_rule_is_an_error_not_23_lost_equations(english: None) -> None:
    text = edited('right = ["natural_person", "commercial"', 'right = ["natual_person", "commercial"')
    with pytest.raises(FormatDataError) as caught:
        parse_format_data(text)
    message = str(caught.value)
    assert message.startswith(
        "format.toml: version 2019, table requests, rule row-total: unknown column 'natual_person'"
    )
    assert "did you mean 'natural_person'" in message


ROW_GRANTED = '{ key = "granted", label = "（一）予以公开", group = "results", outcome = true'
RULE_ROW_TOTAL = 'formula = true\ntitle = "总计等于各类申请人之和"'

INVALID = [
    # unknown keys, at every level
    ("top", "[versions.2019]", 'colour = "red"\n\n[versions.2019]', "format.toml: unknown key 'colour'"),
    ("version", "first_year = 2019", "first_year = 2019\nfirst_yaer = 2019", "version 2019: unknown key 'first_yaer'"),
    ("section", 'key = "overview"', 'key = "overview"\nheadnig = "x"', "section overview: unknown key 'headnig'"),
    (
        "table",
        'key = "appeals"\nlayout',
        'key = "appeals"\nlayuot = "wide"\nlayout',
        "table appeals: unknown key 'layuot'",
    ),
    (
        "column",
        '{ key = "natural_person", label = "自然人", aliases',
        '{ key = "natural_person", label = "自然人", alias',
        "table requests, column natural_person: unknown key 'alias'",
    ),
    (
        "row",
        ROW_GRANTED,
        ROW_GRANTED.replace("outcome", "outcme"),
        "row granted: unknown key 'outcme' (did you mean 'outcome'?)",
    ),
    ("group", '{ key = "denied", label', '{ key = "denied", lable = "x", label', "group denied: unknown key 'lable'"),
    (
        "derived column",
        'key = "org_subtotal", label = "小计"',
        'key = "org_subtotal", label = "小计", sum = []',
        "derived column org_subtotal: unknown key 'sum'",
    ),
    (
        "derived row",
        '{ key = "unable_subtotal", label',
        '{ key = "unable_subtotal", sums = [], label',
        "derived row unable_subtotal: unknown key 'sums'",
    ),
    (
        "rule",
        RULE_ROW_TOTAL,
        RULE_ROW_TOTAL.replace("formula", "formulas"),
        "table requests, rule row-total: unknown key 'formulas'",
    ),
    (
        "continuity",
        'this_name = "上年结转"',
        'this_name = "上年结转"\nname = "x"',
        "continuity rule carry-over-continuity: unknown key 'name'",
    ),
    (
        "crosswalk",
        'total_key = "other_all"',
        'total_key = "other_all"\ntotal = 1',
        "crosswalk other_other: unknown key 'total'",
    ),
    # names of things that do not exist
    (
        "rule row",
        'left = ["new_received", "carried_over"]',
        'left = ["new_recieved", "carried_over"]',
        "version 2019, table requests, rule balance: unknown row 'new_recieved'",
    ),
    ("rule table", 'table = "appeals"\nper', 'table = "appels"\nper', "rule appeal-total: unknown table 'appels'"),
    (
        "row column",
        '"made", "published", "public_total"], aliases = [] }',
        '"made", "publihsed", "public_total"], aliases = [] }',
        "version 2019, table proactive, row regulations: unknown column 'publihsed'",
    ),
    (
        "row group",
        'key = "rejected_repeat", label = "2.重复申请", group = "rejected"',
        'key = "rejected_repeat", label = "2.重复申请", group = "rejectd"',
        "table requests, row rejected_repeat: unknown group 'rejectd'",
    ),
    (
        "group parent",
        'label = "（四）无法提供", parent = "results"',
        'label = "（四）无法提供", parent = "result"',
        "table requests, group unable: unknown group 'result'",
    ),
    (
        "column group",
        'label = "科研机构", group = "法人或其他组织"',
        'label = "科研机构", group = "法人或其它组织"',
        "column research: unknown group label '法人或其它组织'",
    ),
    (
        "derived sums",
        'sums = ["commercial"',
        'sums = ["comercial"',
        "derived column org_subtotal: unknown column 'comercial'",
    ),
    (
        "derived row group",
        'key = "unable_subtotal", label = "小计", group = "unable"',
        'key = "unable_subtotal", label = "小计", group = "unabel"',
        "derived row unable_subtotal: unknown group 'unabel'",
    ),
    (
        "continuity row",
        'last_year = "carried_forward"',
        'last_year = "carried_fwd"',
        "continuity rule carry-over-continuity: unknown row 'carried_fwd'",
    ),
    (
        "crosswalk row",
        'also = ["other_handling"]',
        'also = ["other_handlign"]',
        "table requests, crosswalk other_other: unknown row 'other_handlign'",
    ),
    (
        "crosswalk table",
        'table = "requests"\nrow = "other_other"',
        'table = "request"\nrow = "other_other"',
        "crosswalk other_other: unknown table 'request'",
    ),
    (
        "item version",
        'versions = ["2021"], aliases = [] },\n  { key = "other_unpaid_fee"',
        'versions = ["2022"], aliases = [] },\n  { key = "other_unpaid_fee"',
        "row other_no_correction (2022): versions[0] must be one of 2019, 2021, not '2022'",
    ),
    (
        "table section",
        'key = "appeals"\nlayout',
        'key = "appeal"\nlayout',
        "version 2019, table appeal: no section of kind 'table' has this key",
    ),
    # duplicate keys
    (
        "row key",
        'key = "denied_third_party"',
        'key = "denied_three_safeties"',
        "version 2019, table requests: duplicate row key 'denied_three_safeties'",
    ),
    (
        "column key",
        '{ key = "research", label',
        '{ key = "commercial", label',
        "table requests: duplicate column key 'commercial'",
    ),
    ("group key", '{ key = "unable", label', '{ key = "denied", label', "table requests: duplicate group key 'denied'"),
    (
        "derived key",
        'key = "org_subtotal"',
        'key = "total"',
        "table requests: duplicate column or derived column key 'total'",
    ),
    (
        "table key",
        'key = "proactive"\nversions = ["2021"]',
        'key = "proactive"\nversions = ["2019"]',
        "version 2019: duplicate table key 'proactive'",
    ),
    (
        "section key",
        'key = "other"\nnumber',
        'key = "problems"\nnumber',
        "format.toml: duplicate section key 'problems'",
    ),
    ("rule id", 'id = "appeal-total"', 'id = "row-total"', "version 2019: duplicate rule id 'row-total'"),
    ("version key", "[versions.2021]", "[versions.2019]", "format.toml: not valid TOML"),
    # missing required fields
    ("rule title", RULE_ROW_TOTAL, "formula = true", "table requests, rule row-total: missing required key 'title'"),
    (
        "column label",
        '{ key = "natural_person", label = "自然人", ',
        '{ key = "natural_person", ',
        "column natural_person: missing required key 'label'",
    ),
    ("first year", "first_year = 2021\n", "", "version 2021: missing required key 'first_year'"),
    ("section kind", 'kind = "text"\nsheet = "五', 'sheet = "五', "section problems: missing required key 'kind'"),
    # wrong types and values
    ("int", "first_year = 2019", 'first_year = "2019"', "version 2019: first_year must be a whole number, not '2019'"),
    (
        "bool",
        ROW_GRANTED,
        ROW_GRANTED.replace("outcome = true", 'outcome = "yes"'),
        "row granted: outcome must be true or false, not 'yes'",
    ),
    (
        "list",
        'aliases = ["社会组织", "社会公益"]',
        'aliases = "社会组织"',
        "column social_welfare: aliases must be a list, not '社会组织'",
    ),
    (
        "list item",
        'markers = ["本年制发件数"',
        'markers = [2021, "本年制发件数"',
        "version 2021: markers[0] must be a string, not 2021",
    ),
    (
        "table item",
        'rows = [\n  { key = "review"',
        'rows = [\n  "review",\n  { key = "review"',
        "table appeals, row #1: must be a table, not 'review'",
    ),
    ("choice", 'per = "row"\nleft', 'per = "rows"\nleft', "rule row-total: per must be one of row, column, not 'rows'"),
    (
        "column type",
        'type = "money", aliases = []',
        'type = "euro", aliases = []',
        "column amount: type must be one of count, signed, money, not 'euro'",
    ),
    (
        "empty list",
        'left = ["total"]\nright = ["natural',
        'left = []\nright = ["natural',
        "rule row-total: left must not be empty",
    ),
    (
        "pattern",
        'patterns = ["^其他需要报告的事项$"',
        'patterns = ["^其他需要(报告的事项$"',
        "section other: pattern '^其他需要(报告的事项$' is not a regular expression",
    ),
    (
        "year order",
        "first_year = 2021",
        "first_year = 2019",
        "version 2021: first_year 2019 must be later than version 2019's",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_format_data_is_an_error_naming_the_item(old: str, new: str, message: str) -> None:
    with pytest.raises(FormatDataError) as caught:
        parse_format_data(edited(old, new))
    assert message in str(caught.value)


def test_a_broken_file_is_named_by_its_name(tmp_path: Path, english: None) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(edited('per = "row"\nleft', 'per = "diagonal"\nleft'), encoding="utf-8")
    with pytest.raises(FormatDataError, match=r"^mine\.toml: table requests, rule row-total: per must be one of"):
        read_format_data(path)
    with pytest.raises(FormatDataError, match="cannot load"):
        read_format_data(tmp_path / "missing.toml")
