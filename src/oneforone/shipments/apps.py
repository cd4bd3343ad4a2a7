from django.apps import AppConfig


class ShipmentsConfig(AppConfig):
    name = "oneforone.shipments"
    label = "shipments"
