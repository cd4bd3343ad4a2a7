from django.urls import path

from oneforone.partners import views

urlpatterns = [
    path("registrations/", views.registrations, name="partner-registrations"),
    path("registrations.csv", views.registrations_csv, name="partner-registrations-csv"),
    path("registrations/<int:pk>/", views.registration_detail, name="partner-registration"),
    path("certificates/", views.certificates, name="partner-certificates"),
    path("conflicts/", views.held_devices, name="partner-conflicts"),
    path("upload/", views.upload, name="partner-upload"),
    path("api-keys/", views.api_keys, name="partner-api-keys"),
]
