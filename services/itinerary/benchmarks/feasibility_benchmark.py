"""How long do the feasibility and pacing checks take on a big trip? Prints figures; asserts nothing.

    .venv/bin/python services/itinerary/benchmarks/feasibility_benchmark.py [--days 30] [--items 500]

A trip of ``--days`` days across three time zones, ``--items`` items spread over them (activities, dining,
transfers with coordinates, a hotel per city, flights between cities), checked the way GET /feasibility does.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, datetime, timedelta

from itinerary.domain.model import Itinerary

CITIES = [("Europe/Paris", 48.8566, 2.3522), ("Asia/Tokyo", 35.6762, 139.6503),
          ("America/New_York", 40.7128, -74.0060)]


def build(days: int, items: int) -> Itinerary:
    rnd = random.Random(11)
    start = date(2027, 5, 1)
    itinerary = Itinerary.draft("bench", "Round the world", start, start + timedelta(days=days - 1))
    per_city = days // len(CITIES)
    for index, (zone, _lat, _lon) in enumerate(CITIES):
        first = start + timedelta(days=index * per_city)
        itinerary.add_item({"kind": "accommodation", "title": f"Hotel {zone}", "timezone": zone,
                            "start": f"{first}T15:00", "end": f"{first + timedelta(days=per_city - 1)}T11:00"})
    while len(itinerary.items) < items:
        day = rnd.randrange(days)
        zone, lat, lon = CITIES[min(day // per_city, len(CITIES) - 1)]
        begins = datetime.combine(start + timedelta(days=day), datetime.min.time()) + timedelta(
            hours=rnd.randint(7, 20), minutes=rnd.choice((0, 15, 30, 45)))
        kind = rnd.choice(("activity", "activity", "dining", "event", "transfer"))
        place = {"address": "somewhere", "lat": lat + rnd.uniform(-0.1, 0.1), "lon": lon + rnd.uniform(-0.1, 0.1)}
        ends = begins + timedelta(minutes=rnd.choice((30, 60, 90, 120)))
        itinerary.add_item({"kind": kind, "title": f"{kind} {len(itinerary.items)}", "timezone": zone,
                            "start": begins.isoformat(), "end": ends.isoformat(), "location": place,
                            "cost": {"amount": rnd.randint(10, 300), "currency": "EUR"}})
    return itinerary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--items", type=int, default=500)
    args = parser.parse_args()
    itinerary = build(args.days, args.items)
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        findings = itinerary.feasibility("standard")
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(f"{args.days} days, {len(itinerary.items)} items: {len(findings)} findings; "
          f"check median {statistics.median(timings):.1f} ms, worst {timings[-1]:.1f} ms")


if __name__ == "__main__":
    main()
