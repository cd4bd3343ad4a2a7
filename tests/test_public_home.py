"""The public home page: the service's live totals from the methodology figures and the registry,
its milestones, and the ways in (calculator, registry search, verification, methodology); one
query per figure when the cache is cold, none when it is warm."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from factories import World, register, treated_consignment
from oneforone.registry import actions as registry_actions
from oneforone.registry.models import IssuanceBatch
from oneforone.reporting import home

Capture = Callable[..., Any]
# The figures' queries: the methodology version, the units in scope, the impact figures, the
# registry totals, the countries and the milestones.
FIGURE_QUERIES = 6


@pytest.fixture(autouse=True)
def _cold_cache() -> None:
    cache.clear()


def issue(world: World, capture: Capture, phones: int, weight: str) -> None:
    """A batch issued at treatment; its impact figures are computed once that commits."""
    with capture(execute=True):
        treated_consignment(world, intakes=(phones,), weight=Decimal(weight))


def text_of(client: Client, **headers: str) -> str:
    body = client.get(reverse("home"), headers=headers).content.decode()
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def test_the_totals_come_from_the_methodology_figures_and_the_registry(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    issue(world, django_capture_on_commit_callbacks, 600, "33.000")  # GHS 0.50 a phone
    issue(world, django_capture_on_commit_callbacks, 500, "27.500")
    register(world, quantity=700)
    registry_actions.allocate(actor=world.operator_user)

    figures = home.home_figures("en")
    assert figures.phones == 1100
    assert figures.tonnes == Decimal("0.0605")  # 33.0 + 27.5 kg weighed at reception
    assert figures.countries == [("GH", "Ghana", 1100)]
    # 1,100 phones x GHS 0.50 = GHS 550 paid, over GHS 3,609 a month
    assert figures.living_wage_months == (Decimal(550) / Decimal(3609)).quantize(
        Decimal("0.000001")
    )
    assert figures.devices_compensated == 700

    page = client.get(reverse("home")).content.decode()
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "1,100 end-of-life phones collected in 1 country" in text
    assert "0.061 t e-waste kept from dumpsites" in text
    assert "0 living-wage months" in text
    assert "700 devices compensated" in text
    methodology = reverse("methodology-version", args=[1])
    assert (
        f'<a class="drill" href="{methodology}"><div class="value" data-testid="total-tonnes">'
        in page
    )
    assert (
        f'<a class="drill" href="{reverse("registry")}"><div class="value" data-testid="total-phones">'
        in page
    )
    # The ways in: the calculator, registry search, certificate and device verification.
    assert f'action="{reverse("calculator")}"' in page
    assert f'action="{reverse("registry")}"' in page
    assert f'action="{reverse("verify-search")}"' in page
    assert f'href="{reverse("verify-device")}"' in page
    assert f'href="{reverse("methodology")}"' in page


def test_countries_are_named_in_the_page_language(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    issue(world, django_capture_on_commit_callbacks, 10, "0.550")
    assert home.home_figures("nl").countries == [("GH", "Ghana", 10)]
    assert home.country_name("CM", "nl") == "Kameroen"
    assert home.country_name("CM", "fr") == "Cameroun"


def issue_600_in_march_and_500_in_april(world: World, capture: Capture) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)):
        issue(world, capture, 600, "33.000")
    with time_machine.travel(dt.datetime(2026, 4, 7, 10, tzinfo=dt.UTC)):
        issue(world, capture, 500, "27.500")


def test_milestones_are_dated_from_the_cumulative_batches(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    issue_600_in_march_and_500_in_april(world, django_capture_on_commit_callbacks)

    milestones = home.milestones()
    # 600 on 2 March, 600 + 500 = 1,100 on 7 April: 1,000 was reached then.
    assert milestones.reached == [home.Milestone(1000, dt.date(2026, 4, 7))]
    assert milestones.next == home.Milestone(10_000, None)
    assert milestones.phones == 1100
    assert milestones.progress_percent == Decimal("11.0")


def test_cancelled_units_count_against_the_milestones(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    issue_600_in_march_and_500_in_april(world, django_capture_on_commit_callbacks)
    with time_machine.travel(dt.datetime(2026, 5, 4, 10, tzinfo=dt.UTC)):
        batch = IssuanceBatch.objects.earliest("issued_at")
        registry_actions.cancel_units(
            actor=world.operator_user,
            batch=batch,
            first=batch.units.lower,
            last=batch.units.lower + 199,
            reason="count_corrected",
            explanation="the recycler recounted",
        )

    # 1,100 - 200 = 900 phones: the milestone reached on 7 April is no longer reached, and the
    # progress is the headline's figure.
    milestones = home.milestones()
    assert milestones.reached == []
    assert milestones.phones == 900 == home.home_figures("en").phones
    assert milestones.progress_percent == Decimal("90.0")

    # 900 + 300 = 1,200 on 1 June: reached again, dated from that day.
    with time_machine.travel(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)):
        issue(world, django_capture_on_commit_callbacks, 300, "16.500")
    milestones = home.milestones()
    assert milestones.reached == [home.Milestone(1000, dt.date(2026, 6, 1))]
    assert milestones.phones == 1200


def test_one_query_per_figure_cold_and_none_warm(
    world: World,
    client: Client,
    django_capture_on_commit_callbacks: Capture,
    django_assert_num_queries: Capture,
) -> None:
    issue(world, django_capture_on_commit_callbacks, 60, "3.300")
    with django_assert_num_queries(FIGURE_QUERIES):
        cold = client.get(reverse("home"))
    with django_assert_num_queries(0):
        warm = client.get(reverse("home"))
    figures = cache.get(home.CACHE_KEY.format(language="en"))
    assert figures in cold.content.decode()
    assert figures in warm.content.decode()

    # More batches, countries and registrations do not add queries.
    issue(world, django_capture_on_commit_callbacks, 40, "2.200")
    register(world, quantity=30)
    registry_actions.allocate(actor=world.operator_user)
    cache.clear()
    with django_assert_num_queries(FIGURE_QUERIES):
        client.get(reverse("home"))


def test_the_cache_is_kept_per_language_for_a_minute(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    issue(world, django_capture_on_commit_callbacks, 60, "3.300")
    assert "60 end-of-life phones" in text_of(client)
    issue(world, django_capture_on_commit_callbacks, 40, "2.200")
    assert "60 end-of-life phones" in text_of(client)  # still the cached figures
    assert cache.get(home.CACHE_KEY.format(language="en")) is not None
    assert cache.get(home.CACHE_KEY.format(language="nl")) is None
    text_of(client, accept_language="nl")
    assert cache.get(home.CACHE_KEY.format(language="nl")) is not None
    assert home.CACHE_SECONDS == 60

    cache.delete(home.CACHE_KEY.format(language="en"))
    assert "100 end-of-life phones" in text_of(client)
