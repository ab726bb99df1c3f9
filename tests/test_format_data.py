"""The format data holds every cell key of FORMAT.md §2, and no other."""

from __future__ import annotations

from convert.formats import core, load_format

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
    rows = [*REQUESTS_ROWS, "other_no_correction", "other_unpaid_fee", "other_other", "total", "carried_forward"]
    want = keys_of(PROACTIVE_2021, rows)
    got = load_format("2021").cell_keys
    assert set(got) == want
    assert len(got) == len(want) == 10 + 175 + 15


def test_money_and_signed_types() -> None:
    f19, f21 = load_format("2019"), load_format("2021")
    assert f19.cell_type("proactive.procurement.amount") == "money"
    assert f19.cell_type("proactive.licensing.change") == "signed"
    assert f21.cell_type("proactive.fees.amount") == "money"
    assert f21.cell_type("requests.total.total") == "count"


def test_formulas_cover_every_total() -> None:
    formulas = load_format("2021").formulas()
    assert formulas["requests.granted.total"][0] == "requests.granted.natural_person"
    assert len(formulas["requests.total.natural_person"]) == 21  # every outcome row of 2021
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
