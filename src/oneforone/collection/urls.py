from django.urls import path

from oneforone.collection import intake_urls, money_urls, people_urls, signal_urls, views

urlpatterns = [
    path("intake/", views.intake, name="collection-intake"),
    path("lots/", views.lots, name="collection-lots"),
    path("lots/seal/", views.seal_lot, name="collection-lot-seal"),
    *intake_urls.urlpatterns,
    *money_urls.urlpatterns,
    *people_urls.urlpatterns,
    *signal_urls.urlpatterns,
]
