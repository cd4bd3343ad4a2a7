from django.urls import path

from oneforone.recycling import assay_views, views

urlpatterns = [
    path("<str:reference>/reception/", views.reception, name="recycling-reception"),
    path("<str:reference>/treatment/", views.treatment, name="recycling-treatment"),
    path("<str:reference>/assays/", assay_views.assays, name="recycling-assays"),
]
