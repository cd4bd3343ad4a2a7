from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "oneforone.accounts"
    label = "accounts"
