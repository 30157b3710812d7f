"""Online payment through Stripe: the outgoing call (idempotency key, amount in cents) and the webhooks
(signature, once per event, any order), on recorded payloads signed by the library's own code."""

import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections

from lieux.billing.models import Payment, PaymentMethod
from lieux.billing.models.payments import PaymentAttempt, ProviderEvent
from lieux.billing.providers import BadSignature, MalformedEvent, ProviderDisabled, get_provider
from lieux.billing.providers import stripe as stripe_provider
from lieux.billing.services.online import AttemptStatus, handle_event, idempotency_key, start_online_payment
from lieux.billing.services.payments import balance, record_payment
from lieux.core.errors import Conflict, NotFound, ValidationError
from lieux.core.models import AuditEvent
from lieux.core.time import now
from tests.invoice_data import invoice as issued_invoice

from .stripe_data import CHARGE, INTENT, FakeStripeHTTP, configure, recorded, signed

D = Decimal
RETURN_URL = "https://lieux.example.org/compte/factures/"


@pytest.fixture
def http(settings, monkeypatch) -> FakeStripeHTTP:
    configure(settings)
    fake = FakeStripeHTTP()
    monkeypatch.setattr(stripe_provider, "default_http_client", fake)
    return fake


@pytest.fixture
def invoice(venue, member):
    bill = issued_invoice(venue, buyer=member, amount="100.00")
    assert bill.gross_amount == D("120.00")
    return bill


@pytest.fixture
def attempt(invoice, http) -> PaymentAttempt:
    start_online_payment(invoice, return_url=RETURN_URL)
    return PaymentAttempt.objects.get(invoice=invoice)


def deliver(name: str, attempt: PaymentAttempt, **changes) -> str:
    body = recorded(name, attempt, **changes)
    return handle_event("stripe", body, signed(body))


def written() -> tuple[int, int, int]:
    return Payment.objects.count(), ProviderEvent.objects.count(), AuditEvent.objects.count()


# --- Opening a payment ------------------------------------------------------------------------------------


def test_the_attempt_is_written_before_stripe_is_called_with_its_key_and_the_amount_in_cents(
    invoice, member, http
):
    seen_at_call: list[list[str]] = []
    http.before_answer = lambda fake: seen_at_call.append(
        list(PaymentAttempt.objects.values_list("idempotency_key", flat=True))
    )

    checkout = start_online_payment(invoice, return_url=RETURN_URL)

    attempt = PaymentAttempt.objects.get(invoice=invoice)
    assert seen_at_call == [[attempt.idempotency_key]]  # already there when Stripe was asked
    (call,) = http.requests
    assert call["method"] == "post" and call["url"].endswith("/v1/checkout/sessions")
    assert call["headers"]["Idempotency-Key"] == attempt.idempotency_key
    assert call["headers"]["Authorization"] == "Bearer sk_test_lieux_local"
    form = call["form"]
    assert form["line_items[0][price_data][unit_amount]"] == "12000"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert (form["payment_method_types[0]"], form["payment_method_types[1]"]) == ("card", "sepa_debit")
    assert form["mode"] == "payment" and form["customer_email"] == member.email
    for prefix in ("metadata", "payment_intent_data[metadata]"):
        assert form[f"{prefix}[attempt]"] == attempt.idempotency_key
        assert form[f"{prefix}[invoice_id]"] == str(invoice.pk)
        assert form[f"{prefix}[invoice_number]"] == invoice.number
        assert form[f"{prefix}[venue]"] == "la-coroutine"
    assert checkout.url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert (attempt.status, attempt.amount, attempt.attempt_no) == (AttemptStatus.OPEN, D("120.00"), 1)
    assert attempt.provider_reference == checkout.reference


def test_the_idempotency_key_comes_from_the_invoice_and_the_attempt_number(invoice, other_venue, member):
    key = idempotency_key(invoice, provider="stripe", attempt_no=1)
    assert key == idempotency_key(invoice, provider="stripe", attempt_no=1)
    assert key == f"stripe-invoice-{invoice.pk}-attempt-1-{invoice.number}"
    assert idempotency_key(invoice, provider="stripe", attempt_no=2) != key
    other = issued_invoice(other_venue, buyer=member)
    assert idempotency_key(other, provider="stripe", attempt_no=1) != key


def test_a_call_cut_short_is_replayed_with_the_same_key(invoice, http):
    def cut(fake):
        if len(fake.requests) == 1:
            raise ConnectionResetError("the process died while Stripe answered")

    http.before_answer = cut
    with pytest.raises(ConnectionResetError):
        start_online_payment(invoice, return_url=RETURN_URL)
    assert PaymentAttempt.objects.get(invoice=invoice).status == AttemptStatus.CREATED

    start_online_payment(invoice, return_url=RETURN_URL)
    start_online_payment(invoice, return_url=RETURN_URL)  # the payer clicks again

    keys = [call["headers"]["Idempotency-Key"] for call in http.requests]
    assert len(keys) == 3 and len(set(keys)) == 1
    attempt = PaymentAttempt.objects.get(invoice=invoice)
    assert (attempt.attempt_no, attempt.status) == (1, AttemptStatus.OPEN)


def test_a_new_attempt_follows_a_failure_and_charges_only_what_is_left(attempt, invoice, http):
    assert deliver("payment_intent.payment_failed", attempt) == "applied"
    record_payment(invoice, amount=D("20.00"), method=PaymentMethod.TRANSFER, received_on=now().date())

    start_online_payment(invoice, return_url=RETURN_URL)

    second = PaymentAttempt.objects.get(invoice=invoice, attempt_no=2)
    assert second.idempotency_key != attempt.idempotency_key and second.amount == D("100.00")
    assert http.requests[-1]["headers"]["Idempotency-Key"] == second.idempotency_key
    assert http.requests[-1]["form"]["line_items[0][price_data][unit_amount]"] == "10000"


def test_a_stale_open_attempt_is_not_replayed_past_the_providers_memory(attempt, invoice, http):
    PaymentAttempt.objects.filter(pk=attempt.pk).update(created_at=now() - timedelta(days=1))
    start_online_payment(invoice, return_url=RETURN_URL)
    assert list(PaymentAttempt.objects.filter(invoice=invoice).values_list("attempt_no", flat=True)) == [1, 2]


def test_no_second_payment_while_a_debit_is_on_its_way_nor_once_paid(attempt, invoice, http):
    assert deliver("payment_intent.processing", attempt) == "applied"
    with pytest.raises(Conflict):
        start_online_payment(invoice, return_url=RETURN_URL)
    assert deliver("payment_intent.succeeded", attempt) == "applied"
    with pytest.raises(ValidationError) as refused:
        start_online_payment(invoice, return_url=RETURN_URL)
    assert refused.value.code == "nothing_due"
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 1


def test_without_its_secrets_stripe_is_disabled_and_nothing_is_written(invoice, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(ProviderDisabled, match="STRIPE_SECRET_KEY"):
        start_online_payment(invoice, return_url=RETURN_URL)
    with pytest.raises(ProviderDisabled):
        handle_event("stripe", b"{}", {"Stripe-Signature": "t=1,v1=00"})
    assert not PaymentAttempt.objects.exists() and not ProviderEvent.objects.exists()
    with pytest.raises(NotFound):
        get_provider("paypal")


# --- Webhooks: signature ----------------------------------------------------------------------------------


def test_a_signed_success_records_the_payment_once(attempt, invoice):
    assert deliver("payment_intent.succeeded", attempt) == "applied"

    payment = Payment.objects.get(invoice=invoice)
    assert (payment.method, payment.external_id, payment.amount) == (PaymentMethod.ONLINE, INTENT, D(120))
    assert payment.reference == f"Stripe {INTENT}"
    assert balance(invoice).due == D(0)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    event = ProviderEvent.objects.get()
    assert (event.event_type, event.outcome) == ("payment_intent.succeeded", "applied")
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body: (body, signed(body, secret="whsec_someone_else")), id="wrong-secret"),
        pytest.param(lambda body: (body.replace(b"12000", b"99999"), signed(body)), id="altered-body"),
        pytest.param(lambda body: (body, signed(body, timestamp=int(time.time()) - 600)), id="expired"),
        pytest.param(lambda body: (body, {}), id="no-header"),
        pytest.param(lambda body: (body, {"Stripe-Signature": "t=oops,v1=zz"}), id="garbled-header"),
    ],
)
def test_an_unverified_delivery_is_refused_and_writes_nothing(attempt, tamper):
    before = written()
    body, headers = tamper(recorded("payment_intent.succeeded", attempt))
    with pytest.raises(BadSignature):
        handle_event("stripe", body, headers)
    assert written() == before


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"object": "event", "id": "evt_1"}', b'{"object": "charge"}', b"\xff\xfe"],
)
def test_a_signed_body_that_is_not_an_event_is_refused_and_writes_nothing(attempt, body):
    before = written()
    headers = signed(body) if body != b"\xff\xfe" else {"Stripe-Signature": "t=1,v1=00"}
    with pytest.raises(MalformedEvent):
        handle_event("stripe", body, headers)
    assert written() == before


# --- Webhooks: once, in any order -------------------------------------------------------------------------


def test_an_event_delivered_three_times_is_applied_once(attempt, invoice):
    outcomes = [deliver("payment_intent.succeeded", attempt) for _ in range(3)]
    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert ProviderEvent.objects.count() == 1


def test_a_late_processing_or_failure_does_not_undo_a_success(attempt):
    assert deliver("payment_intent.succeeded", attempt) == "applied"
    assert deliver("payment_intent.processing", attempt) == "stale"
    assert deliver("payment_intent.payment_failed", attempt) == "stale"
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert Payment.objects.count() == 1


def test_an_older_status_does_not_overwrite_a_newer_one(attempt):
    # The failure (created T+10) is delivered after the processing that followed it (T+20).
    assert deliver("payment_intent.processing", attempt) == "applied"
    assert deliver("payment_intent.payment_failed", attempt) == "stale"
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.PROCESSING
    # A newer failure (a SEPA debit the bank refused) does apply.
    body = recorded("payment_intent.payment_failed", attempt, id="evt_later_failure", created=1795939200 + 99)
    assert handle_event("stripe", body, signed(body)) == "applied"
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED


def test_a_refund_arriving_before_its_success_waits_and_is_applied_with_it(attempt, invoice):
    assert deliver("charge.refunded.full", attempt) == "pending"
    assert not Payment.objects.exists()

    assert deliver("payment_intent.succeeded", attempt) == "applied"

    paid, refund = Payment.objects.filter(invoice=invoice).order_by("amount").reverse()
    assert (paid.amount, refund.amount, refund.reverses) == (D(120), D(-120), paid)
    assert refund.external_id == f"{CHARGE}:refund:12000"
    assert balance(invoice).due == D(120)
    assert ProviderEvent.objects.get(event_type="charge.refunded").outcome == "applied"


def test_partial_refunds_reach_the_refunded_total_in_any_order(attempt, invoice):
    deliver("payment_intent.succeeded", attempt)
    assert deliver("charge.refunded.full", attempt) == "applied"
    assert deliver("charge.refunded.partial", attempt) == "stale"
    assert [p.amount for p in Payment.objects.filter(invoice=invoice, reverses__isnull=False)] == [D(-120)]


def test_partial_refunds_in_order_add_up(attempt, invoice):
    deliver("payment_intent.succeeded", attempt)
    assert deliver("charge.refunded.partial", attempt) == "applied"
    assert deliver("charge.refunded.full", attempt) == "applied"
    reversals = Payment.objects.filter(invoice=invoice, reverses__isnull=False).order_by("pk")
    assert [p.amount for p in reversals] == [D(-40), D(-80)]
    assert balance(invoice).due == D(120)


def test_a_lost_dispute_takes_the_money_back(attempt, invoice):
    deliver("payment_intent.succeeded", attempt)
    assert deliver("charge.dispute.closed", attempt) == "applied"
    assert balance(invoice).due == D(120)
    assert Payment.objects.get(amount__lt=0).reason == "Dispute lost"


def test_a_dispute_beyond_what_is_left_is_kept_with_its_reason_and_changes_nothing(attempt, invoice):
    deliver("payment_intent.succeeded", attempt)
    deliver("charge.refunded.full", attempt)
    assert deliver("charge.dispute.closed", attempt) == "error:reversal_too_large"
    assert Payment.objects.filter(invoice=invoice).count() == 2


def test_an_expired_session_closes_its_attempt_and_the_next_click_opens_another(attempt, invoice, http):
    assert deliver("checkout.session.expired", attempt) == "applied"
    start_online_payment(invoice, return_url=RETURN_URL)
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 2


def test_events_of_payments_not_opened_here_are_kept_and_ignored(attempt, invoice):
    body = recorded("payment_intent.succeeded", attempt).replace(
        attempt.idempotency_key.encode(), b"another-shop-order-42"
    )
    assert handle_event("stripe", body, signed(body)) == "ignored"
    other = recorded("payment_intent.succeeded", attempt, id="evt_other", type="customer.created")
    assert handle_event("stripe", other, signed(other)) == "ignored"
    assert not Payment.objects.exists() and ProviderEvent.objects.count() == 2


def test_a_payment_in_another_currency_is_kept_with_its_reason_and_not_recorded(attempt):
    body = recorded("payment_intent.succeeded", attempt).replace(b'"currency": "eur"', b'"currency": "usd"')
    assert handle_event("stripe", body, signed(body)) == "error:bad_currency"
    assert not Payment.objects.exists()
    assert ProviderEvent.objects.get().outcome == "error:bad_currency"


# --- Concurrent deliveries (PostgreSQL) -------------------------------------------------------------------

DELIVERIES = 8


def deliver_together(bodies: list[bytes]) -> tuple[Counter, list[str]]:
    barrier = threading.Barrier(len(bodies))
    lock = threading.Lock()
    outcomes: Counter = Counter()
    errors: list[str] = []

    def delivery(body: bytes) -> None:
        try:
            barrier.wait()
            outcome = handle_event("stripe", body, signed(body))
            with lock:
                outcomes[outcome] += 1
        except Exception as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=delivery, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes, errors


@pytest.mark.usefixtures("flushable_legal_records")
def test_simultaneous_deliveries_of_one_event_record_one_payment(
    postgres, venue, member, settings, monkeypatch
):
    configure(settings)
    monkeypatch.setattr(stripe_provider, "default_http_client", FakeStripeHTTP())
    bill = issued_invoice(venue, buyer=member)
    start_online_payment(bill, return_url=RETURN_URL)
    attempt = PaymentAttempt.objects.get(invoice=bill)

    outcomes, errors = deliver_together([recorded("payment_intent.succeeded", attempt)] * DELIVERIES)

    assert errors == []
    assert outcomes == Counter({"applied": 1, "duplicate": DELIVERIES - 1})
    assert Payment.objects.filter(invoice=bill).count() == 1
    assert ProviderEvent.objects.count() == 1


@pytest.mark.usefixtures("flushable_legal_records")
def test_a_refund_and_its_success_arriving_together_end_refunded(
    postgres, venue, member, settings, monkeypatch
):
    configure(settings)
    monkeypatch.setattr(stripe_provider, "default_http_client", FakeStripeHTTP())
    bill = issued_invoice(venue, buyer=member)
    start_online_payment(bill, return_url=RETURN_URL)
    attempt = PaymentAttempt.objects.get(invoice=bill)

    outcomes, errors = deliver_together(
        [recorded("payment_intent.succeeded", attempt), recorded("charge.refunded.full", attempt)] * 3
    )

    assert errors == []
    assert outcomes["duplicate"] == 4
    assert sorted(Payment.objects.filter(invoice=bill).values_list("amount", flat=True)) == [D(-120), D(120)]
    assert set(ProviderEvent.objects.values_list("outcome", flat=True)) == {"applied"}


@pytest.mark.parametrize("guarded", [True, False], ids=["serialised", "guard-removed"])
@pytest.mark.usefixtures("flushable_legal_records")
def test_a_refund_reading_before_its_success_commits_is_not_lost(
    postgres, venue, member, settings, monkeypatch, guarded
):
    """The refund looks for its payment, finds none, and is slow to commit while the success records the
    payment and looks for waiting refunds. Serialised, the success waits and applies the refund; without
    the lock the refund stays pending for ever, which shows the lock is what keeps it."""
    from lieux.billing.services import online

    configure(settings)
    monkeypatch.setattr(stripe_provider, "default_http_client", FakeStripeHTTP())
    if not guarded:
        monkeypatch.setattr(online, "_serialise", lambda key: None)
    looked_up = threading.Event()
    original = online._paid_by

    def slow_lookup(obj):
        found = original(obj)
        looked_up.set()
        time.sleep(0.5)
        return found

    monkeypatch.setattr(online, "_paid_by", slow_lookup)
    bill = issued_invoice(venue, buyer=member)
    start_online_payment(bill, return_url=RETURN_URL)
    attempt = PaymentAttempt.objects.get(invoice=bill)
    refund, success = recorded("charge.refunded.full", attempt), recorded("payment_intent.succeeded", attempt)

    def send(body: bytes, wait: threading.Event | None = None) -> None:
        try:
            if wait is not None:
                wait.wait(timeout=10)
            handle_event("stripe", body, signed(body))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=send, args=(refund,)),
        threading.Thread(target=send, args=(success, looked_up)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    amounts = sorted(Payment.objects.filter(invoice=bill).values_list("amount", flat=True))
    if guarded:
        assert amounts == [D(-120), D(120)]
        assert not ProviderEvent.objects.filter(outcome="pending").exists()
    else:
        assert amounts == [D(120)]
        assert ProviderEvent.objects.get(event_type="charge.refunded").outcome == "pending"
