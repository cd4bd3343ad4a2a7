from django.urls import path, re_path

from oneforone.shipments import notification_views as views

# Only the recorded documents' names: the notification's pdf/, export.json and attachments/
# (shipments/urls.py) must fall through to the documents' views.
RECORDED = "|".join(sorted(views.DOCUMENTS))

urlpatterns = [
    path("", views.notification_list, name="notifications-list"),
    path("new/", views.notification_create, name="notifications-create"),
    path("<str:number>/", views.notification_detail, name="notifications-detail"),
    re_path(
        rf"^(?P<number>[^/]+)/(?P<document>{RECORDED})/$",
        views.notification_record,
        name="notifications-record",
    ),
]
