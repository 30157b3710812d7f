"""Use cases on people and their credentials."""

import secrets

from django.db import transaction

from lieux.accounts.models import ApiToken, User, hash_token
from lieux.core import audit
from lieux.core.errors import NotFound


def issue_api_token(*, email: str, label: str = "") -> tuple[ApiToken, str]:
    """Create a token for an existing person; returns the stored row and the raw token (shown once)."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise NotFound(f"No account with the e-mail address {email!r}", code="unknown_user")
    raw = "lc_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, digest=hash_token(raw), label=label)
        audit.record("accounts.api_token.issued", token, actor=user, label=label)
    return token, raw


def user_for_token(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return token.user if token else None
