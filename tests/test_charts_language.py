"""The SVG charts write their figures the way the reader's language writes numbers."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from factories import World
from oneforone.core.charts import Bar, StackedRow, horizontal_bars, line_series, stacked_bars

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures reseed reference data


def _bars() -> str:
    return str(horizontal_bars([Bar("Accra", 1234), Bar("Lagos", 567)], title="Phones"))


def test_a_chart_groups_thousands_as_the_active_language_does() -> None:
    with translation.override("en"):
        assert ">1,234</text>" in _bars()
    with translation.override("nl"):
        assert ">1.234</text>" in _bars()
    with translation.override("fr"):
        assert ">1\xa0234</text>" in _bars()


def test_every_kind_of_chart_follows_the_language() -> None:
    with translation.override("nl"):
        stacked = str(
            stacked_bars(
                [StackedRow("Partner", [12345, 0], "12.345 wachtend")],
                [("Toegewezen", "#000"), ("Wachtend", "#999")],
                title="Eenheden",
            )
        )
        lines = str(line_series(["jan", "feb"], [("GH", [1500, 2500])], title="Telefoons"))

    assert "Partner Toegewezen: 12.345</title>" in stacked
    assert "12,345" not in stacked
    assert ">2.500</text>" in lines  # the axis' peak


@pytest.mark.parametrize(
    ("language", "stage", "title"),
    [
        ("nl", ">In de hubs</text>", "Telefoons in de pijplijn per fase"),
        ("fr", ">Dans les centres</text>", "Téléphones dans la filière par étape"),
    ],
)
def test_the_dashboard_charts_are_labelled_in_the_readers_language(
    world: World, client: Client, language: str, stage: str, title: str
) -> None:
    client.force_login(world.operator_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    page = client.get(reverse("dashboard")).content.decode()

    assert stage in page
    assert f"<title>{title}</title>" in page
