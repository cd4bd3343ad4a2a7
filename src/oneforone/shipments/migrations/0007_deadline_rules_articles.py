"""The shipped deadline rules name the article of Regulation (EU) 2024/1157 whose title covers
each obligation. Rows still carrying the first seeded source (no article) take the new one; a
source an operator edited is left alone."""

from django.db import migrations

WSR = "Regulation (EU) 2024/1157 on shipments of waste"
FIRST_SOURCES = {
    (
        "pre_shipment_information",
        "",
    ): f"{WSR} (prior information on the actual start of the shipment)",
    ("receipt_confirmation", ""): f"{WSR} (confirmation of receipt by the facility)",
    ("receipt_confirmation", "R12 R13"): f"{WSR} (confirmation of receipt by an interim facility)",
    ("completion_certificate", ""): f"{WSR} (certificate of completed recovery)",
    ("completion_certificate_outer", ""): f"{WSR} (certificate of completed recovery)",
    ("change_answer", ""): f"{WSR} (significant changes after consent)",
    ("take_back", ""): f"{WSR} (take-back when a shipment cannot be completed as intended)",
    ("consent_expiry", ""): f"{WSR} (validity of consent)",
    ("guarantee_expiry", ""): f"{WSR} (financial guarantee or equivalent insurance)",
}


def name_articles(apps, schema_editor):  # type: ignore[no-untyped-def]
    from oneforone.shipments.deadline_rules import DEFAULT_RULES

    DeadlineRule = apps.get_model("shipments", "DeadlineRule")
    for rule in DEFAULT_RULES:
        first = FIRST_SOURCES.get((rule.kind, rule.operations))
        DeadlineRule.objects.filter(
            kind=rule.kind,
            operations=rule.operations,
            export_country=rule.export_country,
            import_country=rule.import_country,
            valid_from__isnull=True,
            legal_source=first,
        ).update(legal_source=rule.legal_source)


class Migration(migrations.Migration):
    dependencies = [("shipments", "0006_merge_issue6")]

    operations = [migrations.RunPython(name_articles, migrations.RunPython.noop)]
