"""SEPA Core direct debits, from the notice to the debtor to the money on the account (or back off it).

    announce_debits  one debit per unpaid invoice of a debtor with a mandate, pre-notified by e-mail
    prepare_batch    the pain.008.001.02 file for the bank, checked against its XSD, debits submitted
    mark_collected   the bank paid: one payment per debit, keyed by its end-to-end id
    record_return    the bank sent a debit back (R-transaction): reason kept, payment reversed

Each step can be run again after a crash or a timeout: it finds what it did and does the rest.
"""

import hashlib
import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib.resources import files
from typing import Any

import xmlschema
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _
from lxml import etree
from sepaxml import SepaDD

from lieux.billing.models import (
    BillingProfile,
    DirectDebit,
    DirectDebitBatch,
    DirectDebitStatus,
    Invoice,
    Mandate,
    MandateStatus,
    Payment,
    PaymentMethod,
)
from lieux.billing.overdue import unpaid_invoices
from lieux.billing.payment_rules import (
    MANDATE_ENDING_REASONS,
    PRENOTIFICATION_DAYS,
    RETURN_REASONS,
    creditor_id_is_valid,
    sequence_type,
)
from lieux.billing.services.delivery import recipient_of
from lieux.billing.services.mandates import (
    active_mandate_for,
    checked_bic,
    checked_iban,
    local_today,
    revoke_mandate,
)
from lieux.billing.services.payments import balance, record_payment, reverse_payment
from lieux.core import audit
from lieux.core.errors import Conflict, NotFound, ValidationError
from lieux.core.money import ZERO, to_minor_units
from lieux.core.time import day_bounds, now
from lieux.venues.models import Venue

log = logging.getLogger("lieux.billing.sepa")

SCHEMA = "pain.008.001.02"
PAIN_NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
LIVE = (DirectDebitStatus.ANNOUNCED, DirectDebitStatus.SUBMITTED)


def _creditor(venue: Venue) -> BillingProfile:
    """The venue's creditor details, refused when a bank would refuse them."""
    profile = BillingProfile.objects.filter(venue=venue).first()
    if profile is None or not (profile.iban and profile.sepa_creditor_id):
        raise ValidationError(
            _("%(venue)s has no IBAN or SEPA creditor identifier (ICS) in its billing profile.")
            % {"venue": venue.name},
            code="creditor_not_configured",
        )
    if not creditor_id_is_valid(profile.sepa_creditor_id):
        raise ValidationError(
            _("The SEPA creditor identifier %(ics)s of %(venue)s is not valid.")
            % {"ics": profile.sepa_creditor_id, "venue": venue.name},
            code="invalid_creditor_id",
        )
    return profile


def _mandate_for(invoice: Invoice) -> Mandate | None:
    if invoice.buyer_organisation_id:
        return active_mandate_for(invoice.venue, organisation=invoice.buyer_organisation)
    return active_mandate_for(invoice.venue, user=invoice.buyer_user)


def _mandate_used(mandate: Mandate) -> bool:
    """A mandate is used once a debit of it went to the bank and was not rejected."""
    return (
        mandate.first_collected_on is not None
        or mandate.debits.filter(
            status__in=[DirectDebitStatus.SUBMITTED, DirectDebitStatus.COLLECTED]
        ).exists()
    )


# Announcing


def announce_debits(venue: Venue, *, collection_on: date, actor: Any = None) -> list[DirectDebit]:
    """Plan a debit on `collection_on` for each unpaid invoice of the venue whose buyer has an active
    mandate and no debit under way, and e-mail each debtor the amount, date, mandate reference and
    creditor identifier. Returns the debits created by this call; run again, it creates none but sends
    the notices a failed mail server left unsent."""
    _creditor(venue)
    earliest = local_today(venue) + timedelta(days=PRENOTIFICATION_DAYS)
    if collection_on < earliest:
        raise ValidationError(
            _("Debtors must be told %(days)s days ahead: the earliest collection date is %(date)s.")
            % {"days": PRENOTIFICATION_DAYS, "date": earliest},
            code="collection_too_soon",
        )
    # A debit whose date passed without a batch never reached the bank: withdrawn, its invoice is free.
    for stale in DirectDebit.objects.filter(
        venue=venue, status=DirectDebitStatus.ANNOUNCED, collection_on__lte=local_today(venue)
    ).select_related("invoice"):
        with transaction.atomic():
            _withdraw(stale, actor)
    created: list[DirectDebit] = []
    busy = DirectDebit.objects.filter(status__in=LIVE).values("invoice_id")
    # Debited on its due date at the earliest: the mandate does not make the invoice payable sooner.
    for invoice in unpaid_invoices(venue).exclude(pk__in=busy).filter(due_on__lte=collection_on):
        mandate = _mandate_for(invoice)
        due = balance(invoice).due
        if mandate is None or due <= ZERO:
            continue
        debit = _announce_one(invoice, mandate, due, collection_on, actor)
        if debit is not None:
            created.append(debit)
    pending = list(
        DirectDebit.objects.filter(
            venue=venue, status=DirectDebitStatus.ANNOUNCED, prenotified_at__isnull=True
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: send_prenotifications(pending))
    return created


def _announce_one(
    invoice: Invoice, mandate: Mandate, amount: Decimal, collection_on: date, actor: Any
) -> DirectDebit | None:
    attempt = invoice.direct_debits.count() + 1
    try:
        with transaction.atomic():
            debit = DirectDebit.objects.create(
                venue_id=invoice.venue_id,
                invoice=invoice,
                mandate=mandate,
                amount=amount,
                collection_on=collection_on,
                # Unique across the installation, ≤ 35 characters, and read on the debtor's statement. Only
                # a debit withdrawn before reaching the bank leaves its number free for the next one.
                end_to_end_id=f"DD-{invoice.venue_id}-{invoice.pk}-{attempt}",
                sequence_type=sequence_type(mandate_used=_mandate_used(mandate)),
            )
            audit.record(
                "billing.debit.announced",
                debit,
                actor=actor,
                venue_id=invoice.venue_id,
                invoice=invoice.number,
                amount=str(amount),
                collection_on=collection_on.isoformat(),
                mandate=mandate.reference,
            )
            return debit
    except IntegrityError:
        if DirectDebit.objects.filter(invoice=invoice, status__in=LIVE).exists():
            return None  # announced meanwhile by a concurrent run: one live debit per invoice
        raise


def send_prenotifications(debit_ids: list[int]) -> int:
    """E-mail the notice of each debit not yet notified. The debit is claimed before sending (a
    conditional UPDATE), so two runs never send one notice twice; a failed send releases it."""
    sent = 0
    for debit in DirectDebit.objects.filter(pk__in=debit_ids, prenotified_at__isnull=True).select_related(
        "invoice", "invoice__buyer_user", "invoice__venue", "mandate", "venue"
    ):
        recipient = recipient_of(debit.invoice)
        if now() >= notice_deadline(debit.venue, debit.collection_on):
            # Too late to give notice for that date: the debit is withdrawn at the next announce.
            continue
        if not recipient:
            log.warning("debit %s: the buyer has no e-mail address, no notice sent", debit.end_to_end_id)
            continue
        claimed_at = now()
        if not DirectDebit.objects.filter(pk=debit.pk, prenotified_at__isnull=True).update(
            prenotified_at=claimed_at
        ):
            continue
        try:
            _prenotification(debit, recipient).send()
        except Exception:
            DirectDebit.objects.filter(pk=debit.pk, prenotified_at=claimed_at).update(prenotified_at=None)
            log.exception("notice of debit %s not sent; the next announce retries it", debit.end_to_end_id)
            continue
        sent += 1
    return sent


def _prenotification(debit: DirectDebit, recipient: str) -> EmailMessage:
    invoice = debit.invoice
    profile = BillingProfile.objects.get(venue_id=debit.venue_id)
    creditor = invoice.seller.get("name") or invoice.venue.name
    with translation.override("fr"):
        context = {
            "creditor": creditor,
            "number": invoice.number,
            "amount": f"{debit.amount:.2f}".replace(".", ","),
            "date": f"{debit.collection_on:%d/%m/%Y}",
            "reference": debit.mandate.reference,
            "ics": profile.sepa_creditor_id,
            "account": f"{debit.mandate.iban[:4]}…{debit.mandate.iban[-4:]}",
        }
        subject = _("Direct debit of %(amount)s € on %(date)s — %(creditor)s") % context
        body = (
            _(
                "Hello,\n\n%(creditor)s will debit %(amount)s € from your account %(account)s on or shortly "
                "after %(date)s, to pay invoice %(number)s.\n\nMandate reference (RUM): %(reference)s\n"
                "Creditor identifier (ICS): %(ics)s\n\nNothing to do if the amount is right; otherwise "
                "reply to this e-mail before that date.\n\n%(creditor)s"
            )
            % context
        )
    venue_email = invoice.seller.get("email") or ""
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        reply_to=[venue_email] if venue_email else None,
    )


# The file for the bank


def _message_id(venue: Venue, profile: BillingProfile, collection_on: date) -> str:
    stem = f"{profile.invoice_prefix}-DD-{collection_on:%Y%m%d}-"
    taken = DirectDebitBatch.objects.filter(message_id__startswith=stem).count()
    return f"{stem}{taken + 1}"


def notice_deadline(venue: Venue, collection_on: date) -> datetime:
    """The instant by which the debtor must have been told of a debit on `collection_on`: the end of the
    venue's day PRENOTIFICATION_DAYS before it."""
    return day_bounds(collection_on - timedelta(days=PRENOTIFICATION_DAYS), venue.tz)[1]


def validate_pain008(xml: bytes) -> None:
    """Check a pain.008.001.02 document against the XSD shipped with sepaxml; raises when it breaks it."""
    schema = xmlschema.XMLSchema(str(files("sepaxml") / "schemas" / f"{SCHEMA}.xsd"))
    schema.validate(xml.decode("utf-8"))


def prepare_batch(venue: Venue, *, collection_on: date, actor: Any = None) -> DirectDebitBatch:
    """Write the pain.008 file of the debits announced for `collection_on` and mark them submitted. A debit
    whose invoice was meanwhile paid, credited or partly paid by other means is withdrawn rather than
    debited for more than is owed. Run again after success, it returns the same batch."""
    profile = _creditor(venue)
    creditor_iban = checked_iban(profile.iban)
    creditor_bic = checked_bic(profile.bic, creditor_iban)
    if not creditor_bic:
        raise ValidationError(
            _("Give the BIC of %(venue)s in its billing profile: pain.008.001.02 requires it.")
            % {"venue": venue.name},
            code="creditor_not_configured",
        )
    with transaction.atomic():
        # The billing profile row is the venue's lock: two batch runs for one venue go one at a time.
        BillingProfile.objects.select_for_update().get(pk=profile.pk)
        debits = list(
            DirectDebit.objects.select_for_update()
            .filter(
                venue=venue,
                collection_on=collection_on,
                status=DirectDebitStatus.ANNOUNCED,
                # Told in time only: a notice sent late (a mail server down for days) does not count.
                prenotified_at__lt=notice_deadline(venue, collection_on),
            )
            .select_related("invoice", "mandate")
            .order_by("pk")
        )
        kept = [debit for debit in debits if _still_collectable(debit, actor)]
        if kept and collection_on <= local_today(venue):
            raise ValidationError(
                _("The collection date %(date)s has passed: announce the debits again for a later date.")
                % {"date": collection_on},
                code="collection_date_passed",
            )
        if kept:
            batch = _submit(venue, profile, creditor_iban.compact, creditor_bic, kept, collection_on, actor)
    # Withdrawn debits stay withdrawn even when nothing is left to collect.
    if kept:
        return batch
    earlier = (
        DirectDebitBatch.objects.filter(venue=venue, collection_on=collection_on).order_by("-pk").first()
    )
    if earlier is not None:
        return earlier
    raise ValidationError(
        _("Nothing to collect on %(date)s: no notified debit is waiting for that date.")
        % {"date": collection_on},
        code="nothing_to_collect",
    )


def _submit(
    venue: Venue,
    profile: BillingProfile,
    iban: str,
    bic: str,
    kept: list[DirectDebit],
    collection_on: date,
    actor: Any,
) -> DirectDebitBatch:
    used = {debit.mandate_id: _mandate_used(debit.mandate) for debit in kept}
    for debit in kept:
        debit.sequence_type = sequence_type(mandate_used=used[debit.mandate_id])
    message_id = _message_id(venue, profile, collection_on)
    xml = _pain008(venue, profile, iban, bic, kept, message_id)
    batch = DirectDebitBatch.objects.create(
        venue=venue,
        message_id=message_id,
        collection_on=collection_on,
        xml=xml.decode("utf-8"),
        sha256=hashlib.sha256(xml).hexdigest(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    for debit in kept:
        debit.batch = batch
        debit.status = DirectDebitStatus.SUBMITTED
        debit.save(update_fields=["batch", "status", "sequence_type"])
    audit.record(
        "billing.debit_batch.prepared",
        batch,
        actor=actor,
        venue_id=venue.pk,
        message_id=message_id,
        count=len(kept),
        total=str(sum((debit.amount for debit in kept), ZERO)),
        sha256=batch.sha256,
    )
    return batch


def _still_collectable(debit: DirectDebit, actor: Any) -> bool:
    """The notified amount is still wholly owed, by a mandate still in force; otherwise the debit is
    withdrawn (the debtor was told an amount: a different one needs a new notice)."""
    if debit.mandate.status == MandateStatus.ACTIVE and balance(debit.invoice).due >= debit.amount:
        return True
    _withdraw(debit, actor)
    return False


def _withdraw(debit: DirectDebit, actor: Any) -> None:
    audit.record(
        "billing.debit.withdrawn",
        debit,
        actor=actor,
        venue_id=debit.venue_id,
        end_to_end_id=debit.end_to_end_id,
        invoice=debit.invoice.number,
    )
    debit.delete()


def _pain008(
    venue: Venue,
    profile: BillingProfile,
    iban: str,
    bic: str,
    debits: list[DirectDebit],
    message_id: str,
) -> bytes:
    document = SepaDD(
        {
            "name": venue.legal_name or venue.name,
            "IBAN": iban,
            "BIC": bic,
            "batch": True,
            "creditor_id": profile.sepa_creditor_id.replace(" ", "").upper(),
            "currency": "EUR",
        },
        schema=SCHEMA,
        clean=True,
    )
    for debit in debits:
        payment: dict[str, Any] = {
            "name": debit.mandate.debtor_name,
            "IBAN": debit.mandate.iban,
            "amount": to_minor_units(debit.amount),
            "type": debit.sequence_type,
            "collection_date": debit.collection_on,
            "mandate_id": debit.mandate.reference,
            "mandate_date": debit.mandate.signed_on,
            "description": _("Invoice %(number)s") % {"number": debit.invoice.number},
            "endtoend_id": debit.end_to_end_id,
        }
        if debit.mandate.bic:
            payment["BIC"] = debit.mandate.bic
        document.add_payment(payment)
    tree = etree.fromstring(document.export(validate=False))
    # The file's message id is ours, so that the bank's reports name a batch we can find.
    tree.find(
        f"{{{PAIN_NAMESPACE}}}CstmrDrctDbtInitn/{{{PAIN_NAMESPACE}}}GrpHdr/{{{PAIN_NAMESPACE}}}MsgId"
    ).text = message_id
    xml = etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    try:
        validate_pain008(xml)
    except xmlschema.XMLSchemaValidationError as error:
        raise ValidationError(
            _("The SEPA file would break the pain.008 schema: %(reason)s") % {"reason": error.reason},
            code="sepa_file_invalid",
        ) from None
    return xml


# After the collection date


def mark_collected(batch: DirectDebitBatch, *, on: date, actor: Any = None) -> list[Payment]:
    """The bank credited the batch: record one payment per debit (method sepa_debit, keyed by its
    end-to-end id) and note the mandates' first collection. Debits returned before settlement are left
    out; run again, it records nothing twice."""
    payments: list[Payment] = []
    with transaction.atomic():
        for debit in (
            DirectDebit.objects.select_for_update()
            .filter(batch=batch, status__in=[DirectDebitStatus.SUBMITTED, DirectDebitStatus.COLLECTED])
            .select_related("invoice", "mandate")
            .order_by("pk")
        ):
            payments.append(
                record_payment(
                    debit.invoice,
                    amount=debit.amount,
                    method=PaymentMethod.SEPA_DEBIT,
                    received_on=on,
                    reference=debit.mandate.reference,
                    external_id=debit.end_to_end_id,
                    recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
            )
            if debit.status != DirectDebitStatus.COLLECTED:
                debit.status = DirectDebitStatus.COLLECTED
                debit.save(update_fields=["status"])
            Mandate.objects.filter(pk=debit.mandate_id, first_collected_on__isnull=True).update(
                first_collected_on=debit.collection_on
            )
    return payments


def record_return(
    debit: DirectDebit, *, reason_code: str, returned_on: date, actor: Any = None
) -> DirectDebit:
    """The bank sent the debit back (reject, return or refund) with an ISO reason code: the debit is
    returned, the payment it brought is reversed (so the invoice is due again), and a mandate that cannot
    be debited again (closed account, no mandate, deceased debtor) is revoked. Run again with the same
    code, it changes nothing."""
    code = reason_code.strip().upper()
    if code not in RETURN_REASONS:
        raise ValidationError(
            _("Unknown SEPA reason code %(code)r (e.g. AM04, MD01, AC04).") % {"code": reason_code},
            code="unknown_reason_code",
        )
    label = str(RETURN_REASONS[code])
    with transaction.atomic():
        current = DirectDebit.objects.select_for_update().select_related("mandate").get(pk=debit.pk)
        if current.status == DirectDebitStatus.RETURNED:
            if current.return_reason != code:
                raise Conflict(
                    _("This debit was already returned with the code %(code)s.")
                    % {"code": current.return_reason},
                    code="already_returned",
                )
            return current
        if current.status == DirectDebitStatus.ANNOUNCED:
            raise Conflict(
                _("This debit was never sent to the bank: it cannot come back."), code="not_submitted"
            )
        payment = Payment.objects.filter(
            method=PaymentMethod.SEPA_DEBIT, external_id=current.end_to_end_id
        ).first()
        if payment is not None:
            reverse_payment(
                payment,
                reason=f"{code} {label}",
                on=returned_on,
                external_id=f"{current.end_to_end_id}/{code}",
                recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
        current.status = DirectDebitStatus.RETURNED
        current.return_reason = code
        current.returned_on = returned_on
        current.save(update_fields=["status", "return_reason", "returned_on"])
        audit.record(
            "billing.debit.returned",
            current,
            actor=actor,
            venue_id=current.venue_id,
            end_to_end_id=current.end_to_end_id,
            reason=code,
            reversed=payment is not None,
        )
        if code in MANDATE_ENDING_REASONS:
            revoke_mandate(current.mandate, on=returned_on, actor=actor)
    return current


def debit_by_end_to_end_id(end_to_end_id: str, venue: Venue | None = None) -> DirectDebit:
    debits = DirectDebit.objects.filter(end_to_end_id=end_to_end_id)
    if venue is not None:
        debits = debits.filter(venue=venue)
    debit = debits.first()
    if debit is None:
        raise NotFound(_("No direct debit %(id)s.") % {"id": end_to_end_id}, code="unknown_debit")
    return debit


def batch_summary(batch: DirectDebitBatch) -> dict[str, Any]:
    """Count and total of a batch, by sequence type: what the treasurer checks against the bank's
    acknowledgement."""
    rows = batch.debits.values("sequence_type").annotate(count=Count("pk")).order_by("sequence_type")
    totals = {row["sequence_type"]: row["count"] for row in rows}
    return {
        "message_id": batch.message_id,
        "count": sum(totals.values()),
        "total": sum((debit.amount for debit in batch.debits.all()), ZERO),
        "by_sequence_type": totals,
    }
