from django.apps import AppConfig


class RecyclingConfig(AppConfig):
    name = "oneforone.recycling"
    label = "recycling"
