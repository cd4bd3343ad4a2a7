from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings: pytest.FixtureRequest) -> None:
    """Background tasks run immediately (after commit) in tests."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}  # type: ignore[attr-defined]
