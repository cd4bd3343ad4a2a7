from django.urls import path

from oneforone.partners import views

urlpatterns = [
    path("registrations/", views.registrations, name="partner-registrations"),
    path("registrations/<int:pk>/", views.registration_detail, name="partner-registration"),
    path("upload/", views.upload, name="partner-upload"),
    path("api-keys/", views.api_keys, name="partner-api-keys"),
]
