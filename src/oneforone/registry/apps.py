from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "oneforone.registry"
    label = "registry"

    def ready(self) -> None:
        from oneforone.partners.signals import claims_withdrawn
        from oneforone.recycling.signals import treatment_completed
        from oneforone.registry import receivers

        treatment_completed.connect(
            receivers.issue_batch_on_treatment, dispatch_uid="registry.issue_batch"
        )
        claims_withdrawn.connect(
            receivers.release_surplus_on_withdrawn_claims, dispatch_uid="registry.release_surplus"
        )
