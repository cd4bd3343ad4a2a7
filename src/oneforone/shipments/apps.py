from django.apps import AppConfig


class ShipmentsConfig(AppConfig):
    name = "oneforone.shipments"
    label = "shipments"

    def ready(self) -> None:
        from oneforone.shipments import deadline_admin  # noqa: F401  (registers the admin)
