from django.urls import path

from oneforone.shipments import document_views, movement_views, views

urlpatterns = [
    path("", views.consignment_list, name="shipments-list"),
    path("new/", views.create, name="shipments-create"),
    # Before "<str:reference>/", which would take "codes" for a consignment reference.
    path("codes/", document_views.code_lists, name="shipments-codes"),
    path("<str:reference>/", views.consignment_detail, name="shipments-detail"),
    path("<str:reference>/dispatch/", views.dispatch, name="shipments-dispatch"),
    path("<str:reference>/pickup/", views.pickup, name="shipments-pickup"),
    # Documents (issue 6); a notification's PDF, export and attachments are in notification_urls.
    path(
        "<str:reference>/movement-document.pdf",
        document_views.movement_document_pdf,
        name="shipments-movement-pdf",
    ),
    path("<str:reference>/handover/", movement_views.handover, name="shipments-handover"),
    path("<str:reference>/receipt/", movement_views.receipt, name="shipments-receipt"),
    path(
        "<str:reference>/revisions/",
        movement_views.request_revision,
        name="shipments-revision-request",
    ),
    path(
        "<str:reference>/revisions/<int:revision_id>/answer/",
        movement_views.answer_revision,
        name="shipments-revision-answer",
    ),
]
