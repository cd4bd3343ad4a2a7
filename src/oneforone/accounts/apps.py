from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "oneforone.accounts"
    label = "accounts"

    def ready(self) -> None:
        from oneforone.accounts import signals  # noqa: F401  (connects the receivers)
