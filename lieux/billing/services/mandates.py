"""SEPA Core mandates: registering a signed mandate, revoking it, and finding the one to debit.

The account details are checked when the mandate is registered (IBAN checksum and structure, SEPA zone,
BIC format), so a batch file never fails at the bank on a typo. The mandate reference (RUM) is the
creditor's: unique per venue, at most 35 characters of the SEPA set, and never derived from the IBAN or an
identity number; one is generated when none is given.
"""

import re
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from lieux.accounts.models import Organisation, User
from lieux.billing.models import DirectDebit, DirectDebitStatus, Mandate, MandateStatus
from lieux.billing.services.drafts import profile_for
from lieux.core import audit
from lieux.core.errors import Conflict, ValidationError
from lieux.core.time import now
from lieux.venues.models import Venue

# The characters the SEPA rulebook allows in a mandate reference, spaces left out: some banks refuse them.
REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9/?:().,'+-]{1,35}")
# A mandate lapses when it has not been used for 36 months (SEPA Core rulebook).
LAPSES_AFTER = timedelta(days=36 * 30 + 15)
GENERATED_DIGITS = 6


def local_today(venue: Venue) -> date:
    return now().astimezone(venue.tz).date()


def checked_iban(value: str) -> IBAN:
    try:
        iban = IBAN(value)
    except SchwiftyException:
        raise ValidationError(
            _("%(iban)r is not a valid IBAN.") % {"iban": value}, code="invalid_iban", field="iban"
        ) from None
    if not iban.in_sepa_zone:
        raise ValidationError(
            _("The account %(iban)s is outside the SEPA zone: it cannot be debited.")
            % {"iban": iban.compact},
            code="iban_outside_sepa",
            field="iban",
        )
    return iban


def checked_bic(value: str, iban: IBAN) -> str:
    """The BIC as given, checked; or the one the IBAN's bank code gives; or "" (optional within SEPA)."""
    if value.strip():
        try:
            return str(BIC(value).compact)
        except SchwiftyException:
            raise ValidationError(
                _("%(bic)r is not a valid BIC.") % {"bic": value}, code="invalid_bic", field="bic"
            ) from None
    try:
        derived = iban.bic
    except SchwiftyException:
        derived = None
    return str(derived.compact) if derived else ""


def mask_iban(iban: str) -> str:
    """Enough to recognise an account in a log or an e-mail, not enough to reuse it."""
    return f"{iban[:4]}…{iban[-4:]}" if len(iban) > 8 else "…"


def _next_reference(venue: Venue, year: int) -> str:
    prefix = profile_for(venue).invoice_prefix
    stem = f"{prefix}-{year}-"
    last = (
        Mandate.objects.filter(venue=venue, reference__startswith=stem)
        .filter(reference__regex=rf"^{re.escape(stem)}[0-9]{{{GENERATED_DIGITS}}}$")
        .aggregate(last=Max("reference"))["last"]
    )
    number = int(last[len(stem) :]) + 1 if last else 1
    return f"{stem}{number:0{GENERATED_DIGITS}d}"


def register_mandate(
    venue: Venue,
    *,
    debtor_user: User | None = None,
    debtor_organisation: Organisation | None = None,
    debtor_name: str,
    iban: str,
    bic: str = "",
    signed_on: date,
    reference: str | None = None,
    actor: Any = None,
) -> Mandate:
    """Record a signed SEPA Core mandate for a person or an organisation of the venue. Without a
    `reference`, the next free one of the form PREFIX-YYYY-000001 is given."""
    if (debtor_user is None) == (debtor_organisation is None):
        raise ValidationError(
            _("A mandate is signed by one person or one organisation."), code="debtor_required"
        )
    name = " ".join(debtor_name.split())
    if not name:
        raise ValidationError(_("Give the account holder's name."), code="debtor_name_required")
    if len(name) > 70:
        raise ValidationError(
            _("The account holder's name is at most 70 characters."), code="debtor_name_too_long"
        )
    account = checked_iban(iban)
    agent = checked_bic(bic, account)
    if signed_on > local_today(venue):
        raise ValidationError(
            _("A mandate cannot be signed in the future (%(date)s).") % {"date": signed_on},
            code="signed_in_future",
        )
    if reference is not None:
        reference = reference.strip()
        if not REFERENCE_PATTERN.fullmatch(reference):
            raise ValidationError(
                _("A mandate reference has 1 to 35 letters, digits or / ? : ( ) . , ' + - and no spaces."),
                code="invalid_mandate_reference",
            )

    # A generated reference taken meanwhile by a concurrent registration is simply drawn again.
    for _attempt in range(5):
        chosen = reference or _next_reference(venue, signed_on.year)
        try:
            with transaction.atomic():
                mandate = Mandate.objects.create(
                    venue=venue,
                    debtor_user=debtor_user,
                    debtor_organisation=debtor_organisation,
                    reference=chosen,
                    debtor_name=name,
                    iban=account.compact,
                    bic=agent,
                    signed_on=signed_on,
                )
                audit.record(
                    "billing.mandate.registered",
                    mandate,
                    actor=actor,
                    venue_id=venue.pk,
                    reference=chosen,
                    iban=mask_iban(account.compact),
                    signed_on=signed_on.isoformat(),
                )
                return mandate
        except IntegrityError:
            if reference is not None:
                raise Conflict(
                    _("The mandate reference %(reference)s is already used at %(venue)s.")
                    % {"reference": reference, "venue": venue.name},
                    code="mandate_reference_taken",
                ) from None
    raise Conflict(_("No free mandate reference could be drawn; try again."), code="mandate_reference_taken")


def revoke_mandate(mandate: Mandate, *, on: date, actor: Any = None) -> Mandate:
    """The debtor (or the venue) ends the mandate. Debits announced but not yet handed to the bank are
    withdrawn, so their invoices can be paid another way; what is already at the bank stays as it is.
    Revoking a revoked mandate changes nothing."""
    with transaction.atomic():
        current = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if current.status == MandateStatus.REVOKED:
            return current
        withdrawn = list(
            DirectDebit.objects.filter(mandate=current, status=DirectDebitStatus.ANNOUNCED).values_list(
                "end_to_end_id", flat=True
            )
        )
        DirectDebit.objects.filter(mandate=current, status=DirectDebitStatus.ANNOUNCED).delete()
        current.status = MandateStatus.REVOKED
        current.revoked_on = on
        current.save(update_fields=["status", "revoked_on"])
        audit.record(
            "billing.mandate.revoked",
            current,
            actor=actor,
            venue_id=current.venue_id,
            reference=current.reference,
            on=on.isoformat(),
            withdrawn_debits=withdrawn,
        )
        return current


def last_used_on(mandate: Mandate) -> date:
    """The day the mandate was last collected, else the day it was signed: its 36 months run from there."""
    collected = mandate.debits.filter(
        status__in=[DirectDebitStatus.SUBMITTED, DirectDebitStatus.COLLECTED]
    ).aggregate(last=Max("collection_on"))["last"]
    return max(filter(None, [collected, mandate.signed_on]))


def is_lapsed(mandate: Mandate, on: date) -> bool:
    return on - last_used_on(mandate) > LAPSES_AFTER


def active_mandate_for(
    venue: Venue, user: User | None = None, organisation: Organisation | None = None
) -> Mandate | None:
    """The mandate to debit for a person or an organisation at the venue: the most recently signed of
    the active ones that has not lapsed. None when there is none."""
    if (user is None) == (organisation is None):
        return None
    debtor = Q(debtor_organisation=organisation) if organisation is not None else Q(debtor_user=user)
    today = local_today(venue)
    for mandate in Mandate.objects.filter(debtor, venue=venue, status=MandateStatus.ACTIVE).order_by(
        "-signed_on", "-pk"
    ):
        if not is_lapsed(mandate, today):
            return mandate
    return None
