from django.urls import path

from oneforone.collection import views

urlpatterns = [
    path("intake/", views.intake, name="collection-intake"),
    path("lots/", views.lots, name="collection-lots"),
    path("lots/seal/", views.seal_lot, name="collection-lot-seal"),
]
