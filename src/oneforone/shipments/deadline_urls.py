from django.urls import path

from oneforone.shipments import deadline_views

urlpatterns = [
    path("", deadline_views.deadline_list, name="shipments-deadlines"),
    path("met/", deadline_views.deadline_met, name="shipments-deadline-met"),
    path("departure/", deadline_views.departure, name="shipments-plan-departure"),
]
