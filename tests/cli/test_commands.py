import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lieux.accounts.services import user_for_token
from lieux.booking.models import Status
from lieux.booking.services import create_booking
from tests.factories import at, future_day


def test_token_prints_a_working_token(member):
    out = StringIO()
    call_command("token", member.email, stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("lc_")
    assert user_for_token(raw) == member


def test_token_for_an_unknown_person_is_an_error(db):
    with pytest.raises(CommandError, match=r"nobody@example\.org"):
        call_command("token", "nobody@example.org")


def test_worker_once_releases_expired_holds(member, room, settings):
    settings.LIEUX_HOLD_MINUTES = 0
    day = future_day()
    held = create_booking(
        actor=member, resource=room, starts_at=at(day, 10), ends_at=at(day, 11), title="x", hold=True
    )
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    held.refresh_from_db()
    assert held.status == Status.EXPIRED
    assert "booking.expire_holds: 1" in out.getvalue()


def test_the_lieux_command_exits_non_zero_with_a_message(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "LIEUX_INSECURE_DEV_KEY": "1",
    }
    lieux = [sys.executable, "-m", "lieux.cli"]
    subprocess.run([*lieux, "migrate", "-v", "0"], env=env, check=True, timeout=120)
    result = subprocess.run(
        [*lieux, "token", "nobody@example.org"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "nobody@example.org" in result.stderr
