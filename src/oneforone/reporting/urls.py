from django.urls import path

from oneforone.reporting import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path(
        "dashboard/allocation-preference/",
        views.allocation_preference,
        name="partner-allocation-preference",
    ),
]
