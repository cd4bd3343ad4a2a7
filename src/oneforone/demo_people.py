"""The demo's collectors as people: identities with consent, code of conduct, training, protective equipment and incidents over the history, through the people actions."""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oneforone.demo import Demo, Timeline


def schedule(
    timeline: Timeline, rng: random.Random, demo: Demo, first_day: dt.date, today: dt.date
) -> None:
    """Put this part of the demo on the timeline (its own random stream keeps the rest as is)."""
