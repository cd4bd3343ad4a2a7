from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "oneforone.registry"
    label = "registry"

    def ready(self) -> None:
        from oneforone.recycling.signals import treatment_completed
        from oneforone.registry.receivers import issue_batch_on_treatment

        treatment_completed.connect(issue_batch_on_treatment, dispatch_uid="registry.issue_batch")
