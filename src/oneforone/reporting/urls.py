from django.urls import path

from oneforone.reporting import evidence_views, partner_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path(
        "dashboard/allocation-preference/",
        views.allocation_preference,
        name="partner-allocation-preference",
    ),
    path(
        "dashboard/impact/allocations/",
        partner_views.impact_allocations,
        name="partner-impact-allocations",
    ),
    path(
        "dashboard/impact/figures/<slug:key>/",
        partner_views.impact_figure,
        name="partner-impact-figure",
    ),
    path("dashboard/impact/income/", partner_views.impact_income, name="partner-impact-income"),
    path(
        "dashboard/export/<slug:dataset>.csv", partner_views.export_csv, name="partner-export-csv"
    ),
    path("dashboard/export/report.xlsx", partner_views.export_xlsx, name="partner-export-xlsx"),
    path("dashboard/export/report.json", partner_views.export_json, name="partner-export-json"),
    path("dashboard/impact-report.pdf", partner_views.report_pdf_view, name="partner-report-pdf"),
    path("dashboard/evidence/", evidence_views.evidence_page, name="partner-evidence"),
    path("dashboard/evidence/esrs-e5.xlsx", evidence_views.esrs_xlsx, name="partner-esrs-xlsx"),
    path("dashboard/evidence/esrs-e5.csv", evidence_views.esrs_csv, name="partner-esrs-csv"),
    path(
        "dashboard/evidence/<str:model>/pack.zip",
        evidence_views.evidence_pack,
        name="partner-evidence-pack",
    ),
    path("dashboard/badge/", partner_views.badge_setting, name="partner-badge-setting"),
    path("badge/<slug:slug>.svg", partner_views.badge, name="partner-badge"),
]
