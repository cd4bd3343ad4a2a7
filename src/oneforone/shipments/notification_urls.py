from django.urls import path

from oneforone.shipments import document_views
from oneforone.shipments import notification_views as views

urlpatterns = [
    path("", views.notification_list, name="notifications-list"),
    path("new/", views.notification_create, name="notifications-create"),
    path("<str:number>/", views.notification_detail, name="notifications-detail"),
    # Documents (issue 6), before "<str:number>/<slug:document>/", which would take "pdf" and
    # "attachments" for a recorded document.
    path(
        "<str:number>/pdf/",
        document_views.notification_pdf,
        name="shipments-notification-pdf",
    ),
    path(
        "<str:number>/export.json",
        document_views.export,
        name="shipments-export",
    ),
    path(
        "<str:number>/attachments/",
        document_views.attachments,
        name="shipments-attachments",
    ),
    path(
        "<str:number>/attachments/<int:pk>/",
        document_views.attachment_download,
        name="shipments-attachment",
    ),
    path("<str:number>/<slug:document>/", views.notification_record, name="notifications-record"),
]
