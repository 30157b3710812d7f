"""Allocation rounds (« Budget collectif »): the list, a round's page where each participant spreads their
share over the proposed projects (the remaining share is shown, and kept up to date as they type by a small
script; without it the page still works and the server checks everything), the results once closed, and
the managers' buttons to open and close it.

A round is readable by the people of its network once open, by its participants, and by those who manage
it (also while in preparation); anyone else gets a 404."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from lieux.contributions.models import AllocationRound, AllocationRule, RoundProject, RoundStatus
from lieux.contributions.selectors import web as web_selectors
from lieux.contributions.selectors.budgets import may_manage
from lieux.contributions.services import rounds as round_services
from lieux.core.errors import DomainError
from lieux.core.money import ZERO
from lieux.core.time import now
from lieux.web.contribution_views import forbidden
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_contributions import AllocationForm
from lieux.web.pages import FORM_INVALID, viewer


def round_for(request: HttpRequest, pk: int) -> AllocationRound:
    found = web_selectors.rounds_for(viewer(request)).filter(pk=pk).first()
    if found is None:
        raise Http404()
    return found


@dataclass(frozen=True)
class ProposalRow:
    proposal: RoundProject
    allocated: Decimal  # by everyone so far
    mine: Decimal
    percent: str  # of the maximum, for the bar
    minimum_percent: str  # where the minimum stands on the bar
    reaches_minimum: bool


def _rows(round_: AllocationRound, mine: dict[int, Decimal]) -> list[ProposalRow]:
    totals = web_selectors.allocated_totals(round_)
    rows = []
    for proposal in round_.projects.select_related("project", "budget").order_by("project__title", "pk"):
        allocated = totals.get(proposal.pk, ZERO)
        top = proposal.maximum if proposal.maximum > 0 else Decimal(1)
        rows.append(
            ProposalRow(
                proposal=proposal,
                allocated=allocated,
                mine=mine.get(proposal.pk, ZERO),
                percent=f"{min(float(allocated / top) * 100, 100):.1f}",
                minimum_percent=f"{min(float(proposal.minimum / top) * 100, 100):.1f}",
                reaches_minimum=allocated >= proposal.minimum and allocated > 0,
            )
        )
    return rows


def _page(
    request: HttpRequest, round_: AllocationRound, *, form: AllocationForm | None = None, status: int = 200
) -> HttpResponse:
    user = viewer(request)
    participant = web_selectors.participant_of(round_, user)
    mine = web_selectors.allocations_of(participant)
    rows = _rows(round_, mine)
    moment = now()
    accepting = (
        round_.status == RoundStatus.OPEN
        and round_.rule == AllocationRule.PARTICIPATORY
        and round_.opens_at <= moment < round_.closes_at
    )
    if participant is not None and accepting and form is None:
        form = AllocationForm(
            initial={AllocationForm.field_name(r.proposal): r.mine or None for r in rows},
            proposals=[r.proposal for r in rows],
            share=participant.share,
        )
    placed = sum(mine.values(), ZERO)
    funded = sum((r.proposal.funded_amount or ZERO for r in rows), ZERO)
    context = {
        "round": round_,
        "rows": rows,
        "participant": participant,
        "form": form if participant is not None and accepting else None,
        "fields": [(r, form[AllocationForm.field_name(r.proposal)]) for r in rows]
        if form and accepting
        else [],
        "placed": placed,
        "left": (participant.share - placed) if participant else ZERO,
        "accepting": accepting,
        "is_manager": may_manage(user, network_id=round_.network_id, venue_id=round_.venue_id),
        "may_close": round_.status == RoundStatus.OPEN and moment >= round_.closes_at,
        "funded": funded,
        "undistributed": round_.pot - funded,
        "participants": round_.participants.count(),
        "tab": "rounds",
    }
    return render(request, "web/contributions/round.html", context, status=status)


@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    rounds = list(web_selectors.rounds_for(viewer(request))[:200])
    return render(request, "web/contributions/round_list.html", {"rounds": rounds, "tab": "rounds"})


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, round_for(request, pk))


@login_required
@require_POST
def allocate(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = round_for(request, pk)
    user = viewer(request)
    participant = web_selectors.participant_of(round_, user)
    if participant is None:
        return forbidden(
            request, _("You do not take part in this round."), back=reverse("web:allocation_round", args=[pk])
        )
    proposals = list(round_.projects.select_related("project").order_by("project__title", "pk"))
    form = AllocationForm(request.POST, proposals=proposals, share=participant.share)
    if not form.is_valid():
        return _page(request, round_, form=form, status=FORM_INVALID)
    try:
        round_services.allocate(round=round_, person=user, amounts=form.amounts(), actor=user)
    except DomainError as error:
        add_service_error(form, error)
        return _page(request, round_, form=form, status=error.status)
    messages.success(request, _("Your allocation is saved. You may change it until the round closes."))
    return redirect("web:allocation_round", pk=round_.pk)


def _manage(request: HttpRequest, pk: int, action) -> HttpResponse:
    round_ = round_for(request, pk)
    user = viewer(request)
    if not may_manage(user, network_id=round_.network_id, venue_id=round_.venue_id):
        return forbidden(
            request,
            _("Only the round's managers may do this."),
            back=reverse("web:allocation_round", args=[pk]),
        )
    try:
        message = action(round_, user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, message)
    return redirect("web:allocation_round", pk=round_.pk)


def _open(round_: AllocationRound, user) -> str:
    round_services.open_round(round=round_, actor=user)
    return _("The round is open: each participant has their share.")


def _close(round_: AllocationRound, user) -> str:
    result = round_services.close_round(round=round_, actor=user)
    funded = sum(1 for amount in result.funded.values() if amount > 0)
    return ngettext(
        "The round is closed: %(funded)s project funded, %(left)s € undistributed.",
        "The round is closed: %(funded)s projects funded, %(left)s € undistributed.",
        funded,
    ) % {"funded": funded, "left": result.undistributed}


@login_required
@require_POST
def open_round(request: HttpRequest, pk: int) -> HttpResponse:
    return _manage(request, pk, _open)


@login_required
@require_POST
def close_round(request: HttpRequest, pk: int) -> HttpResponse:
    return _manage(request, pk, _close)
