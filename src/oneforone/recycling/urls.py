from django.urls import path

from oneforone.recycling import views

urlpatterns = [
    path("<str:reference>/reception/", views.reception, name="recycling-reception"),
    path("<str:reference>/treatment/", views.treatment, name="recycling-treatment"),
]
