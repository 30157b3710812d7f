from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from lieux.billing.models import (
    DirectDebit,
    DirectDebitBatch,
    DirectDebitStatus,
    Mandate,
    MandateStatus,
    Payment,
    PaymentMethod,
)
from lieux.billing.payment_rules import PRENOTIFICATION_DAYS, creditor_id_is_valid, sequence_type
from lieux.billing.services import sepa
from lieux.billing.services.drafts import profile_for
from lieux.billing.services.mandates import active_mandate_for, register_mandate, revoke_mandate
from lieux.billing.services.payments import Settlement, balance, record_payment
from lieux.core.errors import Conflict, NotFound, ValidationError
from lieux.core.models import AuditEvent
from lieux.core.time import now
from tests import invoice_data
from tests.factories import UserFactory, add_role, organisation

pytestmark = pytest.mark.django_db

NS = {"p": sepa.PAIN_NAMESPACE}
CREDITOR_IBAN = "FR7630006000011234567890189"
DEBTOR_IBAN = "FR1420041010050500013M02606"
OTHER_IBAN = "DE89370400440532013000"
ICS = "FR72ZZZ123456"


def today(venue) -> date:
    return now().astimezone(venue.tz).date()


@pytest.fixture
def creditor(venue):
    profile = profile_for(venue)
    profile.iban, profile.bic, profile.sepa_creditor_id = CREDITOR_IBAN, "AGRIFRPP", ICS
    profile.save()
    return profile


@pytest.fixture
def mandate(venue, member, creditor):
    return register_mandate(
        venue,
        debtor_user=member,
        debtor_name="Camille Martin",
        iban=DEBTOR_IBAN,
        signed_on=today(venue) - timedelta(days=3),
    )


def collection_day(venue) -> date:
    # Invoices fall due after the venue's 30 days of terms, and are debited on their due date at the earliest.
    return today(venue) + timedelta(days=31)


def announced_and_notified(venue, on=None, **kwargs):
    on = on or collection_day(venue)
    return sepa.announce_debits(venue, collection_on=on, **kwargs)


# Mandates


def test_a_mandate_gets_a_reference_of_the_venue_and_the_bic_of_its_bank(venue, member, creditor):
    first = register_mandate(
        venue,
        debtor_user=member,
        debtor_name=" Camille  Martin ",
        iban="fr76 3000 6000 0112 3456 7890 189",
        signed_on=today(venue),
    )
    second = register_mandate(
        venue,
        debtor_user=member,
        debtor_name="Camille",
        iban=OTHER_IBAN,
        bic="cobadeffxxx",
        signed_on=today(venue),
    )
    year = today(venue).year
    assert first.reference == f"{creditor.invoice_prefix}-{year}-000001"
    assert second.reference == f"{creditor.invoice_prefix}-{year}-000002"
    assert (first.iban, first.bic, first.debtor_name) == (CREDITOR_IBAN, "AGRIFRPPXXX", "Camille Martin")
    assert second.bic == "COBADEFFXXX"
    assert AuditEvent.objects.filter(action="billing.mandate.registered").count() == 2
    # The most recently signed active mandate is the one debited.
    assert active_mandate_for(venue, user=member) == second


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"iban": "FR7630006000011234567890188"}, "invalid_iban"),
        ({"iban": "not an iban"}, "invalid_iban"),
        ({"iban": "BR1800360305000010009795493C1"}, "iban_outside_sepa"),
        ({"bic": "AGRIFRP"}, "invalid_bic"),
        ({"signed_on": date.today() + timedelta(days=2)}, "signed_in_future"),
        ({"reference": "RUM 0001"}, "invalid_mandate_reference"),
        ({"reference": "R" * 36}, "invalid_mandate_reference"),
        ({"debtor_name": "   "}, "debtor_name_required"),
        ({"debtor_name": "x" * 71}, "debtor_name_too_long"),
        ({"debtor_user": None}, "debtor_required"),
    ],
)
def test_bad_mandates_are_refused_with_a_code_and_write_nothing(venue, member, creditor, changes, code):
    arguments = {
        "debtor_user": member,
        "debtor_name": "Camille Martin",
        "iban": DEBTOR_IBAN,
        "signed_on": today(venue),
        **changes,
    }
    with pytest.raises(ValidationError) as caught:
        register_mandate(venue, **arguments)
    assert caught.value.code == code
    assert not Mandate.objects.exists()


def test_a_mandate_of_both_a_person_and_an_organisation_is_refused(venue, member, creditor):
    with pytest.raises(ValidationError) as caught:
        register_mandate(
            venue,
            debtor_user=member,
            debtor_organisation=organisation("Coop", member),
            debtor_name="Coop",
            iban=DEBTOR_IBAN,
            signed_on=today(venue),
        )
    assert caught.value.code == "debtor_required"


def test_a_reference_is_unique_per_venue_only(venue, other_venue, member, creditor):
    given_reference = {"reference": "ADH-42", "debtor_user": member, "debtor_name": "C", "iban": DEBTOR_IBAN}
    register_mandate(venue, signed_on=today(venue), **given_reference)
    with pytest.raises(Conflict) as caught:
        register_mandate(venue, signed_on=today(venue), **given_reference)
    assert caught.value.code == "mandate_reference_taken"
    register_mandate(other_venue, signed_on=today(venue), **given_reference)
    assert Mandate.objects.filter(reference="ADH-42").count() == 2


def test_a_mandate_unused_for_36_months_has_lapsed(venue, member, creditor):
    register_mandate(
        venue,
        debtor_user=member,
        debtor_name="C",
        iban=DEBTOR_IBAN,
        signed_on=today(venue) - timedelta(days=37 * 30),
    )
    assert active_mandate_for(venue, user=member) is None


# Creditor identifier and sequence types


def test_creditor_identifiers_are_checked_by_their_check_digits():
    assert creditor_id_is_valid("FR72ZZZ123456")
    assert creditor_id_is_valid("DE98ZZZ09999999999")
    assert creditor_id_is_valid("fr72 zzz 123456")
    assert not creditor_id_is_valid("FR11ZZZ123456")
    assert not creditor_id_is_valid("FR72ZZZ")


@given(st.from_regex(r"[A-Z0-9]{3}", fullmatch=True), st.from_regex(r"[0-9]{6}", fullmatch=True))
def test_the_business_code_does_not_change_the_check_digits(business, national):
    # Banks let a creditor change its business code (ZZZ) without a new identifier.
    valid = [
        f"FR{d:02d}{business}{national}"
        for d in range(100)
        if creditor_id_is_valid(f"FR{d:02d}ZZZ{national}")
    ]
    assert len(valid) == 1 and creditor_id_is_valid(valid[0])


def test_sequence_type_is_first_then_recurring():
    assert sequence_type(mandate_used=False) == "FRST"
    assert sequence_type(mandate_used=True) == "RCUR"


# Announcing


def test_debits_are_announced_at_least_the_notice_ahead(venue, mandate, member):
    invoice_data.invoice(venue, buyer=member)
    too_soon = today(venue) + timedelta(days=PRENOTIFICATION_DAYS - 1)
    with pytest.raises(ValidationError) as caught:
        sepa.announce_debits(venue, collection_on=too_soon)
    assert caught.value.code == "collection_too_soon"
    assert not DirectDebit.objects.exists()


def test_a_venue_without_creditor_details_announces_nothing(venue, member):
    invoice_data.invoice(venue, buyer=member)
    with pytest.raises(ValidationError) as caught:
        sepa.announce_debits(venue, collection_on=collection_day(venue))
    assert caught.value.code == "creditor_not_configured"


def test_announcing_creates_one_debit_per_unpaid_invoice_and_notifies_the_debtor(
    venue, mandate, member, other_member, django_capture_on_commit_callbacks
):
    first = invoice_data.invoice(venue, buyer=member)  # 120.00
    partly = invoice_data.invoice(venue, buyer=member, amount="50.00")  # 60.00
    record_payment(partly, amount=Decimal("20.00"), method="cheque", received_on=today(venue))
    paid = invoice_data.invoice(venue, buyer=member, amount="10.00")
    record_payment(paid, amount=Decimal("12.00"), method="cash", received_on=today(venue))
    invoice_data.invoice(venue, buyer=other_member)  # no mandate: not debited
    on = collection_day(venue)
    with django_capture_on_commit_callbacks(execute=True):
        debits = sepa.announce_debits(venue, collection_on=on)
    assert sorted((d.invoice_id, d.amount) for d in debits) == [
        (first.pk, Decimal("120.00")),
        (partly.pk, Decimal("40.00")),
    ]
    assert {d.sequence_type for d in debits} == {"FRST"}
    assert len(mail.outbox) == 2
    notice = next(m for m in mail.outbox if first.number in m.body)
    assert notice.to == [member.email]
    for fact in ("120,00", f"{on:%d/%m/%Y}", mandate.reference, ICS):
        assert fact in notice.body
    assert DirectDebit.objects.filter(prenotified_at__isnull=True).count() == 0

    # Run again: no second debit, no second notice.
    with django_capture_on_commit_callbacks(execute=True):
        assert sepa.announce_debits(venue, collection_on=on) == []
    assert len(mail.outbox) == 2


def test_a_notice_that_failed_is_sent_by_the_next_run(
    venue, mandate, member, django_capture_on_commit_callbacks, monkeypatch
):
    invoice_data.invoice(venue, buyer=member)

    def broken(self, *args, **kwargs):
        raise OSError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", broken)
        with django_capture_on_commit_callbacks(execute=True):
            announced_and_notified(venue)
    assert DirectDebit.objects.get().prenotified_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert announced_and_notified(venue) == []
    assert len(mail.outbox) == 1
    assert DirectDebit.objects.get().prenotified_at is not None


# The batch file


def parse(batch: DirectDebitBatch):
    return etree.fromstring(batch.xml.encode())


def test_the_batch_is_a_valid_pain008_with_totals_and_frst_then_rcur(
    venue, mandate, member, other_member, django_capture_on_commit_callbacks
):
    register_mandate(
        venue, debtor_user=other_member, debtor_name="Alix Durand", iban=OTHER_IBAN, signed_on=today(venue)
    )
    invoice_data.invoice(venue, buyer=member, amount="100.00")  # 120.00
    invoice_data.invoice(venue, buyer=other_member, amount="12.34")  # 14.81
    on = collection_day(venue)
    with django_capture_on_commit_callbacks(execute=True):
        announced_and_notified(venue, on)
    batch = sepa.prepare_batch(venue, collection_on=on)

    sepa.validate_pain008(batch.xml.encode())  # the stored file is the validated one
    import hashlib

    assert batch.sha256 == hashlib.sha256(batch.xml.encode()).hexdigest()
    tree = parse(batch)
    assert tree.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=NS) == batch.message_id
    assert tree.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert tree.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "134.81"
    assert tree.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == ICS
    assert {e.text for e in tree.iterfind(".//p:SeqTp", namespaces=NS)} == {"FRST"}
    assert tree.findtext(".//p:ReqdColltnDt", namespaces=NS) == on.isoformat()
    assert mandate.reference in {e.text for e in tree.iterfind(".//p:MndtId", namespaces=NS)}
    assert set(DirectDebit.objects.values_list("status", flat=True)) == {DirectDebitStatus.SUBMITTED}

    sepa.mark_collected(batch, on=on)
    assert Mandate.objects.get(pk=mandate.pk).first_collected_on == on

    # The next debit of the same mandates is recurring.
    invoice_data.invoice(venue, buyer=member, amount="10.00")
    later = on + timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True):
        announced_and_notified(venue, later)
    second = sepa.prepare_batch(venue, collection_on=later)
    assert [e.text for e in parse(second).iterfind(".//p:SeqTp", namespaces=NS)] == ["RCUR"]
    assert second.message_id != batch.message_id
    sepa.validate_pain008(second.xml.encode())


def test_a_broken_file_does_not_pass_the_schema(venue, mandate, member, django_capture_on_commit_callbacks):
    invoice_data.invoice(venue, buyer=member)
    with django_capture_on_commit_callbacks(execute=True):
        announced_and_notified(venue)
    batch = sepa.prepare_batch(venue, collection_on=collection_day(venue))
    broken = batch.xml.replace("<SeqTp>FRST</SeqTp>", "<SeqTp>NEXT</SeqTp>").encode()
    import xmlschema

    with pytest.raises(xmlschema.XMLSchemaValidationError):
        sepa.validate_pain008(broken)


def test_preparing_again_returns_the_same_batch(venue, mandate, member, django_capture_on_commit_callbacks):
    invoice_data.invoice(venue, buyer=member)
    on = collection_day(venue)
    with pytest.raises(ValidationError) as caught:
        sepa.prepare_batch(venue, collection_on=on)
    assert caught.value.code == "nothing_to_collect"
    with django_capture_on_commit_callbacks(execute=True):
        announced_and_notified(venue, on)
    batch = sepa.prepare_batch(venue, collection_on=on)
    assert sepa.prepare_batch(venue, collection_on=on) == batch
    assert DirectDebitBatch.objects.count() == 1


def test_a_debit_no_longer_wholly_owed_is_withdrawn_not_collected(
    venue, mandate, member, django_capture_on_commit_callbacks
):
    invoice = invoice_data.invoice(venue, buyer=member)
    on = collection_day(venue)
    with django_capture_on_commit_callbacks(execute=True):
        announced_and_notified(venue, on)
    record_payment(invoice, amount=Decimal("50.00"), method="transfer", received_on=today(venue))
    with pytest.raises(ValidationError):
        sepa.prepare_batch(venue, collection_on=on)
    assert not DirectDebit.objects.exists()
    assert AuditEvent.objects.filter(action="billing.debit.withdrawn").count() == 1


def test_an_unnotified_debit_is_not_sent_to_the_bank(venue, mandate, member):
    invoice_data.invoice(venue, buyer=member)
    announced_and_notified(venue)  # the notice would go after commit, which never comes here
    with pytest.raises(ValidationError):
        sepa.prepare_batch(venue, collection_on=collection_day(venue))
    assert DirectDebit.objects.get().status == DirectDebitStatus.ANNOUNCED


# Collection and returns


@pytest.fixture
def submitted(venue, mandate, member, django_capture_on_commit_callbacks):
    invoice = invoice_data.invoice(venue, buyer=member)
    with django_capture_on_commit_callbacks(execute=True):
        announced_and_notified(venue)
    batch = sepa.prepare_batch(venue, collection_on=collection_day(venue))
    return invoice, batch, batch.debits.get()


def test_collection_records_one_payment_per_debit_once(submitted):
    invoice, batch, debit = submitted
    on = debit.collection_on
    payments = sepa.mark_collected(batch, on=on)
    assert [(p.method, p.amount, p.external_id) for p in payments] == [
        (PaymentMethod.SEPA_DEBIT, Decimal("120.00"), debit.end_to_end_id)
    ]
    sepa.mark_collected(batch, on=on)
    assert Payment.objects.count() == 1
    assert balance(invoice).state == Settlement.PAID
    assert DirectDebit.objects.get(pk=debit.pk).status == DirectDebitStatus.COLLECTED


def test_a_return_reverses_the_payment_and_the_invoice_is_due_again(submitted, member):
    invoice, batch, debit = submitted
    sepa.mark_collected(batch, on=debit.collection_on)
    returned_on = debit.collection_on + timedelta(days=3)
    returned = sepa.record_return(debit, reason_code="am04", returned_on=returned_on)
    assert (returned.status, returned.return_reason, returned.returned_on) == (
        DirectDebitStatus.RETURNED,
        "AM04",
        returned_on,
    )
    reversal = Payment.objects.get(amount__lt=0)
    assert reversal.amount == Decimal("-120.00") and reversal.reason.startswith("AM04 Insufficient funds")
    assert balance(invoice).due == Decimal("120.00")
    # Again with the same code: nothing more.
    sepa.record_return(debit, reason_code="AM04", returned_on=returned_on)
    assert Payment.objects.filter(amount__lt=0).count() == 1
    with pytest.raises(Conflict):
        sepa.record_return(debit, reason_code="MS02", returned_on=returned_on)
    # Insufficient funds leave the mandate in force: the invoice can be debited again.
    assert Mandate.objects.get(pk=debit.mandate_id).status == MandateStatus.ACTIVE
    assert len(announced_and_notified(invoice.venue, debit.collection_on + timedelta(days=30))) == 1


def test_a_closed_account_revokes_the_mandate(submitted):
    _invoice, batch, debit = submitted
    sepa.mark_collected(batch, on=debit.collection_on)
    sepa.record_return(debit, reason_code="AC04", returned_on=debit.collection_on)
    assert Mandate.objects.get(pk=debit.mandate_id).status == MandateStatus.REVOKED


def test_a_reject_before_settlement_returns_without_a_payment(submitted):
    invoice, _batch, debit = submitted
    sepa.record_return(debit, reason_code="MD01", returned_on=debit.collection_on)
    assert not Payment.objects.exists()
    assert DirectDebit.objects.get(pk=debit.pk).status == DirectDebitStatus.RETURNED
    assert balance(invoice).due == Decimal("120.00")


def test_unknown_reason_codes_and_unsent_debits_are_refused(venue, mandate, member, submitted):
    _invoice, _batch, debit = submitted
    with pytest.raises(ValidationError) as caught:
        sepa.record_return(debit, reason_code="XX99", returned_on=debit.collection_on)
    assert caught.value.code == "unknown_reason_code"
    invoice_data.invoice(venue, buyer=member)
    announced = announced_and_notified(venue)[0]
    with pytest.raises(Conflict) as refused:
        sepa.record_return(announced, reason_code="AM04", returned_on=debit.collection_on)
    assert refused.value.code == "not_submitted"
    with pytest.raises(NotFound):
        sepa.debit_by_end_to_end_id("DD-0-0-0")


def test_revoking_withdraws_the_debits_not_yet_at_the_bank(venue, mandate, member):
    invoice_data.invoice(venue, buyer=member)
    announced_and_notified(venue)
    revoked = revoke_mandate(mandate, on=today(venue))
    assert (revoked.status, revoked.revoked_on) == (MandateStatus.REVOKED, today(venue))
    assert not DirectDebit.objects.exists()
    assert revoke_mandate(mandate, on=today(venue) + timedelta(days=1)).revoked_on == today(venue)
    assert active_mandate_for(venue, user=member) is None


def test_an_organisation_is_debited_on_its_own_mandate(
    venue, member, creditor, django_capture_on_commit_callbacks
):
    coop = organisation("Coop des Lieux", member)
    register_mandate(
        venue, debtor_organisation=coop, debtor_name="Coop des Lieux", iban=OTHER_IBAN, signed_on=today(venue)
    )
    invoice_data.invoice(venue, organisation=coop)
    invoice_data.invoice(venue, buyer=member)  # the member signed nothing for themselves
    with django_capture_on_commit_callbacks(execute=True):
        debits = announced_and_notified(venue)
    assert [d.invoice.buyer_organisation_id for d in debits] == [coop.pk]


def test_a_manager_of_another_venue_has_no_mandate_here(venue, other_venue, creditor):
    outsider = UserFactory(email="x@example.org")
    add_role(outsider, other_venue)
    assert active_mandate_for(venue, user=outsider) is None


def test_a_debit_left_past_its_date_is_withdrawn_by_the_next_announce(
    venue, mandate, member, django_capture_on_commit_callbacks, monkeypatch
):
    invoice_data.invoice(venue, buyer=member)
    on = collection_day(venue)
    with django_capture_on_commit_callbacks(execute=True):
        stale = announced_and_notified(venue, on)[0]
    later = now() + timedelta(days=40)
    monkeypatch.setattr("lieux.billing.services.sepa.local_today", lambda v: later.astimezone(v.tz).date())
    with pytest.raises(ValidationError) as caught:
        sepa.prepare_batch(venue, collection_on=on)
    assert caught.value.code == "collection_date_passed"
    with django_capture_on_commit_callbacks(execute=True):
        fresh = sepa.announce_debits(venue, collection_on=on + timedelta(days=30))
    assert [d.invoice_id for d in fresh] == [stale.invoice_id]
    assert not DirectDebit.objects.filter(pk=stale.pk).exists()
    assert AuditEvent.objects.filter(action="billing.debit.withdrawn").count() == 1


def test_a_notice_sent_too_late_does_not_let_the_debit_go(
    venue, mandate, member, django_capture_on_commit_callbacks, monkeypatch
):
    invoice_data.invoice(venue, buyer=member)
    on = collection_day(venue)
    announced_and_notified(venue, on)  # notice not sent (no commit here)
    too_late = sepa.notice_deadline(venue, on) + timedelta(minutes=1)
    monkeypatch.setattr("lieux.billing.services.sepa.now", lambda: too_late)
    assert sepa.send_prenotifications(list(DirectDebit.objects.values_list("pk", flat=True))) == 0
    assert not mail.outbox
    # Notified in time: counted; at the deadline's edge: not.
    DirectDebit.objects.update(prenotified_at=too_late)
    with pytest.raises(ValidationError):
        sepa.prepare_batch(venue, collection_on=on)
    DirectDebit.objects.update(prenotified_at=sepa.notice_deadline(venue, on) - timedelta(minutes=1))
    assert sepa.prepare_batch(venue, collection_on=on).debits.count() == 1
