from django.urls import path

from oneforone.partners import upload_views, views

urlpatterns = [
    path("registrations/", views.registrations, name="partner-registrations"),
    path("registrations/<int:pk>/", views.registration_detail, name="partner-registration"),
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
]
