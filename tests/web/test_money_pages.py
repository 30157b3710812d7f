"""Payments, accounting exports and SEPA in the web UI: a venue's team records and reverses payments and
sees where each invoice stands, lists the venue's payments, downloads the FEC, the journal and the VAT
summary, checks the chain, reads its mandates and debit batches; a member signs a SEPA mandate. Nobody sees
another venue's or another member's, and a refused form writes nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from lieux.billing.models import BillingProfile, DirectDebitBatch, Mandate, Payment, PeriodClosing
from lieux.billing.services import chain
from lieux.billing.services.chain import Breach
from lieux.billing.services.mandates import register_mandate
from lieux.billing.services.payments import record_payment
from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.venues.models import Venue
from tests.factories import UserFactory, add_role
from tests.invoice_data import invoice
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

D = Decimal
IBAN = "FR7630006000011234567890189"
ICS = "FR12ZZZ123456"


def page(response) -> str:
    return response.content.decode()


def writes() -> tuple[int, int, int]:
    """What a refused form must leave untouched: payments, mandates, audit rows."""
    return Payment.objects.count(), Mandate.objects.count(), AuditEvent.objects.count()


def today() -> date:
    return now().date()


@pytest.fixture
def bill(venue, member):
    return invoice(venue, buyer=member, amount="100.00")  # 120.00 incl. VAT


def invoice_url(venue, bill) -> str:
    return reverse("web:manage_invoice", args=[venue.slug, bill.pk])


def record_url(venue, bill) -> str:
    return reverse("web:manage_record_payment", args=[venue.slug, bill.pk])


def payment_form(**overrides) -> dict:
    return {
        "method": "cheque",
        "amount": "40.00",
        "received_on": today().isoformat(),
        "reference": "Chèque 1234567",
        **overrides,
    }


# --- Recording a payment by hand -------------------------------------------------------------------------


def test_the_invoice_page_offers_the_amount_due_and_says_unpaid(as_manager, venue, bill):
    response = as_manager.get(invoice_url(venue, bill))
    assert response.status_code == 200
    assert response.context["settlement"].state == "unpaid"
    form = response.context["payment_form"]
    assert form.initial["amount"] == D("120.00")
    text = page(response)
    assert 'class="badge badge--unpaid"' in text
    assert 'name="amount"' in text and 'value="120.00"' in text
    assert '<label for="id_received_on"' in text


def test_a_partial_payment_leaves_the_rest_due(as_manager, manager, venue, bill):
    response = as_manager.post(record_url(venue, bill), payment_form())
    assert response.status_code == 302
    assert response["Location"] == invoice_url(venue, bill) + "#payments"
    payment = Payment.objects.get(invoice=bill)
    assert (payment.amount, payment.method, payment.reference) == (D("40.00"), "cheque", "Chèque 1234567")
    assert payment.recorded_by == manager
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 1

    shown = as_manager.get(invoice_url(venue, bill))
    assert shown.context["settlement"].state == "partial"
    assert shown.context["settlement"].due == D("80.00")
    assert shown.context["payment_form"].initial["amount"] == D("80.00")
    assert "Partly paid" in page(shown) and "Chèque 1234567" in page(shown)


def test_paying_the_rest_then_more_shows_paid_then_overpaid(as_manager, venue, bill):
    as_manager.post(record_url(venue, bill), payment_form(amount="120.00", method="transfer"))
    assert as_manager.get(invoice_url(venue, bill)).context["settlement"].state == "paid"
    as_manager.post(record_url(venue, bill), payment_form(amount="5.00", method="cash"))
    shown = as_manager.get(invoice_url(venue, bill))
    assert shown.context["settlement"].state == "overpaid"
    assert shown.context["overpaid_by"] == D("5.00")
    assert "Overpaid by" in page(shown)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-10"}, "amount"),
        ({"amount": "douze"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": ""}, "amount"),
        ({"received_on": (date.today() + timedelta(days=3)).isoformat()}, "received_on"),
        ({"received_on": "1999-12-31"}, "received_on"),
        ({"received_on": "pas une date"}, "received_on"),
        ({"method": "sepa_debit"}, "method"),  # recorded by the debit batches, not by hand
        ({"method": "bitcoin"}, "method"),
        ({"reference": "x" * 141}, "reference"),
    ],
)
def test_a_bad_payment_is_refused_next_to_its_field_and_writes_nothing(
    as_manager, venue, bill, overrides, field
):
    before = writes()
    response = as_manager.post(record_url(venue, bill), payment_form(**overrides))
    assert response.status_code == 422
    assert field in response.context["payment_form"].errors
    assert "Please correct the fields below." in page(response)
    assert writes() == before


def test_a_draft_takes_no_payment(as_manager, venue, member):
    draft = invoice(venue, buyer=member, issued=False)
    assert 'id="record-payment"' not in page(as_manager.get(invoice_url(venue, draft)))
    before = writes()
    response = as_manager.post(record_url(venue, draft), payment_form())
    assert response.status_code == 409
    assert "Payments are recorded against issued invoices only." in page(response)
    assert writes() == before


@pytest.mark.parametrize("who", ["as_member", "as_other_manager"])
def test_only_the_venues_team_records_a_payment(request, who, venue, bill):
    client = request.getfixturevalue(who)
    before = writes()
    assert client.post(record_url(venue, bill), payment_form()).status_code == 404
    assert client.get(invoice_url(venue, bill)).status_code == 404
    assert writes() == before


def test_a_manager_cannot_pay_another_venues_invoice_through_their_own_venue(
    as_manager, venue, other_venue, member
):
    elsewhere = invoice(other_venue, buyer=member)
    before = writes()
    assert as_manager.post(record_url(venue, elsewhere), payment_form()).status_code == 404
    assert writes() == before


# --- Reversing one ---------------------------------------------------------------------------------------


def reverse_url(venue, bill, payment) -> str:
    return reverse("web:manage_reverse_payment", args=[venue.slug, bill.pk, payment.pk])


def reversal(payment, **values) -> dict:
    data = {"reason": "Chèque sans provision", "amount": "", "on": today().isoformat(), **values}
    return {f"reverse-{payment.pk}-{key}": value for key, value in data.items()}


@pytest.fixture
def paid(bill, manager):
    return record_payment(bill, amount=D("120.00"), method="cheque", received_on=today(), recorded_by=manager)


def test_a_bounced_cheque_is_reversed_with_its_reason(as_manager, venue, bill, paid):
    response = as_manager.post(reverse_url(venue, bill, paid), reversal(paid))
    assert response.status_code == 302
    undone = Payment.objects.get(reverses=paid)
    assert (undone.amount, undone.reason) == (D("-120.00"), "Chèque sans provision")
    shown = as_manager.get(invoice_url(venue, bill))
    assert shown.context["settlement"].state == "unpaid"
    assert "Chèque sans provision" in page(shown)
    # Nothing is left to reverse: the form is gone.
    assert f'name="reverse-{paid.pk}-reason"' not in page(shown)


def test_part_of_a_payment_is_reversed(as_manager, venue, bill, paid):
    as_manager.post(reverse_url(venue, bill, paid), reversal(paid, amount="20.00", reason="Remboursement"))
    shown = as_manager.get(invoice_url(venue, bill))
    assert shown.context["settlement"].state == "partial"
    row = next(r for r in shown.context["payment_rows"] if r["payment"].pk == paid.pk)
    assert row["reversible"] == D("100.00")


@pytest.mark.parametrize(
    ("values", "status", "message"),
    [
        ({"reason": "  "}, 422, "This field is required."),
        ({"amount": "500.00"}, 422, "This payment has only 120.00 € left to reverse."),
        ({"amount": "0"}, 422, "Ensure this value is greater than or equal to 0.01."),
        ({"on": "demain"}, 422, "Enter a valid date."),
    ],
)
def test_a_bad_reversal_is_refused_and_writes_nothing(as_manager, venue, bill, paid, values, status, message):
    before = writes()
    response = as_manager.post(reverse_url(venue, bill, paid), reversal(paid, **values))
    assert response.status_code == status
    assert message in page(response)
    assert writes() == before


def test_a_payment_is_reversed_only_through_its_own_invoice(as_manager, venue, member, paid):
    other_bill = invoice(venue, buyer=member, amount="10.00")
    before = writes()
    assert as_manager.post(reverse_url(venue, other_bill, paid), reversal(paid)).status_code == 404
    assert writes() == before


def test_another_venues_manager_cannot_reverse(as_other_manager, venue, bill, paid):
    before = writes()
    assert as_other_manager.post(reverse_url(venue, bill, paid), reversal(paid)).status_code == 404
    assert writes() == before


# --- Where invoices stand, in the list -------------------------------------------------------------------


def test_the_invoice_list_shows_each_invoices_settlement(as_manager, venue, member, other_member, manager):
    unpaid = invoice(venue, buyer=member, amount="10.00")
    partial = invoice(venue, buyer=other_member, amount="100.00")
    record_payment(partial, amount=D("1.00"), method="cash", received_on=today())
    draft = invoice(venue, buyer=member, issued=False)
    response = as_manager.get(reverse("web:manage_invoices", args=[venue.slug]))
    states = {i.pk: i.settlement.state if i.settlement else None for i in response.context["page"]}
    assert states == {unpaid.pk: "unpaid", partial.pk: "partial", draft.pk: None}
    assert page(response).count('class="badge badge--partial"') == 1


# --- The venue's payments --------------------------------------------------------------------------------


@pytest.fixture
def payments(venue, other_venue, member):
    first, second = invoice(venue, buyer=member), invoice(venue, buyer=member)
    elsewhere = invoice(other_venue, buyer=member)
    this_month = today()
    last_month = this_month.replace(day=1) - timedelta(days=1)
    return {
        "cheque": record_payment(first, amount=D("50"), method="cheque", received_on=this_month),
        "old_transfer": record_payment(second, amount=D("20"), method="transfer", received_on=last_month),
        "elsewhere": record_payment(elsewhere, amount=D("70"), method="cheque", received_on=this_month),
        "month": this_month,
        "last_month": last_month,
    }


def listed(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {p.pk for p in response.context["page"]}


def test_the_payments_tab_lists_this_venues_payments_only(as_manager, venue, payments):
    url = reverse("web:manage_payments", args=[venue.slug])
    response = as_manager.get(url)
    assert listed(response) == {payments["cheque"].pk, payments["old_transfer"].pk}
    assert response.context["net"] == D("70.00")
    assert 'aria-current="page">Payments<' in page(response)


def test_payments_are_filtered_by_month_and_method(as_manager, venue, payments):
    url = reverse("web:manage_payments", args=[venue.slug])
    assert listed(as_manager.get(url, {"month": f"{payments['last_month']:%Y-%m}"})) == {
        payments["old_transfer"].pk
    }
    assert listed(as_manager.get(url, {"method": "cheque"})) == {payments["cheque"].pk}
    assert listed(as_manager.get(url, {"month": f"{payments['month']:%Y-%m}", "method": "transfer"})) == set()


def test_a_bad_month_filter_says_so(as_manager, venue, payments):
    response = as_manager.get(reverse("web:manage_payments", args=[venue.slug]), {"month": "2026-13"})
    assert response.status_code == 422
    assert "Give a month as YYYY-MM, e.g. 2026-12." in page(response)


def test_another_venues_payments_are_a_404(as_other_manager, as_member, venue, payments):
    url = reverse("web:manage_payments", args=[venue.slug])
    assert as_other_manager.get(url).status_code == 404
    assert as_member.get(url).status_code == 404


# --- Accounting exports ----------------------------------------------------------------------------------


def exports(venue, name="manage_exports") -> str:
    return reverse(f"web:{name}", args=[venue.slug])


def test_the_exports_page_has_three_forms_and_the_closings(as_manager, venue, manager):
    PeriodClosing.objects.create(
        venue=venue,
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        closed_by=manager,
        document_count=12,
        net_amount=D("1000.00"),
        vat_amount=D("200.00"),
        gross_amount=D("1200.00"),
        perpetual_gross_amount=D("1200.00"),
        archive_name="x.zip",
        archive_sha256="ab" * 32,
        footprint="cd" * 32,
    )
    response = as_manager.get(exports(venue))
    assert response.status_code == 200
    text = page(response)
    for name in ("export_fec", "export_journal", "export_vat"):
        assert exports(venue, name) in text
    assert "1,200.00\xa0€" in text and "abababababab…" in text
    assert [c.document_count for c in response.context["closings"]] == [12]


def test_the_fec_downloads_under_its_legal_name(as_manager, venue, bill, paid):
    year = bill.issued_on.year
    response = as_manager.get(exports(venue, "export_fec"), {"year": year})
    assert response.status_code == 200
    name = f"{venue.siren}FEC{year}1231.txt"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().split("\r\n")
    assert lines[0].startswith("JournalCode\tJournalLib\tEcritureNum")
    assert any(bill.number in line for line in lines[1:])


def test_the_fec_in_iso_8859_15(as_manager, venue, bill):
    response = as_manager.get(
        exports(venue, "export_fec"), {"year": bill.issued_on.year, "encoding": "iso8859-15"}
    )
    assert response["Content-Type"] == "text/plain; charset=iso8859-15"


@pytest.mark.parametrize("year", ["", "26", "1999", "vingt"])
def test_a_bad_fec_year_is_refused_on_the_form(as_manager, venue, year):
    response = as_manager.get(exports(venue, "export_fec"), {"year": year})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/html")
    assert "year" in response.context["fec_form"].errors


def test_a_venue_without_siren_gets_no_fec_and_is_told_why(as_manager, venue):
    Venue.objects.filter(pk=venue.pk).update(siret="")
    response = as_manager.get(exports(venue, "export_fec"), {"year": 2026})
    assert response.status_code == 422
    assert "The venue has no SIREN: the FEC is named after it." in page(response)


def test_the_journal_downloads_as_csv(as_manager, venue, bill, paid):
    start, end = bill.issued_on.replace(day=1), bill.issued_on
    response = as_manager.get(
        exports(venue, "export_journal"), {"start": start.isoformat(), "end": end.isoformat()}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="journal-{venue.slug}-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
    )
    assert response.content.startswith("\ufeff".encode())
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].split(";")[0] == "Journal"
    assert "120,00" in text and bill.number in text


def test_a_journal_ending_before_it_starts_is_refused(as_manager, venue):
    response = as_manager.get(exports(venue, "export_journal"), {"start": "2026-03-31", "end": "2026-01-01"})
    assert response.status_code == 422
    assert "The end is before the start." in page(response)


def test_the_vat_summary_is_shown_then_downloaded(as_manager, venue, bill, paid):
    period = f"{bill.issued_on:%Y-%m}"
    shown = as_manager.get(exports(venue, "export_vat"), {"period": period, "action": "show"})
    assert shown.status_code == 200
    tables = {t["key"]: t for t in shown.context["summary_tables"]}
    assert (tables["issue"]["net"], tables["issue"]["vat"]) == (D("100.00"), D("20.00"))
    assert tables["payment"]["due"]  # no option for debits: VAT on services is due on payment
    assert 'id="vat-summary"' in page(shown)

    response = as_manager.get(exports(venue, "export_vat"), {"period": period, "action": "download"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    first = bill.issued_on.replace(day=1)
    assert f'filename="tva-{venue.slug}-{first:%Y%m%d}-' in response["Content-Disposition"]
    rows = response.content.decode("utf-8-sig").splitlines()
    assert rows[1].split(";")[:3] == ["issue_date", bill.vat_regime, "20,00"]


@pytest.mark.parametrize("period", ["2026-Q4", "2026"])
def test_the_vat_summary_takes_quarters_and_years(as_manager, venue, period):
    response = as_manager.get(exports(venue, "export_vat"), {"period": period})
    assert response.status_code == 200
    assert response.context["summary"].end == date(2026, 12, 31)


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "décembre", ""])
def test_a_bad_vat_period_is_refused(as_manager, venue, period):
    response = as_manager.get(exports(venue, "export_vat"), {"period": period, "action": "download"})
    assert response.status_code == 422
    assert "period" in response.context["vat_form"].errors


def test_the_chain_check_says_intact(as_manager, venue, bill):
    response = as_manager.get(exports(venue, "manage_chain_check"))
    assert response.status_code == 200
    assert response.context["check"].intact and response.context["check"].documents == 1
    assert "1 document checked: the chain is intact." in page(response)


def test_the_chain_check_lists_breaches(as_manager, venue, bill, monkeypatch):
    monkeypatch.setattr(
        chain, "verify", lambda venue_id: iter([Breach(venue_id, bill.number, "gross_amount", "altered")])
    )
    response = as_manager.get(exports(venue, "manage_chain_check"))
    assert not response.context["check"].intact
    assert f"{bill.number}: gross_amount: altered" in page(response)


@pytest.mark.parametrize(
    "name", ["manage_exports", "export_fec", "export_journal", "export_vat", "manage_chain_check"]
)
def test_exports_are_for_the_venues_team(as_other_manager, as_member, venue, name):
    assert as_other_manager.get(exports(venue, name), {"year": 2026}).status_code == 404
    assert as_member.get(exports(venue, name), {"year": 2026}).status_code == 404


# --- SEPA, for the team ----------------------------------------------------------------------------------


@pytest.fixture
def batch(venue):
    return DirectDebitBatch.objects.create(
        venue=venue, message_id="LACOROUTINE-20261205-1", collection_on=date(2026, 12, 5), xml="<Document/>"
    )


def test_the_sepa_tab_lists_mandates_masked_and_batches(as_manager, venue, member, batch):
    register_mandate(venue, debtor_user=member, debtor_name="Camille Martin", iban=IBAN, signed_on=today())
    response = as_manager.get(reverse("web:manage_sepa", args=[venue.slug]))
    assert response.status_code == 200
    text = page(response)
    assert "FR76…0189" in text and IBAN not in text
    assert "Camille Martin" in text
    assert reverse("web:sepa_batch_xml", args=[venue.slug, batch.pk]) in text


def test_a_batch_downloads_as_its_xml(as_manager, venue, batch):
    response = as_manager.get(reverse("web:sepa_batch_xml", args=[venue.slug, batch.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == 'attachment; filename="LACOROUTINE-20261205-1.xml"'
    assert response.content == b"<Document/>"


def test_another_venues_batch_is_a_404(as_other_manager, as_manager, venue, other_venue, batch):
    assert as_other_manager.get(reverse("web:sepa_batch_xml", args=[venue.slug, batch.pk])).status_code == 404
    # Through a venue one runs, another venue's batch is not there either.
    other = UserFactory(email="double@example.org")
    add_role(other, other_venue, "manager")
    url = reverse("web:sepa_batch_xml", args=[other_venue.slug, batch.pk])
    assert client_for(other).get(url).status_code == 404
    assert as_manager.get(reverse("web:manage_sepa", args=[other_venue.slug])).status_code == 404


# --- A member's mandate ----------------------------------------------------------------------------------


@pytest.fixture
def collecting(venue):
    BillingProfile.objects.update_or_create(
        venue=venue, defaults={"invoice_prefix": "COR", "sepa_creditor_id": ICS, "iban": IBAN}
    )
    return venue


def sign_url(venue) -> str:
    return reverse("web:sign_mandate", args=[venue.slug])


def mandate_form(**overrides) -> dict:
    return {
        "debtor_name": "Camille Martin",
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "authorise": "on",
        **overrides,
    }


def test_the_mandate_page_shows_the_legal_text_and_the_creditor(as_member, collecting):
    response = as_member.get(sign_url(collecting))
    assert response.status_code == 200
    text = page(response)
    assert ICS in text
    assert "you authorise (A) Association La Coroutine to send instructions to your bank" in text
    assert "within 8 weeks" in text
    assert '<label for="id_authorise"' in text and '<label for="id_iban"' in text


def test_a_member_signs_a_mandate_then_sees_it_masked(as_member, member, collecting):
    response = as_member.post(sign_url(collecting), mandate_form())
    assert response.status_code == 302 and response["Location"] == reverse("web:my_mandates")
    mandate = Mandate.objects.get()
    assert (mandate.debtor_user, mandate.iban, mandate.signed_on) == (member, IBAN, today())
    assert mandate.reference.startswith("COR-")
    text = page(as_member.get(reverse("web:my_mandates")))
    assert mandate.reference in text and ICS in text and "FR76…0189" in text
    assert IBAN not in text


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"authorise": ""}, "authorise", "Tick the box to sign the mandate."),
        ({"iban": "FR76 3000 6000 0112 3456 7890 180"}, "iban", "is not a valid IBAN."),
        ({"iban": ""}, "iban", "This field is required."),
        ({"bic": "NOTABIC!"}, "bic", "is not a valid BIC."),
        ({"debtor_name": "   "}, "debtor_name", "This field is required."),
    ],
)
def test_a_bad_mandate_is_refused_next_to_its_field(as_member, collecting, overrides, field, message):
    before = writes()
    response = as_member.post(sign_url(collecting), mandate_form(**overrides))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert message in page(response)
    assert writes() == before


def test_a_venue_without_a_creditor_id_takes_no_mandate(as_member, venue):
    before = writes()
    assert as_member.post(sign_url(venue), mandate_form()).status_code == 404
    assert writes() == before
    assert "This venue does not collect by direct debit." in page(as_member.get(reverse("web:my_mandates")))


def test_a_member_signs_only_for_a_venue_they_belong_to(as_member, other_venue):
    BillingProfile.objects.create(venue=other_venue, invoice_prefix="BRK", sepa_creditor_id=ICS)
    before = writes()
    assert as_member.get(sign_url(other_venue)).status_code == 404
    assert as_member.post(sign_url(other_venue), mandate_form()).status_code == 404
    assert writes() == before


def test_a_member_sees_only_their_own_mandate(as_member, other_member, collecting):
    theirs = register_mandate(
        collecting, debtor_user=other_member, debtor_name="Alix", iban=IBAN, signed_on=today()
    )
    text = page(as_member.get(reverse("web:my_mandates")))
    assert theirs.reference not in text
    assert "Sign a SEPA mandate" in text


def test_a_member_revokes_their_mandate_and_may_sign_again(as_member, member, other_member, collecting):
    mine = register_mandate(
        collecting, debtor_user=member, debtor_name="Camille", iban=IBAN, signed_on=today()
    )
    theirs = register_mandate(
        collecting, debtor_user=other_member, debtor_name="Alix", iban=IBAN, signed_on=today()
    )
    revoke_url = reverse("web:revoke_my_mandate", args=[collecting.slug])
    assert as_member.get(revoke_url).status_code == 405
    response = as_member.post(revoke_url, follow=True)
    assert mine.reference in page(response) and "Sign a SEPA mandate" in page(response)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.revoked_on) == ("revoked", today())
    assert theirs.status == "active"  # only one's own mandate
    assert as_member.post(revoke_url).status_code == 404  # nothing left to revoke


def test_the_mandate_pages_need_an_account(client, collecting):
    assert client.get(reverse("web:my_mandates")).status_code == 302
    assert client.post(sign_url(collecting), mandate_form()).status_code == 302
    assert Mandate.objects.count() == 0


def test_a_bad_iban_and_a_missing_tick_are_said_together(as_member, collecting):
    response = as_member.post(sign_url(collecting), mandate_form(iban="FR76 1234", authorise=""))
    assert response.status_code == 422
    assert {"iban", "authorise"} <= set(response.context["form"].errors)
    assert Mandate.objects.count() == 0


def test_a_member_sees_where_their_invoice_stands(as_member, bill):
    record_payment(bill, amount=D("20.00"), method="cash", received_on=today())
    response = as_member.get(reverse("web:my_invoice", args=[bill.pk]))
    assert response.context["settlement"].state == "partial"
    text = page(response)
    assert "Partly paid" in text and "Left to pay: 100.00\xa0€" in text
    assert 'id="record-payment"' not in text  # the team's form is not the member's
