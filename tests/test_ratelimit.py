"""The rate limiter: a fixed window per client and scope, counted atomically in PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.checks import Error
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from ninja import NinjaAPI
from ninja.decorators import decorate_view

from oneforone.core import ratelimit
from oneforone.core.models import RateLimitHit
from oneforone.core.ratelimit import (
    RateLimitDecision,
    check_rate_limits,
    client_ip,
    hit,
    parse_rate,
    purge_expired,
    rate_limited,
)

MINUTE = timedelta(minutes=1)
NOON = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOON + timedelta(seconds=15), tick=False) as traveller:
        yield traveller


# Counting


@pytest.mark.django_db
def test_a_client_gets_its_limit_then_is_refused_until_the_next_window(
    clock: time_machine.Coordinates,
) -> None:
    decisions = [hit("verify-device:203.0.113.7", limit=30, window=MINUTE) for _ in range(31)]

    assert [d.allowed for d in decisions] == [True] * 30 + [False]
    assert [d.remaining for d in decisions[:30]] == list(range(29, -1, -1))
    assert decisions[-1] == RateLimitDecision(allowed=False, remaining=0, retry_after_seconds=45)

    clock.move_to(NOON + timedelta(seconds=59.2))
    refused = hit("verify-device:203.0.113.7", limit=30, window=MINUTE)
    assert refused.retry_after_seconds == 1

    clock.move_to(NOON + MINUTE)
    assert hit("verify-device:203.0.113.7", limit=30, window=MINUTE) == RateLimitDecision(
        allowed=True, remaining=29, retry_after_seconds=0
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("clock")
def test_clients_and_scopes_are_counted_apart() -> None:
    for _ in range(3):
        hit("verify-device:203.0.113.7", limit=3, window=MINUTE)

    assert not hit("verify-device:203.0.113.7", limit=3, window=MINUTE).allowed
    assert hit("verify-device:203.0.113.8", limit=3, window=MINUTE).allowed
    assert hit("login:203.0.113.7", limit=3, window=MINUTE).allowed


@pytest.mark.django_db
@pytest.mark.usefixtures("clock")
def test_windows_are_aligned_to_the_clock_and_stored_one_row_per_bucket() -> None:
    for _ in range(5):
        hit("report:a", limit=100, window=timedelta(hours=1))

    row = RateLimitHit.objects.get()
    assert (row.bucket, row.hits) == ("report:a", 5)
    assert row.window_start == NOON
    assert row.window_end == NOON + timedelta(hours=1)


@pytest.mark.django_db
@pytest.mark.usefixtures("clock")
def test_a_limit_of_zero_refuses_everything() -> None:
    assert hit("closed:a", limit=0, window=MINUTE) == RateLimitDecision(
        allowed=False, remaining=0, retry_after_seconds=45
    )


@pytest.mark.django_db
def test_a_limit_must_be_sensible() -> None:
    with pytest.raises(ValueError, match="limit must be 0 or more"):
        hit("a", limit=-1, window=MINUTE)
    with pytest.raises(ValueError, match="window must be at least a second"):
        hit("a", limit=1, window=timedelta(milliseconds=500))
    with pytest.raises(ValueError, match="window must be at least a second"):
        rate_limited("a", limit=1, window=timedelta(0))


@pytest.mark.django_db
@pytest.mark.usefixtures("clock")
def test_a_very_long_bucket_is_stored_hashed_and_still_counted() -> None:
    bucket = "login:" + "x" * 5000
    hit(bucket, limit=1, window=MINUTE)

    assert not hit(bucket, limit=1, window=MINUTE).allowed
    assert not hit(bucket, limit=1, window=MINUTE).allowed
    stored = RateLimitHit.objects.get().bucket
    assert len(stored) == 100 + 1 + 64
    assert hit(bucket[:-1] + "y", limit=1, window=MINUTE).allowed


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clock")
def test_counting_works_in_autocommit_and_inside_a_transaction() -> None:
    assert hit("a:1", limit=2, window=MINUTE).allowed
    with transaction.atomic():
        assert hit("a:1", limit=2, window=MINUTE).allowed
        assert not hit("a:1", limit=2, window=MINUTE).allowed
    assert RateLimitHit.objects.get().hits == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clock")
def test_parallel_hits_on_separate_connections_allow_exactly_the_limit() -> None:
    clients, limit = 40, 25
    barrier = threading.Barrier(clients)
    decisions: list[RateLimitDecision] = []
    errors: list[BaseException] = []

    def request() -> None:
        try:
            barrier.wait(timeout=10)
            decisions.append(hit("verify-device:198.51.100.1", limit=limit, window=MINUTE))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(decisions) == clients
    assert sum(d.allowed for d in decisions) == limit
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(limit))
    assert RateLimitHit.objects.get().hits == clients


# Cleanup


@pytest.mark.django_db
def test_purging_deletes_the_windows_that_ended_and_keeps_the_others(
    clock: time_machine.Coordinates,
) -> None:
    hit("a:minute", limit=5, window=MINUTE)
    hit("a:hour", limit=5, window=timedelta(hours=1))
    clock.move_to(NOON + MINUTE)
    hit("a:minute", limit=5, window=MINUTE)

    assert purge_expired(NOON + MINUTE) == 1
    assert sorted(RateLimitHit.objects.values_list("bucket", "window_start")) == [
        ("a:hour", NOON),
        ("a:minute", NOON + MINUTE),
    ]
    assert purge_expired(NOON + MINUTE) == 0


@pytest.mark.django_db
def test_purging_goes_through_a_backlog_in_batches(
    clock: time_machine.Coordinates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "PURGE_BATCH", 3)
    for client in range(7):
        hit(f"a:{client}", limit=5, window=MINUTE)

    assert purge_expired(NOON + MINUTE) == 7
    assert not RateLimitHit.objects.exists()


@pytest.mark.django_db
def test_now_and_then_a_hit_purges_ended_windows(
    clock: time_machine.Coordinates, monkeypatch: pytest.MonkeyPatch
) -> None:
    hit("a:old", limit=5, window=MINUTE)
    clock.move_to(NOON + 2 * MINUTE)
    monkeypatch.setattr(ratelimit, "PURGE_ONE_IN", 1)

    hit("a:new", limit=5, window=MINUTE)

    assert list(RateLimitHit.objects.values_list("bucket", flat=True)) == ["a:new"]


# Client addresses


def request_from(remote_addr: str = "192.0.2.10", forwarded_for: str | None = None) -> HttpRequest:
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, headers=headers)


def test_the_client_is_the_remote_address() -> None:
    assert client_ip(request_from("192.0.2.10")) == "192.0.2.10"


def test_x_forwarded_for_is_ignored_unless_trusted(settings: Any) -> None:
    assert settings.TRUST_X_FORWARDED_FOR is False
    assert client_ip(request_from("192.0.2.10", "203.0.113.7")) == "192.0.2.10"


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.7, 10.0.0.1, 10.0.0.2", "203.0.113.7"),
        (" 2001:DB8::1 ,10.0.0.1", "2001:db8::1"),
        ("", "192.0.2.10"),
        ("not-an-address, 10.0.0.1", "192.0.2.10"),
    ],
)
def test_behind_a_trusted_proxy_the_client_is_the_first_forwarded_address(
    settings: Any, forwarded_for: str, client: str
) -> None:
    settings.TRUST_X_FORWARDED_FOR = True
    assert client_ip(request_from("192.0.2.10", forwarded_for)) == client


# Configured rates


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("30/minute", (30, MINUTE)),
        ("5/second", (5, timedelta(seconds=1))),
        ("100/hour", (100, timedelta(hours=1))),
        ("1000/day", (1000, timedelta(days=1))),
        ("10/15minutes", (10, timedelta(minutes=15))),
        (" 10 / 15 minutes ", (10, timedelta(minutes=15))),
        ("0/minute", (0, MINUTE)),
    ],
)
def test_a_rate_is_a_count_per_period(rate: str, parsed: tuple[int, timedelta]) -> None:
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "30", "30/", "30/fortnight", "-1/minute", "30/0minutes"])
def test_a_rate_that_is_not_understood_says_what_is_expected(rate: str) -> None:
    with pytest.raises(ValueError, match=r"expected a count per period, e\.g\. 30/minute"):
        parse_rate(rate)


def test_a_misconfigured_rate_fails_the_system_check(settings: Any) -> None:
    settings.RATE_LIMITS = {"verify-device": "30 a minute"}
    assert check_rate_limits() == [
        Error(
            "RATE_LIMITS['verify-device']: rate '30 a minute' is not understood: "
            "expected a count per period, e.g. 30/minute, 100/hour or 10/15minutes",
            id="oneforone.E001",
        )
    ]
    settings.RATE_LIMITS = {"verify-device": "30/minute"}
    assert check_rate_limits() == []


# The decorator, on a page and on an API operation


calls: list[str] = []


@rate_limited("test-page", limit=2, window=MINUTE)
def page(request: HttpRequest) -> HttpResponse:
    """A page."""
    calls.append("page")
    return HttpResponse("the page")


@rate_limited("test-per-user", limit=1, window=MINUTE, key=lambda r: r.GET.get("user", ""))
def per_user(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


api = NinjaAPI(urls_namespace="ratelimit-test")


@api.get("/echo")
@decorate_view(rate_limited("test-api", limit=2, window=MINUTE))
def echo(request: HttpRequest, word: str) -> dict[str, str]:
    calls.append("api")
    return {"word": word}


urlpatterns = [
    path("page", page),
    path("per-user", per_user),
    path("api/test/", api.urls),
]


@pytest.fixture
def browser(clock: time_machine.Coordinates, db: None) -> Client:
    calls.clear()
    return Client(REMOTE_ADDR="203.0.113.7")


@pytest.mark.urls(__name__)
def test_a_page_past_its_limit_answers_429_saying_when_to_try_again(browser: Client) -> None:
    assert browser.get("/page").status_code == 200
    assert browser.get("/page").status_code == 200
    refused = browser.get("/page")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"
    assert refused["Content-Type"] == "text/html; charset=utf-8"
    assert "Too many requests: please try again in 45 seconds." in refused.content.decode()
    assert calls == ["page", "page"], "the view is not called when refused"


@pytest.mark.urls(__name__)
def test_another_client_still_gets_the_page(browser: Client) -> None:
    for _ in range(3):
        browser.get("/page")
    assert Client(REMOTE_ADDR="203.0.113.8").get("/page").status_code == 200


@pytest.mark.urls(__name__)
def test_an_api_operation_past_its_limit_answers_429_in_json(browser: Client) -> None:
    assert browser.get("/api/test/echo?word=hi").json() == {"word": "hi"}
    assert browser.get("/api/test/echo?word=hi").status_code == 200
    refused = browser.get("/api/test/echo?word=hi")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"
    assert refused.json() == {
        "code": "rate_limited",
        "message": "Too many requests: please try again in 45 seconds.",
        "errors": [],
        "retry_after": 45,
    }
    assert calls == ["api", "api"]


@pytest.mark.urls(__name__)
def test_the_decorated_api_operation_keeps_its_parameters(browser: Client) -> None:
    assert browser.get("/api/test/echo").status_code == 422
    schema = browser.get("/api/test/openapi.json").json()
    assert schema["paths"]["/api/test/echo"]["get"]["parameters"][0]["name"] == "word"


@pytest.mark.urls(__name__)
def test_the_settings_override_a_scope_limit(browser: Client, settings: Any) -> None:
    settings.RATE_LIMITS = {"test-page": "1/hour"}
    assert browser.get("/page").status_code == 200
    refused = browser.get("/page")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(59 * 60 + 45)
    assert "please try again in 60 minutes." in refused.content.decode()


@pytest.mark.urls(__name__)
def test_a_key_function_chooses_who_is_counted(browser: Client) -> None:
    assert browser.get("/per-user?user=ama").status_code == 200
    assert browser.get("/per-user?user=ama").status_code == 429
    assert browser.get("/per-user?user=kofi").status_code == 200


def test_the_decorated_view_keeps_its_name_and_documentation() -> None:
    assert page.__name__ == "page"
    assert page.__doc__ == "A page."


def test_an_async_view_is_refused_at_decoration() -> None:
    async def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    with pytest.raises(TypeError, match="sync views only"):
        rate_limited("a", limit=1, window=MINUTE)(view)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "1 second"),
        (45, "45 seconds"),
        (119, "119 seconds"),
        (121, "3 minutes"),
        (7199, "120 minutes"),
        (7200, "2 hours"),
        (86400, "24 hours"),
    ],
)
def test_the_wait_is_said_in_seconds_minutes_or_hours(seconds: int, text: str) -> None:
    response = ratelimit.too_many_requests(RequestFactory().get("/x"), seconds)
    assert f"please try again in {text}." in response.content.decode()
