from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "oneforone.collection"
    label = "collection"
