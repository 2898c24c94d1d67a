"""How fast is search-as-you-type with many customers? Prints figures; asserts nothing.

    .venv/bin/python services/customers/benchmarks/search_benchmark.py [--customers 100000] [--mongodb-url URL]

Without --mongodb-url it starts an embedded SecantusDB (the slowest engine the service runs on). Customers are
written in the service's own document format through its repository code path, in batches.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time

from customers.adapters.repository import CUSTOMERS, SEARCH_ENTRIES, SearchIndex, _to_document, ensure_indexes
from customers.domain.model import Customer, InvalidCustomer, SearchQuery
from customers.service_layer.unit_of_work import CustomersUnitOfWork
from trip_shared.mongo import MongoStore

# A mixed clientele: common first and family names of several languages (accents included), so that some
# two-letter name cells are crowded ("ma", "li") and others empty, as in a real agency's records.
FIRST = ["Ana", "Mei", "José", "Lin", "Sam", "Chloé", "Omar", "Priya", "Hiro", "Elena", "Wei", "Noah", "Zoë", "Ravi",
         "Maria", "Mark", "Marta", "Li", "Yan", "Fatima", "Ahmed", "Sofia", "Lucas", "Emma", "Olivia", "Liam", "Ingrid",
         "Björn", "Aiko", "Kenji", "Jun", "Xiu", "Hana", "Pedro", "Lucía", "Amara", "Kofi", "Nadia", "Ivan", "Olga"]
LAST = ["Lima", "Chen", "Núñez", "Wang", "Smith", "Dubois", "Haddad", "Sharma", "Sato", "Rossi", "Li", "Brown",
        "Zhang", "Liu", "Garcia", "Martin", "Müller", "Kim", "Nguyen", "Silva", "Khan", "Okafor", "Novak", "Ivanova",
        "Tanaka", "Jensen", "O'Brien", "Costa", "Moreau", "Yilmaz"]


def make_customer(rnd: random.Random, index: int) -> Customer:
    first = rnd.choice(FIRST) + ("" if rnd.random() < 0.5 else rnd.choice("abcdefghij"))
    last = rnd.choice(LAST) + rnd.choice(["", "son", "ova", "ez", "i", "er"]) + str(rnd.randint(0, 99))
    while True:  # not every random number is an allocated one, and the domain refuses those
        try:
            return Customer.register("bench", first, last_name=last, emails=[f"{first.lower()}.{index}@example.com"],
                                     phones=[f"+4479{rnd.randint(10_000_000, 99_999_999)}"])
        except InvalidCustomer:
            continue


async def run(customers: int, mongodb_url: str, clean_up: bool = True) -> None:
    store = MongoStore(mongodb_url, "search_benchmark")
    await store.client.drop_database("search_benchmark")
    await ensure_indexes(store.db)
    rnd = random.Random(7)
    started = time.perf_counter()
    batch, rows = [], []
    for index in range(customers):
        customer = make_customer(rnd, index)
        batch.append({**_to_document(customer), "tenant_id": "bench"})
        rows += [{**row, "tenant_id": "bench"} for row in SearchIndex.rows(customer)]
        if len(batch) == 1000 or index == customers - 1:
            await store.db[CUSTOMERS].insert_many(batch)
            await store.db[SEARCH_ENTRIES].insert_many(rows)
            batch, rows = [], []
    seconds = time.perf_counter() - started
    entries = await store.db[SEARCH_ENTRIES].count_documents({})
    print(f"seeded {customers} customers ({entries} search rows) in {seconds:.1f} s ({customers / seconds:.0f}/s)")

    async def search(query: str, include_inactive: bool = False) -> int:
        async def work(uow: CustomersUnitOfWork):
            return await uow.customers("bench").search(SearchQuery.parse(query), include_inactive=include_inactive,
                                                       limit=21, after=None)

        async with store.client.start_session() as session:
            return len(await work(CustomersUnitOfWork(store.db, session)))

    print(f"{'query':<24}{'hits':>6}{'median ms':>12}{'p95 ms':>10}")
    queries = [(query, False) for query in ("", "a", "ch", "li", "mei", "núñez", "chen3", "ana lima", "omar.12",
                                            "+44 79", "7911", "12345", "zzz")]
    for query, include_inactive in [*queries, ("a", True), ("+44 79", True)]:
        timings, hits = [], 0
        label = query + (" (+inactive)" if include_inactive else "")
        for _ in range(15):
            t = time.perf_counter()
            hits = await search(query, include_inactive)
            timings.append((time.perf_counter() - t) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"{label!r:<24}{hits:>6}{statistics.median(timings):>12.1f}{p95:>10.1f}")
    if clean_up:  # an embedded server's files are simply deleted: dropping 2.5M rows there takes minutes
        await store.client.drop_database("search_benchmark")
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--mongodb-url", default="")
    args = parser.parse_args()
    if args.mongodb_url:
        asyncio.run(run(args.customers, args.mongodb_url))
        return
    from trip_shared.embedded import start_mongodb

    # On disk: at 100k customers the rows outgrow the in-memory engine's cache (WT_CACHE_FULL).
    workdir = tempfile.mkdtemp(prefix="bench-")
    server = start_mongodb(storage_path=f"{workdir}/data", log_dir=workdir)
    try:
        asyncio.run(run(args.customers, server.url, clean_up=False))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
