from decimal import Decimal

from django.db import migrations

# Monthly living wages, as published (DOMAIN.md section 4). Nigeria has no current benchmark:
# none is entered, so figures for it say "no benchmark" instead of guessing.
BENCHMARKS = [
    ("GH", "urban", 2024, "3609", "GHS", "Global Living Wage Coalition, urban Ghana 2024"),
    ("CM", "urban", 2024, "189860", "XAF", "Anker Research Institute, urban Cameroon 2024"),
    ("CM", "rural", 2024, "131224", "XAF", "Anker Research Institute, rural Cameroon 2024"),
    ("TZ", "urban", 2024, "482658", "TZS", "Anker Research Institute, urban Tanzania 2024"),
    ("RW", "rural", 2025, "217987", "RWF", "Anker Research Institute, rural Rwanda 2025"),
    (
        "KE",
        "urban",
        2023,
        "35518",
        "KES",
        "Global Living Wage Coalition (via The Standard), non-metropolitan urban Kenya 2023",
    ),
]


def add_benchmarks(apps, schema_editor):
    Benchmark = apps.get_model("collection", "LivingWageBenchmark")
    for country, area, year, amount, currency, source in BENCHMARKS:
        Benchmark.objects.create(
            country=country,
            area=area,
            year=year,
            monthly_amount=Decimal(amount),
            currency=currency,
            source=source,
        )


class Migration(migrations.Migration):
    dependencies = [("collection", "0003_lot_invariants")]

    operations = [migrations.RunPython(add_benchmarks, migrations.RunPython.noop)]
