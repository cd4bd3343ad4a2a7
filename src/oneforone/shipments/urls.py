from django.urls import path

from oneforone.shipments import views

urlpatterns = [
    path("", views.consignment_list, name="shipments-list"),
    path("new/", views.create, name="shipments-create"),
    path("<str:reference>/", views.consignment_detail, name="shipments-detail"),
    path("<str:reference>/dispatch/", views.dispatch, name="shipments-dispatch"),
    path("<str:reference>/pickup/", views.pickup, name="shipments-pickup"),
]
