from django.urls import path

from oneforone.webhooks import views

urlpatterns = [
    path("", views.endpoints, name="partner-webhooks"),
    path("<int:pk>/", views.endpoint_detail, name="partner-webhook"),
    path("<int:pk>/rotate/", views.rotate_secret, name="partner-webhook-rotate"),
    path("<int:pk>/state/", views.endpoint_state, name="partner-webhook-state"),
    path("<int:pk>/delete/", views.delete_endpoint, name="partner-webhook-delete"),
    path("<int:pk>/test/", views.send_test, name="partner-webhook-test"),
    path(
        "<int:pk>/deliveries/<int:delivery_id>/",
        views.delivery_detail,
        name="partner-webhook-delivery",
    ),
    path(
        "<int:pk>/deliveries/<int:delivery_id>/redeliver/",
        views.redeliver,
        name="partner-webhook-redeliver",
    ),
]
