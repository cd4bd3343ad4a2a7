from django.urls import path
from django.views.generic import RedirectView

from oneforone.registry import partner_views, public_views, views

urlpatterns = [
    # Partner portal pages that show registry records (see partner_views.py).
    path(
        "partner/registrations/<int:pk>/",
        partner_views.registration_detail,
        name="partner-registration",
    ),
    path("partner/certificates/", partner_views.certificates, name="partner-certificates"),
    path("verify/", views.verify_search, name="verify-search"),
    path("verify/<str:code>.pdf", views.verify_pdf, name="verify-pdf"),
    path("verify/<str:code>.json", views.verify_json, name="verify-json"),
    path("verify/<str:code>", views.verify, name="verify"),
    path("registry/", public_views.registry, name="registry"),
    path("registry/batches.csv", public_views.batches_csv, name="registry-batches-csv"),
    path("registry/batch/<int:pk>.csv", public_views.batch_csv, name="registry-batch-csv"),
    path("registry/batch/<int:pk>", public_views.batch_detail, name="registry-batch"),
    path("registry/unit/<str:serial>", public_views.unit_detail, name="registry-unit"),
    path("ledger/", public_views.ledger_roots, name="ledger-roots"),
    path("ledger/roots.json", public_views.ledger_roots_json, name="ledger-roots-json"),
    path(
        "ledger/entry/<str:entry_hash>.json",
        public_views.ledger_entry_json,
        name="ledger-entry-json",
    ),
    path("ledger/entry/<str:entry_hash>", public_views.ledger_entry, name="ledger-entry"),
    path(
        "operator/allocation/",
        RedirectView.as_view(pattern_name="operator-registry-allocation", permanent=True),
    ),
]
