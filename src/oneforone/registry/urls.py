from django.urls import path

from oneforone.registry import views

urlpatterns = [
    path("verify/", views.verify_search, name="verify-search"),
    path("verify/<str:code>.pdf", views.verify_pdf, name="verify-pdf"),
    path("verify/<str:code>", views.verify, name="verify"),
    path("operator/allocation/", views.allocation, name="operator-allocation"),
    path("operator/allocation/run/", views.run_allocation, name="operator-allocation-run"),
]
