"""A contributor's own choices: how they appear on the public transparency pages, and the structure (their
CAE, association, company) through which euros are paid to them.

Only the person changes their profile. Consent is a right over one's own name: every change is audited
(`contributions.profile.updated`) with what it was before. Withdrawing consent (back to hidden) takes the
name off the public pages at once, since those pages read the profile on every request.
"""

from typing import Any

from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.contributions.models import ContributorProfile, Visibility
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Forbidden, ValidationError
from lieux.core.time import now

MAX_PSEUDONYM = 60
MAX_STRUCTURE = 160


def _clean(value: str, *, field: str, limit: int) -> str:
    value = " ".join(value.split())
    if len(value) > limit:
        raise ValidationError(
            _("At most %(limit)s characters.") % {"limit": limit}, code="too_long", field=field
        )
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValidationError(_("The text holds control characters."), code="invalid_characters", field=field)
    return value


def update_contributor_profile(
    *,
    person: User,
    visibility: str,
    pseudonym: str = "",
    structure_name: str = "",
    actor: Any = None,
) -> ContributorProfile:
    """Set how `person` appears on public pages and the structure they are paid through."""
    if actor is not None and getattr(actor, "pk", None) != person.pk:
        raise Forbidden(_("Only the person may change how they appear."), code="not_your_profile")
    if visibility not in Visibility.values:
        raise ValidationError(_("Not a valid choice."), code="invalid_visibility", field="visibility")
    pseudonym = _clean(pseudonym, field="pseudonym", limit=MAX_PSEUDONYM)
    structure_name = _clean(structure_name, field="structure_name", limit=MAX_STRUCTURE)
    if visibility == Visibility.PSEUDONYM and not pseudonym:
        raise ValidationError(
            _("Choose the pseudonym to be shown under."), code="pseudonym_required", field="pseudonym"
        )

    def write() -> ContributorProfile:
        profile, created = ContributorProfile.objects.select_for_update().get_or_create(person=person)
        before = {
            "visibility": "" if created else profile.visibility,
            "pseudonym": "" if created else profile.pseudonym,
            "structure_name": "" if created else profile.structure_name,
        }
        after = {"visibility": visibility, "pseudonym": pseudonym, "structure_name": structure_name}
        if not created and before == after:
            return profile
        profile.visibility = visibility
        profile.pseudonym = pseudonym
        profile.structure_name = structure_name
        profile.updated_at = now()
        profile.save()
        audit.record(
            "contributions.profile.updated",
            profile,
            actor=actor,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        )
        return profile

    return atomic_with_retry(write)
