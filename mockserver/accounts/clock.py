"""Time for keys and the ledger: the current UTC time, RFC 3339 in and out, the calendar month."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable

Clock = Callable[[], dt.datetime]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


def utc_now(_now=dt.datetime.now, _utc=dt.UTC) -> dt.datetime:  # noqa: B008  (bound once: called per call)
    return _now(_utc)


def parse_datetime(text: str) -> dt.datetime | None:
    """An RFC 3339 date-time as an aware UTC datetime, or None when ``text`` is not one.

    A leap second (``:60``) counts as the last microsecond of its minute; dates
    outside Python's range (year 0, offsets past year 9999) are clamped to it.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zulu, sign, off_hours, off_minutes = match.groups()[6:]
    if not (1 <= month <= 12 and hour <= 23 and minute <= 59 and second <= 60):
        return None
    if not 1 <= day <= calendar.monthrange(year or 2000, month)[1]:
        return None
    offset_minutes = 0
    if not zulu:
        if int(off_hours) > 23 or int(off_minutes) > 59:
            return None
        offset_minutes = (int(off_hours) * 60 + int(off_minutes)) * (1 if sign == "+" else -1)
    if year == 0:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if second == 60:
        second, micro = 59, 999_999
    local = dt.datetime(year, month, day, hour, minute, second, micro)
    try:
        return (local - dt.timedelta(minutes=offset_minutes)).replace(tzinfo=dt.UTC)
    except OverflowError:
        return (dt.datetime.min if offset_minutes > 0 else dt.datetime.max).replace(tzinfo=dt.UTC)


def format_datetime(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with ``Z``; microseconds only when there are some."""
    moment = moment.astimezone(dt.UTC)
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds").replace("+00:00", "Z")


def month_of(moment: dt.datetime) -> str:
    """The UTC calendar month (``2026-11``) a moment falls in: the period of a spending limit."""
    if moment.tzinfo is not dt.UTC:
        moment = moment.astimezone(dt.UTC)
    return f"{moment.year:04d}-{moment.month:02d}"
