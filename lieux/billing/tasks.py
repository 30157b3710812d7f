"""Periodic billing jobs run by `lieux worker`: thin wrappers around services."""

from lieux.billing.services.reminders import send_due_reminders
from lieux.core.schedule import every


# Overdue reminders, daily. Idempotent: each (invoice, level) is sent once, whichever worker runs it.
@every(24 * 3600, "billing.send_reminders")
def send_reminders() -> int:
    return send_due_reminders()
