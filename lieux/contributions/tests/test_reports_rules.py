"""The arithmetic and formatting of the reports: shares of hours, months, references, French numbers."""

from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.contributions.reports import charts, formats, rules

D = Decimal
NBSP = "\u00a0"

hours_values = st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2)


@given(hours=hours_values, parts=st.integers(min_value=1, max_value=12))
def test_shares_add_up_to_the_hours_and_differ_by_at_most_a_hundredth(hours, parts):
    shares = rules.split_hours(hours, parts)
    assert len(shares) == parts
    assert sum(shares, D(0)) == hours
    assert max(shares) - min(shares) <= D("0.01")
    assert all(share == share.quantize(D("0.01")) for share in shares)


def test_split_gives_leftover_hundredths_to_the_first_parts():
    assert rules.split_hours(D("1.00"), 3) == [D("0.34"), D("0.33"), D("0.33")]
    with pytest.raises(ValueError):
        rules.split_hours(D("1.00"), 0)


def test_valuation_rounds_half_up_to_the_cent():
    assert rules.valued(D("1.25"), D("20.00")) == D("25.00")
    assert rules.valued(D("0.33"), D("12.50")) == D("4.13")  # 4.125


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    days=st.integers(min_value=0, max_value=2000),
)
def test_months_between_cover_the_period_once_each(start, days):
    end = date.fromordinal(start.toordinal() + days)
    months = rules.months_between(start, end)
    assert months[0] == start.replace(day=1) and months[-1] == end.replace(day=1)
    assert all(m.day == 1 for m in months)
    assert all(a < b for a, b in pairwise(months))
    assert len(months) == (end.year - start.year) * 12 + end.month - start.month + 1


def item(pk=1, hours="2.50", activities=(3, 4)):
    return rules.CertifiedItem(
        contribution_id=pk,
        performed_on=date(2026, 3, 1),
        hours=D(hours),
        project_id=7,
        activity_ids=activities,
    )


def test_digest_depends_on_the_facts_not_on_their_order():
    one = rules.certificate_digest(network_id=1, person_id=2, year=2026, items=[item(1), item(2)])
    assert one == rules.certificate_digest(network_id=1, person_id=2, year=2026, items=[item(2), item(1)])
    assert one == rules.certificate_digest(
        network_id=1, person_id=2, year=2026, items=[item(1, activities=(4, 3)), item(2)]
    )
    changed = [
        rules.certificate_digest(
            network_id=1, person_id=2, year=2026, items=[item(1, hours="2.75"), item(2)]
        ),
        rules.certificate_digest(network_id=1, person_id=2, year=2026, items=[item(1)]),
        rules.certificate_digest(network_id=1, person_id=3, year=2026, items=[item(1), item(2)]),
        rules.certificate_digest(network_id=1, person_id=2, year=2025, items=[item(1), item(2)]),
    ]
    assert one not in changed and len(one) == rules.DIGEST_LENGTH


def test_reference_prints_and_parses_back():
    reference = rules.Reference(year=2026, network_id=1, person_id=42, digest="3F9A1C0B7D")
    assert str(reference) == "ATT-2026-1-42-3F9A1C0B7D"
    assert rules.parse_reference("att-2026-1-42-3f9a1c0b7d ") == reference
    assert rules.parse_reference("ATT-2026-1-42- 3F9A1C0B7D") == reference
    for wrong in (
        "",
        "ATT-2026-1-42",
        "ATT-26-1-42-3F9A1C0B7D",
        "ATT-2026-1-42-3F9A1C0B7",
        "XYZ-2026-1-42-3F9A1C0B7D",
    ):
        assert rules.parse_reference(wrong) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("12.50"), "12,5 h"),
        (D("3.00"), "3 h"),
        (D("0.25"), "0,25 h"),
        (D("1234.50"), f"1{NBSP}234,5 h"),
        (D("1000000"), f"1{NBSP}000{NBSP}000 h"),
    ],
)
def test_hours_are_written_the_french_way(value, text):
    assert formats.hours(value).replace(NBSP + "h", " h") == text


def test_euros_and_cells_are_written_the_french_way():
    assert formats.euros(D("1234.5")) == f"1{NBSP}234,50{NBSP}€"
    assert formats.euros(D("-12")) == f"-12,00{NBSP}€"
    assert formats.cell(D("1234.5")) == "1234,50"
    assert formats.cell(None) == ""
    assert formats.day(date(2026, 2, 1)) == "01/02/2026"
    assert formats.long_day(date(2026, 2, 1)) == "1 février 2026"


def test_chart_scale_is_round_and_columns_stay_in_the_plot():
    assert charts.round_scale(D(0)) == 1
    assert charts.round_scale(D("0.3")) == D("0.5")
    assert charts.round_scale(D("9.5")) == 10
    assert charts.round_scale(D("130")) == 200
    assert charts.round_scale(D("230")) == 250
    chart = charts.bar_chart([(str(i), str(i), D(i)) for i in range(40)], max_labels=10)
    assert len(chart.bars) == 40
    assert sum(1 for bar in chart.bars if bar.label) <= 10
    tallest = max(chart.bars, key=lambda bar: float(bar.height))
    assert float(tallest.y) >= 8 and float(tallest.y) + float(tallest.height) == pytest.approx(
        chart.plot_bottom
    )
    assert all("," not in bar.x + bar.y + bar.height for bar in chart.bars)


def test_text_that_would_run_as_a_formula_is_quoted():
    for formula in ("=1+1", "+33 6", "-2", "@SUM(A1)", "\tx"):
        assert formats.text_cell(formula) == "'" + formula
    assert formats.text_cell("Jardin = vie") == "Jardin = vie"
    assert formats.text_cell("") == ""
