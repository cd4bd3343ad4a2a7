from django.urls import path

from oneforone.impact import views

urlpatterns = [
    path("", views.versions, name="methodology"),
    path("<int:number>/", views.version, name="methodology-version"),
]
