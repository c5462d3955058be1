"""The schedules `reviews serve` registers: five-field crons in the machine's time zone, as crontab reads them."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from flows.errors import ReviewsError

if TYPE_CHECKING:
    from prefect.schedules import Schedule


def schedule_timezone() -> tuple[str | None, str | None]:
    """The IANA zone cron expressions mean (the machine's local time, as in crontab; None is UTC), and a
    warning when TZ is set to something that is no zone name (a POSIX rule such as `CET-1CEST,M3.5.0,...`)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        from tzlocal import get_localzone_name

        zone = get_localzone_name()
    except Exception:  # no determinable zone: Prefect's default, UTC
        zone = None
    asked = os.environ.get("TZ", "").removeprefix(":")
    if not asked or asked == zone or (asked.startswith("/") and zone):  # a zone file's path: tzlocal reads it
        return zone, None
    try:  # tzlocal falls back to the system's zone for a TZ it does not take, such as EST5EDT
        ZoneInfo(asked)
        return asked, None
    except (ZoneInfoNotFoundError, ValueError):
        return zone, (f"warning: TZ={asked!r} is no time zone name (such as America/New_York); the schedules "
                      f"are in {zone or 'UTC'}")


def cron_schedule(expression: str, where: str, timezone: str | None) -> Schedule:
    from prefect.schedules import Cron

    from flows.config import valid_cron

    if not valid_cron(expression):  # five fields: Prefect would read a sixth as seconds
        raise ReviewsError(f"{where}: {expression!r} is not a valid cron expression (five fields: minute hour "
                           "day-of-month month day-of-week)")
    try:
        return Cron(expression, timezone=timezone)
    except ValueError as exc:
        raise ReviewsError(f"{where}: {expression!r} is not a valid cron expression ({exc})") from None
