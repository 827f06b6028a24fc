"""Timeliness of entry: business days from the contact to the entry, skipping US federal holidays."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays

from notecheck.detectors import Hit
from notecheck.policy import LateEntry

RULE = "timeliness.late_entry.business_days"


@cache
def _federal_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("US", years=[year, year + 1])


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days after `start` up to and including `end` (0 when entered the same or the next non-business day)."""
    if end <= start:
        return 0
    days, current = 0, start
    while current < end:
        current += dt.timedelta(days=1)
        if is_business_day(current):
            days += 1
    return days


def limit_for(rule: LateEntry, title: str | None) -> int:
    if title:
        lowered = title.lower()
        for keyword, days in rule.title_overrides.items():
            if keyword.lower() in lowered.split() or (len(keyword) > 3 and keyword.lower() in lowered):
                return days
    return rule.business_days


def late_entry(contact_date: dt.date | None, entered_at: dt.datetime | None, rule: LateEntry | None,
               title: str | None = None) -> list[Hit]:  # fmt: skip
    if rule is None or rule.severity == "off" or contact_date is None or entered_at is None:
        return []
    limit = limit_for(rule, title)
    elapsed = business_days_between(contact_date, entered_at.date())
    if elapsed <= limit:
        return []
    return [
        Hit("timeliness", "late_entry", RULE, None, None, 1.0,
            f"Entered {elapsed} business days after the contact; the policy allows {limit}.", rule.ref)
    ]  # fmt: skip
