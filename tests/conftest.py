from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from factories import World, make_world
from oneforone.collection.countries import COUNTRIES
from oneforone.collection.models import Country, LivingWageBenchmark
from oneforone.impact.models import Factor, MethodologyVersion, Rule
from oneforone.impact.seed import load_2026_1
from oneforone.shipments.codes import ensure_code_lists
from oneforone.shipments.deadline_models import DeadlineRule
from oneforone.shipments.deadline_rules import ensure_deadline_rules
from oneforone.shipments.models import Code

BENCHMARKS = importlib.import_module(
    "oneforone.collection.migrations.0004_living_wage_benchmarks"
).BENCHMARKS


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings: pytest.FixtureRequest) -> None:
    """Background tasks run immediately (after commit) in tests."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _each_test_starts_in_english() -> None:
    """A page requested in Dutch or French leaves that language active in the thread (Django's
    LocaleMiddleware activates it and nothing resets it); money and names would follow it into
    the next test."""
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    """Members get passwords through the real action; hashing them slowly proves nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _countries_outlive_flushes(django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    """A transactional test ends with a flush that empties every table, also the countries the
    migrations seeded; put them back before each test, so every test finds them."""
    with django_db_blocker.unblock():
        if not Country.objects.exists():
            Country.objects.bulk_create(
                Country(code=code, name=name, currency=currency, timezone=zone)
                for code, name, currency, zone in COUNTRIES
            )


@pytest.fixture(autouse=True)
def _code_lists_outlive_flushes(django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    """The code lists the migrations seeded, put back after a transactional test's flush."""
    with django_db_blocker.unblock():
        if not Code.objects.exists():
            ensure_code_lists()


@pytest.fixture(autouse=True)
def _deadline_rules_outlive_flushes(django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    """The deadline rules the migrations seeded, put back after a transactional test's flush."""
    with django_db_blocker.unblock():
        if not DeadlineRule.objects.exists():
            ensure_deadline_rules()


@pytest.fixture(autouse=True)
def _methodology_outlives_flushes(django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    """Methodology version 2026.1 and the living-wage benchmarks the migrations seeded, put back
    after a transactional test's flush."""
    with django_db_blocker.unblock():
        if not MethodologyVersion.objects.exists():
            load_2026_1(MethodologyVersion, Factor, Rule, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        if not LivingWageBenchmark.objects.exists():
            LivingWageBenchmark.objects.bulk_create(
                LivingWageBenchmark(
                    country=country,
                    area=area,
                    year=year,
                    monthly_amount=Decimal(amount),
                    currency=currency,
                    source=source,
                )
                for country, area, year, amount, currency, source in BENCHMARKS
            )


@pytest.fixture
def world(db: None) -> World:
    """An operator, a partner, a collection partner with a hub and a collector, a carrier and a
    recycler, each with a writing member."""
    return make_world()


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_teardown(django_db_setup: None, django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The live server's request threads keep their connections (CONN_MAX_AGE) after the
    threads end; close them so the test database can be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
