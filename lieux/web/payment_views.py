"""Paying an invoice online: the member's "Pay online" button posts here and is sent to the provider's page.

The invoice is looked up among the viewer's own (a document of someone else is a 404, like a number never
issued). A refusal (nothing left to pay, a debit already on its way, the provider not configured) comes back
to the invoice page as a message.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from lieux.billing import selectors
from lieux.billing.services.online import start_online_payment
from lieux.core.errors import DomainError
from lieux.web.pages import viewer


@login_required
@require_POST
def pay_online(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.buyer_invoices(viewer(request)).filter(pk=pk).select_related("venue").first()
    if invoice is None:
        raise Http404()
    back = reverse("web:my_invoice", args=[invoice.pk])
    try:
        checkout = start_online_payment(
            invoice, return_url=request.build_absolute_uri(back), actor=viewer(request)
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(back)
    return redirect(checkout.url)
