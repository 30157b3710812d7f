from django.urls import path

from lieux.web import (
    billing_views,
    clearing_views,
    contribution_urls,
    feeds,
    interlieux_views,
    membership_views,
    money_views,
    payment_views,
    views,
)

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("lieux/<slug:venue_slug>/", views.venue_detail, name="venue"),
    path("lieux/<slug:venue_slug>/abonnement/", views.subscribe, name="venue_subscribe"),
    path("lieux/<slug:venue_slug>/formules/", membership_views.venue_plans, name="venue_plans"),
    path("lieux/<slug:venue_slug>/<slug:resource_slug>/", views.resource_detail, name="resource"),
    path(
        "lieux/<slug:venue_slug>/<slug:resource_slug>/abonnement/",
        views.subscribe,
        name="resource_subscribe",
    ),
    path("reservations/", views.my_bookings, name="my_bookings"),
    path("reservations/<int:pk>/", views.booking_detail, name="booking"),
    path("reservations/<int:pk>/deplacer/", views.booking_move, name="booking_move"),
    path("reservations/<int:pk>/annuler/", views.booking_cancel, name="booking_cancel"),
    path("gestion/", views.manage_index, name="manage"),
    path("gestion/<slug:venue_slug>/", views.manage_venue, name="manage_venue"),
    path("gestion/<slug:venue_slug>/demandes/<int:pk>/", views.manage_review, name="manage_review"),
    path(
        "gestion/<slug:venue_slug>/ressources/<slug:resource_slug>/",
        views.manage_resource,
        name="manage_resource",
    ),
    # Member portal: subscriptions, credits, invoices.
    path("compte/abonnements/", membership_views.my_subscriptions, name="my_subscriptions"),
    path("compte/abonnements/<int:pk>/", membership_views.my_subscription, name="my_subscription"),
    path("compte/abonnements/<int:pk>/changer/", membership_views.change_plan, name="change_plan"),
    path(
        "compte/abonnements/<int:pk>/resilier/",
        membership_views.cancel_subscription,
        name="cancel_subscription",
    ),
    path("compte/abonnements/<int:pk>/reprendre/", membership_views.undo_cancel, name="undo_cancel"),
    path("compte/formules/<int:plan_pk>/", membership_views.subscribe, name="subscribe_plan"),
    path("compte/credits/", membership_views.my_credits, name="my_credits"),
    path("compte/factures/", billing_views.my_invoices, name="my_invoices"),
    path("compte/factures/<int:pk>/", billing_views.my_invoice, name="my_invoice"),
    path("compte/factures/<int:pk>/payer/", payment_views.pay_online, name="pay_online"),
    path("factures/<int:pk>/pdf/", billing_views.invoice_pdf, name="invoice_pdf"),
    # A venue team's money screens.
    path("gestion/<slug:venue_slug>/formules/", membership_views.manage_plans, name="manage_plans"),
    path(
        "gestion/<slug:venue_slug>/formules/nouvelle/", membership_views.manage_plan, name="manage_plan_new"
    ),
    path("gestion/<slug:venue_slug>/formules/<int:pk>/", membership_views.manage_plan, name="manage_plan"),
    path(
        "gestion/<slug:venue_slug>/abonnements/",
        membership_views.manage_subscriptions,
        name="manage_subscriptions",
    ),
    path(
        "gestion/<slug:venue_slug>/abonnements/<int:pk>/",
        membership_views.manage_subscription,
        name="manage_subscription",
    ),
    path(
        "gestion/<slug:venue_slug>/abonnements/<int:pk>/action/",
        membership_views.manage_subscription_action,
        name="manage_subscription_action",
    ),
    path("gestion/<slug:venue_slug>/credits/", membership_views.manage_credits, name="manage_credits"),
    path("gestion/<slug:venue_slug>/factures/", billing_views.manage_invoices, name="manage_invoices"),
    path("gestion/<slug:venue_slug>/factures/<int:pk>/", billing_views.manage_invoice, name="manage_invoice"),
    path(
        "gestion/<slug:venue_slug>/factures/<int:pk>/avoir/",
        billing_views.manage_credit_note,
        name="manage_credit_note",
    ),
    path(
        "gestion/<slug:venue_slug>/facturation/", billing_views.manage_billing_run, name="manage_billing_run"
    ),
    # Payments, accounting exports and SEPA; see lieux/web/money_views.py.
    path(
        "gestion/<slug:venue_slug>/factures/<int:pk>/paiements/",
        money_views.manage_record_payment,
        name="manage_record_payment",
    ),
    path(
        "gestion/<slug:venue_slug>/factures/<int:pk>/paiements/<int:payment_pk>/annuler/",
        money_views.manage_reverse_payment,
        name="manage_reverse_payment",
    ),
    path("gestion/<slug:venue_slug>/paiements/", money_views.manage_payments, name="manage_payments"),
    path("gestion/<slug:venue_slug>/exports/", money_views.manage_exports, name="manage_exports"),
    path("gestion/<slug:venue_slug>/exports/fec/", money_views.export_fec, name="export_fec"),
    path("gestion/<slug:venue_slug>/exports/journal/", money_views.export_journal, name="export_journal"),
    path("gestion/<slug:venue_slug>/exports/tva/", money_views.export_vat, name="export_vat"),
    path(
        "gestion/<slug:venue_slug>/exports/verification/",
        money_views.manage_chain_check,
        name="manage_chain_check",
    ),
    path("gestion/<slug:venue_slug>/sepa/", money_views.manage_sepa, name="manage_sepa"),
    path(
        "gestion/<slug:venue_slug>/sepa/lots/<int:pk>.xml", money_views.sepa_batch_xml, name="sepa_batch_xml"
    ),
    path("compte/mandat-sepa/", money_views.my_mandates, name="my_mandates"),
    path("compte/mandat-sepa/<slug:venue_slug>/", money_views.sign_mandate, name="sign_mandate"),
    path(
        "compte/mandat-sepa/<slug:venue_slug>/revoquer/",
        money_views.revoke_my_mandate,
        name="revoke_my_mandate",
    ),
    # Pass Interlieux: reception desk, badges and doors of a venue; a member's pass and visits.
    path("gestion/<slug:venue_slug>/accueil/", interlieux_views.reception, name="reception"),
    path("gestion/<slug:venue_slug>/badges/", interlieux_views.manage_badges, name="manage_badges"),
    path(
        "gestion/<slug:venue_slug>/badges/<int:pk>/revoquer/",
        interlieux_views.revoke_venue_badge,
        name="revoke_badge",
    ),
    path("gestion/<slug:venue_slug>/portes/", interlieux_views.manage_doors, name="manage_doors"),
    path(
        "gestion/<slug:venue_slug>/portes/<int:pk>/revoquer/",
        interlieux_views.revoke_door,
        name="revoke_door",
    ),
    path("compte/pass/", interlieux_views.my_pass, name="my_pass"),
    path("compte/pass/passages/", interlieux_views.my_visits, name="my_visits"),
    # The clearing between the network's venues; see lieux/web/clearing_views.py.
    path(
        "gestion/reseau/<slug:network_slug>/compensation/",
        clearing_views.network_clearing,
        name="network_clearing",
    ),
    path(
        "gestion/reseau/<slug:network_slug>/compensation/calcul/",
        clearing_views.network_clearing_action,
        name="network_clearing_action",
    ),
    path(
        "gestion/reseau/<slug:network_slug>/compensation/cle/",
        clearing_views.network_clearing_key,
        name="network_clearing_key",
    ),
    # A plan's Pass Interlieux: where, when and how often it opens the network's other venues.
    path(
        "gestion/<slug:venue_slug>/formules/<int:pk>/pass-interlieux/",
        interlieux_views.manage_plan_network,
        name="manage_plan_network",
    ),
    # Secret-token iCalendar feeds (RFC 5545); see lieux/web/feeds.py.
    path("calendrier/<str:token>.ics", feeds.calendar_feed, name="calendar_feed"),
    # Contributions, budgets, allocation rounds and their public pages; see lieux/web/contribution_urls.py.
    *contribution_urls.urlpatterns,
]
