from django.apps import AppConfig


class ShipmentsConfig(AppConfig):
    name = "oneforone.shipments"
    label = "shipments"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from oneforone.shipments import document_admin  # noqa: F401  (registers the admin)
        from oneforone.shipments.documents import tell_new_connections

        connection_created.connect(tell_new_connections, dispatch_uid="shipments-retention")
        from oneforone.shipments import deadline_admin  # noqa: F401  (registers the admin)
