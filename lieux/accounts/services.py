"""Use cases on people and their credentials."""

import secrets
from functools import cache

from django.db import transaction

from lieux.accounts.models import ApiToken, User, hash_token
from lieux.core import audit, prepared
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


@cache
def _token_sql() -> str:
    return (
        f"SELECT {prepared.columns(User, 'u')} FROM {ApiToken._meta.db_table} t"
        f" JOIN {User._meta.db_table} u ON u.id = t.user_id"
        " WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active"
    )


def user_for_token(raw: str) -> User | None:
    """The active person a live API token belongs to. Every API request asks: the statement is prepared
    (core.prepared), planned once per connection instead of at each request."""
    with prepared.cursor() as cursor:
        cursor.execute(_token_sql(), [hash_token(raw)])
        row = cursor.fetchone()
    return None if row is None else prepared.instance(User, row)
