"""When counsellors answer live (content/settings.yml, `counsellors`), in Paris time."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DAY_NAMES = {
    "fr": DAYS,
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
CLOSED_WORDS = ("fermé", "ferme", "closed", "")
RANGE = re.compile(r"^\s*([01]\d|2[0-4]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)\s*$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Hours:
    timezone: str = "Europe/Paris"
    # weekday (0 = Monday) -> [(start minute, end minute)]
    week: Dict[int, List[Tuple[int, int]]] = field(default_factory=dict)
    closed_dates: List[str] = field(default_factory=list)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def ranges_on(self, day: dt.date) -> List[Tuple[int, int]]:
        if day.isoformat() in self.closed_dates:
            return []
        return self.week.get(day.weekday(), [])

    def is_open(self, now: dt.datetime) -> bool:
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.ranges_on(local.date()))

    def next_opening(self, now: dt.datetime) -> Optional[dt.datetime]:
        """The next time counsellors start answering (None if never in the next two weeks)."""
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        for offset in range(15):
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in sorted(self.ranges_on(day)):
                if offset == 0 and start <= minute:
                    continue
                return dt.datetime.combine(day, dt.time(start // 60, start % 60), tzinfo=self.zone)
        return None


def current_hours() -> Hours:
    """The counsellors' hours in the content served now; closed all week if the content
    never loaded (then nobody is promised a quick answer)."""
    from bot.content_store import shared_store

    snapshot = shared_store().snapshot()
    hours = (snapshot.settings if snapshot else {}).get("counsellor_hours")
    return hours if isinstance(hours, Hours) else Hours()


def parse_ranges(text: Any) -> Optional[List[Tuple[int, int]]]:
    """'09:00-12:00, 14:00-23:00' -> [(540, 720), (840, 1380)]; None if malformed."""
    if text is None or (isinstance(text, str) and text.strip().lower() in CLOSED_WORDS):
        return []
    if not isinstance(text, str):
        return None
    ranges = []
    for part in text.split(","):
        match = RANGE.match(part)
        if not match:
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start or end > 24 * 60:
            return None
        ranges.append((start, end))
    return ranges


def check_hours(data: Any, report) -> Hours:  # noqa: ANN001  (report(path, message))
    """Read `counsellors` from settings.yml; problems go to `report` in French."""
    hours = Hours()
    if not isinstance(data, dict):
        report(("counsellors",), "la rubrique counsellors (horaires des écoutant·es) manque ou n'est pas une liste de champs")
        return hours
    zone = data.get("timezone", "Europe/Paris")
    try:
        ZoneInfo(str(zone))
        hours.timezone = str(zone)
    except (ZoneInfoNotFoundError, ValueError):
        report(("counsellors", "timezone"), f"fuseau horaire inconnu « {zone} » (écrivez Europe/Paris)")
    week = data.get("hours")
    if not isinstance(week, dict):
        report(("counsellors", "hours"), "indiquez les horaires de chaque jour (lundi: \"09:00-23:00\")")
        week = {}
    for name in week:
        if name not in DAYS:
            report(("counsellors", "hours", name), f"« {name} » n'est pas un jour (lundi … dimanche, en minuscules)")
    for index, name in enumerate(DAYS):
        ranges = parse_ranges(week.get(name))
        if ranges is None:
            report(("counsellors", "hours", name), f"horaire illisible « {week.get(name)} » : écrivez par exemple \"09:00-23:00\" ou \"fermé\"")
            ranges = []
        hours.week[index] = ranges
    dates = data.get("closed_dates") or []
    if not isinstance(dates, list):
        report(("counsellors", "closed_dates"), "closed_dates doit être une liste de dates AAAA-MM-JJ")
        dates = []
    for i, value in enumerate(dates):
        if not isinstance(value, str) or not DATE.match(value):
            report(("counsellors", "closed_dates", i), f"date « {value} » : écrivez AAAA-MM-JJ, par exemple \"2026-12-25\"")
        else:
            hours.closed_dates.append(value)
    return hours


def describe_opening(when: Optional[dt.datetime], now: dt.datetime, language: str) -> str:
    """'demain à 9h', 'aujourd'hui à 14h30', 'lundi à 9h' (or the English)."""
    if when is None:
        return "bientôt" if language == "fr" else "soon"
    local_now = now.astimezone(when.tzinfo)
    days = (when.date() - local_now.date()).days
    if language == "fr":
        clock = f"{when.hour}h" + (f"{when.minute:02d}" if when.minute else "")
        day = "aujourd'hui" if days == 0 else "demain" if days == 1 else DAY_NAMES["fr"][when.weekday()]
        return f"{day} à {clock}"
    hour12 = when.hour % 12 or 12
    clock = f"{hour12}" + (f":{when.minute:02d}" if when.minute else "") + ("am" if when.hour < 12 else "pm")
    day = "today" if days == 0 else "tomorrow" if days == 1 else DAY_NAMES["en"][when.weekday()]
    return f"{day} at {clock}"
