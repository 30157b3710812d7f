"""Voting a clearing key: each vote is a new version; a version a statement used never changes."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from lieux.core import audit
from lieux.core.errors import Conflict, ValidationError
from lieux.core.money import cents
from lieux.interlieux.clearing import rules
from lieux.interlieux.clearing.models import ClearingKey
from lieux.venues.models import Network


def vote_key(
    *,
    network: Network,
    method: str,
    voted_on: date,
    unit_price: Decimal = Decimal(0),
    revenue_share_percent: Decimal = Decimal(0),
    free_allowance: int = 0,
    cap_per_pair: Decimal | None = None,
    note: str = "",
    actor: Any = None,
) -> ClearingKey:
    """Record the key the network voted, as the next version."""
    if method not in rules.METHODS:
        raise ValidationError(_("Unknown clearing method."), code="invalid_method", field="method")
    # `field` names the input at fault, so a form shows the message next to it.
    for field, value in (
        ("unit_price", unit_price),
        ("free_allowance", free_allowance),
        ("cap_per_pair", cap_per_pair),
    ):
        if value is not None and value < 0:
            raise ValidationError(
                _("Prices, allowances and caps cannot be negative."), code="invalid_key", field=field
            )
    if method == rules.REVENUE_SHARE and not 0 < revenue_share_percent <= 100:
        raise ValidationError(
            _("A revenue share is a percentage above 0 and at most 100."),
            code="invalid_share",
            field="revenue_share_percent",
        )
    if method != rules.REVENUE_SHARE and unit_price <= 0:
        raise ValidationError(
            _("A price per visit or per half-day must be positive."), code="invalid_price", field="unit_price"
        )
    try:
        with transaction.atomic():
            latest = ClearingKey.objects.filter(network=network).aggregate(v=Max("version"))["v"] or 0
            key = ClearingKey.objects.create(
                network=network,
                version=latest + 1,
                method=method,
                unit_price=cents(unit_price),
                revenue_share_percent=revenue_share_percent,
                free_allowance=free_allowance,
                cap_per_pair=None if cap_per_pair is None else cents(cap_per_pair),
                voted_on=voted_on,
                note=note,
            )
            audit.record("clearing.key.voted", key, actor=actor, version=key.version, method=method)
    except IntegrityError:
        raise Conflict(_("Another key was recorded at the same time; try again."), code="key_race") from None
    return key


def rule_of(key: ClearingKey) -> rules.Key:
    return rules.Key(
        method=key.method,
        unit_price=key.unit_price,
        free_allowance=key.free_allowance,
        cap_per_pair=key.cap_per_pair,
        revenue_share_percent=key.revenue_share_percent,
    )


def snapshot(key: ClearingKey) -> dict[str, Any]:
    """The key as a statement keeps it."""
    return {
        "id": key.pk,
        "version": key.version,
        "method": key.method,
        "unit_price": str(key.unit_price),
        "revenue_share_percent": str(key.revenue_share_percent),
        "free_allowance": key.free_allowance,
        "cap_per_pair": None if key.cap_per_pair is None else str(key.cap_per_pair),
        "voted_on": key.voted_on.isoformat(),
        "note": key.note,
    }


def rule_from_snapshot(data: dict[str, Any]) -> rules.Key:
    return rules.Key(
        method=data["method"],
        unit_price=Decimal(data["unit_price"]),
        free_allowance=int(data["free_allowance"]),
        cap_per_pair=None if data.get("cap_per_pair") is None else Decimal(data["cap_per_pair"]),
        revenue_share_percent=Decimal(data.get("revenue_share_percent") or 0),
    )
