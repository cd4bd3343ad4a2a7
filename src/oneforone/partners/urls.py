from django.urls import path

from oneforone.partners import programme_views, upload_views, views

urlpatterns = [
    path("registrations/", views.registrations, name="partner-registrations"),
    path("registrations.csv", views.registrations_csv, name="partner-registrations-csv"),
    path("conflicts/", views.held_devices, name="partner-conflicts"),
    path("upload/", upload_views.upload_form, name="partner-upload"),
    path("uploads/", upload_views.upload_list, name="partner-uploads"),
    path("uploads/<int:upload_id>/", upload_views.upload_detail, name="partner-upload-detail"),
    path(
        "uploads/<int:upload_id>/status/", upload_views.upload_status, name="partner-upload-status"
    ),
    path(
        "uploads/<int:upload_id>/report.csv",
        upload_views.upload_report,
        name="partner-upload-report",
    ),
    path("api-keys/", views.api_keys, name="partner-api-keys"),
    path("programmes/", programme_views.programme_list, name="partner-programmes"),
    path("programmes/new/", programme_views.programme_new, name="partner-programme-new"),
    path("programmes/<int:pk>/", programme_views.programme_detail, name="partner-programme"),
]
