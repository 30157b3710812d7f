from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lieux.billing import rules
from lieux.billing.services import fec
from lieux.billing.services.exports import (
    AccountPlan,
    PaymentFacts,
    SaleFacts,
    accounts_for,
    numbered,
    payment_entry,
    sale_entry,
)
from lieux.core.errors import ValidationError
from lieux.core.money import cents
from tests.factories import VenueFactory
from tests.factories import organisation as make_organisation

from .accounting_data import Clock, credit_on, issue_on, pay

D = Decimal
YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def parse(content: bytes, encoding: str = "utf-8") -> list[dict[str, str]]:
    text = content.decode(encoding)
    header, *rows = text.split("\r\n")[:-1]
    assert text.endswith("\r\n")
    names = header.split("\t")
    parsed = [dict(zip(names, row.split("\t"), strict=True)) for row in rows]
    return parsed


def amount(text: str) -> Decimal:
    assert "." not in text
    return D(text.replace(",", "."))


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.mark.django_db
def test_the_file_has_the_18_columns_in_order_and_is_named_after_siren_and_closing_date(venue, member, clock):
    invoice = issue_on(clock, date(2026, 3, 10), venue, buyer=member)
    export = fec.build_fec(venue=venue, start=YEAR[0], end=YEAR[1])

    assert export.name == f"{venue.siren}FEC20261231.txt"
    header = export.content.decode().split("\r\n")[0]
    assert header == (
        "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\t"
        "PieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\t"
        "Idevise"
    )
    rows = parse(export.content)
    assert [(r["CompteNum"], r["Debit"], r["Credit"]) for r in rows] == [
        ("411", "120,00", "0,00"),
        ("706", "0,00", "100,00"),
        ("44571", "0,00", "20,00"),
    ]
    customer = rows[0]
    assert customer["JournalCode"] == "VE" and customer["EcritureNum"] == "VE000001"
    assert customer["EcritureDate"] == customer["PieceDate"] == customer["ValidDate"] == "20260310"
    assert customer["CompAuxNum"] == f"CP{member.pk:06d}" and customer["CompAuxLib"] == "Camille Test"
    assert customer["PieceRef"] == invoice.number and invoice.number in customer["EcritureLib"]
    assert {r["Montantdevise"] + r["Idevise"] + r["EcritureLet"] + r["DateLet"] for r in rows} == {""}
    assert all(r["CompAuxNum"] == "" for r in rows[1:])  # only the customer line has a sub-account


@pytest.mark.django_db
def test_credit_notes_are_reversed_and_payments_go_to_the_bank_journal(venue, member, clock):
    invoice = issue_on(clock, date(2026, 4, 1), venue, buyer=member, items=(("100", "20"), ("50", "5.5")))
    note = credit_on(clock, date(2026, 4, 3), invoice, items=(("10", "20"),))
    received = pay(invoice, "100.00", date(2026, 4, 2))
    pay(invoice, "-100.00", date(2026, 4, 20), reverses=received)

    rows = parse(fec.build_fec(venue=venue, start=YEAR[0], end=YEAR[1]).content)
    by_entry: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in rows:
        by_entry[r["EcritureNum"]].append((r["CompteNum"], r["Debit"], r["Credit"]))

    assert by_entry["VE000001"] == [
        ("411", "172,75", "0,00"),
        ("706", "0,00", "50,00"),
        ("706", "0,00", "100,00"),
        ("44571", "0,00", "2,75"),
        ("44571", "0,00", "20,00"),
    ]
    assert by_entry["VE000002"] == [
        ("411", "0,00", "12,00"),
        ("706", "10,00", "0,00"),
        ("44571", "2,00", "0,00"),
    ]
    assert by_entry["BQ000001"] == [("512", "100,00", "0,00"), ("411", "0,00", "100,00")]
    assert by_entry["BQ000002"] == [("512", "0,00", "100,00"), ("411", "100,00", "0,00")]
    # The file is in date order; each journal numbers its own entries.
    assert [r["EcritureNum"] for r in rows if r["CompteNum"] == "411"] == [
        "VE000001",
        "BQ000001",
        "VE000002",
        "BQ000002",
    ]
    assert [r["PieceRef"] for r in rows if r["EcritureNum"] == "VE000002"] == [note.number] * 3
    assert [r["PieceRef"] for r in rows if r["JournalCode"] == "BQ"] == [invoice.number] * 4


@pytest.mark.django_db
def test_only_the_venues_documents_of_the_period_are_exported(venue, other_venue, member, clock):
    issue_on(clock, date(2025, 12, 31), venue, buyer=member)
    kept = issue_on(clock, date(2026, 1, 1), venue, buyer=member)
    issue_on(clock, date(2026, 6, 1), other_venue, buyer=member)
    issue_on(clock, date(2027, 1, 1), venue, buyer=member)
    pay(kept, "120", date(2027, 1, 2))

    rows = parse(fec.build_fec(venue=venue, start=YEAR[0], end=YEAR[1]).content)
    assert {r["PieceRef"] for r in rows} == {kept.number}
    assert {r["EcritureNum"] for r in rows} == {"VE000001"}


@pytest.mark.django_db
def test_organisations_have_their_own_sub_account_and_separators_leave_text_fields(venue, clock):
    organisation = make_organisation("Coop\tdu | Nord")
    issue_on(clock, date(2026, 5, 5), venue, organisation=organisation)
    rows = parse(fec.build_fec(venue=venue, start=YEAR[0], end=YEAR[1]).content)
    assert rows[0]["CompAuxNum"] == f"CO{organisation.pk:06d}"
    assert rows[0]["CompAuxLib"] == "Coop du / Nord"
    assert all(
        len(line.split("\t")) == 18
        for line in fec.build_fec(venue=venue, start=YEAR[0], end=YEAR[1]).content.decode().split("\r\n")[:-1]
    )


@pytest.mark.django_db
def test_account_numbers_are_configured_per_venue(venue, other_venue, member, clock, settings):
    settings.LIEUX_ACCOUNTING = {
        "*": {"bank": "5121"},
        venue.slug: {
            "customers": "4110",
            "revenue_by_rate": {"5.5": "7063"},
            "account_by_method": {"cash": "530"},
        },
    }
    invoice = issue_on(clock, date(2026, 2, 2), venue, buyer=member, items=(("10", "5.5"), ("10", "20")))
    pay(invoice, "5", date(2026, 2, 3), method="cash")
    pay(invoice, "5", date(2026, 2, 3), method="transfer")
    rows = parse(fec.build_fec(venue=venue, start=YEAR[0], end=YEAR[1]).content)
    assert [r["CompteNum"] for r in rows] == [
        "4110",
        "7063",
        "706",
        "44571",
        "44571",
        "530",
        "4110",
        "5121",
        "4110",
    ]
    assert accounts_for(other_venue) == AccountPlan(bank="5121")

    settings.LIEUX_ACCOUNTING = {venue.slug: {"customer": "411"}}
    with pytest.raises(ValueError, match="customer"):
        accounts_for(venue)


@pytest.mark.django_db
def test_iso_8859_15_on_request_and_unknown_encodings_refused(venue, member, clock):
    issue_on(clock, date(2026, 7, 1), venue, buyer=member)
    export = fec.build_fec(venue=venue, start=YEAR[0], end=YEAR[1], encoding="iso8859-15")
    assert "TVA collectée" in export.content.decode("iso8859-15")
    assert "TVA collectée".encode() not in export.content
    with pytest.raises(ValidationError) as refused:
        fec.build_fec(venue=venue, start=YEAR[0], end=YEAR[1], encoding="utf-16")
    assert refused.value.code == "invalid_encoding"
    with pytest.raises(ValidationError) as reversed_period:
        fec.build_fec(venue=venue, start=YEAR[1], end=YEAR[0])
    assert reversed_period.value.code == "invalid_period"


@pytest.mark.django_db
def test_write_fec_writes_the_file_under_its_legal_name(venue, member, clock, tmp_path):
    issue_on(clock, date(2026, 7, 1), venue, buyer=member)
    path, export = fec.write_fec(venue=venue, start=YEAR[0], end=YEAR[1], directory=tmp_path)
    assert path == tmp_path / export.name
    assert path.read_bytes() == export.content
    assert [p.name for p in tmp_path.iterdir()] == [export.name]  # no temporary file left


# Property: every entry balances, whatever the documents and payments.

RATES = [D("20"), D("10"), D("5.5"), D("2.1"), D("0")]
money = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)


@st.composite
def sales(draw):
    regime = draw(st.sampled_from([rules.STANDARD, rules.FRANCHISE, rules.NOT_LIABLE]))
    items = draw(
        st.lists(
            st.tuples(st.sampled_from(RATES), money, st.integers(min_value=1, max_value=30)),
            min_size=1,
            max_size=6,
        )
    )
    totals = rules.totals([rules.Line("x", D(q), price, rate) for rate, price, q in items], regime)
    return SaleFacts(
        number="LC-F-2026-000001",
        is_credit_note=draw(st.booleans()),
        issued_on=date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 364))),
        customer_code="CP000001",
        customer_name="Camille",
        gross_amount=totals.gross_amount,
        breakdown=totals.breakdown,
    )


payments = st.builds(
    PaymentFacts,
    amount=st.one_of(money, money.map(lambda a: -a)),
    received_on=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    method=st.sampled_from(["transfer", "cash", "sepa_debit"]),
    method_label=st.just("virement"),
    reference=st.text(max_size=10),
    document_number=st.just("LC-F-2026-000001"),
    customer_code=st.just("CP000001"),
    customer_name=st.just("Camille"),
)


@given(sales=st.lists(sales(), max_size=8), receipts=st.lists(payments, max_size=8))
@settings(max_examples=200)
def test_every_entry_balances_and_no_amount_is_negative(sales, receipts):
    plan = AccountPlan()
    entries = numbered([sale_entry(s, plan) for s in sales] + [payment_entry(p, plan) for p in receipts])
    for entry in entries:
        assert entry.balanced, entry
        assert all(line.debit >= 0 and line.credit >= 0 for line in entry.lines)
        assert all((line.debit == 0) != (line.credit == 0) for line in entry.lines)
    for s, entry in zip(
        sorted(sales, key=lambda s: s.issued_on), [e for e in entries if e.journal == "VE"], strict=True
    ):
        customer = entry.lines[0]
        assert customer.account == "411"
        assert (customer.credit if s.is_credit_note else customer.debit) == s.gross_amount
    numbers = [e.number for e in entries if e.journal == "BQ"]
    assert numbers == [f"BQ{n:06d}" for n in range(1, len(receipts) + 1)]
    assert [e.on for e in entries] == sorted(e.on for e in entries)


def test_a_document_that_does_not_add_up_is_refused():
    breakdown = (rules.VatBreakdown(D(20), D("100.00"), D("20.00")),)
    facts = SaleFacts("LC-F-2026-000009", False, date(2026, 1, 1), "CP1", "x", D("121.00"), breakdown)
    with pytest.raises(ValidationError) as refused:
        sale_entry(facts, AccountPlan())
    assert refused.value.code == "unbalanced_document"


@pytest.mark.django_db
@given(data=st.data())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_fec_of_random_invoices_and_payments_balances_per_entry(network, member, monkeypatch, data):
    venue = VenueFactory(network=network)  # a fresh venue per example: its own numbers and chain
    clock = Clock(monkeypatch)
    expected_gross = D(0)
    days = sorted(data.draw(st.lists(st.integers(0, 300), min_size=1, max_size=4)))
    for offset in days:
        day = date(2026, 1, 1) + timedelta(days=offset)
        items = data.draw(
            st.lists(
                st.tuples(
                    st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2).map(str),
                    st.sampled_from(["20", "10", "5.5"]),
                ),
                min_size=1,
                max_size=3,
            )
        )
        invoice = issue_on(clock, day, venue, buyer=member, items=tuple(items))
        expected_gross += invoice.gross_amount
        if data.draw(st.booleans()):
            note = credit_on(clock, day, invoice)
            expected_gross -= note.gross_amount
        paid = max(cents(invoice.gross_amount * D(data.draw(st.integers(1, 100))) / 100), D("0.01"))
        payment = pay(invoice, str(paid), day)
        if data.draw(st.booleans()):
            pay(invoice, str(-paid), day + timedelta(days=1), reverses=payment)

    rows = parse(fec.build_fec(venue=venue, start=YEAR[0], end=YEAR[1]).content)
    balance: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert len(row) == 18
        balance[row["EcritureNum"]] += amount(row["Debit"]) - amount(row["Credit"])
    assert set(balance.values()) == {D(0)}
    for journal in ("VE", "BQ"):
        numbers = sorted({r["EcritureNum"] for r in rows if r["JournalCode"] == journal})
        assert numbers == [f"{journal}{n:06d}" for n in range(1, len(numbers) + 1)]
    customers = [r for r in rows if r["JournalCode"] == "VE" and r["CompteNum"] == "411"]
    assert sum(amount(r["Debit"]) - amount(r["Credit"]) for r in customers) == expected_gross
