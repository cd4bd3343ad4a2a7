from django.urls import path

from oneforone.shipments import notification_views as views

urlpatterns = [
    path("", views.notification_list, name="notifications-list"),
    path("new/", views.notification_create, name="notifications-create"),
    path("<str:number>/", views.notification_detail, name="notifications-detail"),
    path("<str:number>/<slug:document>/", views.notification_record, name="notifications-record"),
]
