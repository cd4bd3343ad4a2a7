"""The demo's money: price caps, handling-fee rates, exchange rates, paydays for collectors and handling fees to the collection partners, through the payment actions."""

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
