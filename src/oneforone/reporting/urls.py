from django.urls import path

from oneforone.reporting import partner_views, views

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
    path("dashboard/badge/", partner_views.badge_setting, name="partner-badge-setting"),
    path("badge/<slug:slug>.svg", partner_views.badge, name="partner-badge"),
]
