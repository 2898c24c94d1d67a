"""MongoDB persistence of customers, their history and consultations, always within one tenant."""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from datetime import date, datetime
from operator import itemgetter

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from customers.domain.consultation import Consultation
from customers.domain.links import IssuedLink
from customers.domain.model import Customer, SearchQuery
from trip_shared.clock import utc_now
from trip_shared.mongo import TenantCollection, read_all
from trip_shared.privacy import ERASED
from trip_shared.text import fold

CUSTOMERS, HISTORY, CONSULTATIONS, ERASURES = "customers", "customer_history", "consultations", "erasures"
ISSUED_LINKS = "issued_links"
SEARCH_ENTRIES = "customer_search_entries"
_SEARCHABLE = ("active", "inactive")
_DATE_FIELDS = ("date_of_birth", "passport_expiry")


async def ensure_indexes(db: AsyncDatabase) -> None:
    customers = db[CUSTOMERS]
    await customers.create_index([("tenant_id", ASCENDING), ("_id", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("search_keys", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("family_initial", ASCENDING)])
    # Search looks terms up by equality in a collection of tiny rows (see SearchIndex), not in the customers.
    # Every filtered field is in this index: SecantusDB falls back to a collection scan otherwise.
    entries = db[SEARCH_ENTRIES]
    await entries.create_index([("tenant_id", ASCENDING), ("field", ASCENDING), ("term", ASCENDING),
                                ("status", ASCENDING), ("order_key", ASCENDING)])
    await entries.create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("emails", ASCENDING)])
    await customers.create_index([("tenant_id", ASCENDING), ("phones", ASCENDING)])
    await _rebuild_outdated_search_rows(db)
    await db[ISSUED_LINKS].create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING),
                                         ("purpose", ASCENDING)])
    await db[HISTORY].create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING), ("version", ASCENDING)])
    await db[CONSULTATIONS].create_index([("tenant_id", ASCENDING), ("customer_id", ASCENDING),
                                          ("version", DESCENDING)], unique=True)


async def _rebuild_outdated_search_rows(db: AsyncDatabase) -> None:
    """Rows written before results were ranked have no order key: rewrite every customer's rows once."""
    if not await db[SEARCH_ENTRIES].find_one({"order_key": {"$exists": False}}):
        return
    await db[SEARCH_ENTRIES].delete_many({})
    rows: list[dict] = []
    async for document in db[CUSTOMERS].find({"status": {"$in": list(_SEARCHABLE)}}):
        rows += [{**row, "tenant_id": document["tenant_id"]} for row in SearchIndex.rows(_from_document(document))]
        if len(rows) >= 5000:
            await db[SEARCH_ENTRIES].insert_many(rows)
            rows = []
    if rows:
        await db[SEARCH_ENTRIES].insert_many(rows)


def plain(value):
    """BSON has no date type: dates are kept as ISO strings (exact and sortable)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _to_document(customer: Customer) -> dict:
    document = plain(asdict(customer))
    document["_id"] = document.pop("id")
    document["search_keys"] = customer.search_keys()
    document["phone_digits"] = customer.phone_digits()
    document["family_initial"] = _family_initial(customer)
    return document


def _family_initial(customer: Customer) -> str | None:
    """Family name and first initial: near-identical first names are then compared one by one."""
    return f"{fold(customer.last_name)}|{fold(customer.first_name)[:1]}" if customer.last_name else None


def _from_document(document: dict) -> Customer:
    document = dict(document)
    document["id"] = document.pop("_id")
    for derived in ("search_keys", "phone_digits", "family_initial", "sort_key"):  # sort_key: older documents
        document.pop(derived, None)
    for name in _DATE_FIELDS:
        document[name] = date.fromisoformat(document[name]) if document.get(name) else None
    return Customer(**document)


_RANKS = "012"
_CELL_CHARACTERS = " '-.0123456789abcdefghijklmnopqrstuvwxyz"
_CELLS = sorted(first + second for first in _CELL_CHARACTERS for second in _CELL_CHARACTERS)


def key_windows(after: str | None, ranks: str = _RANKS) -> Iterator[tuple[str | None, str | None]]:
    """Ranges of order keys that together cover everything after ``after``, in order: (exclusive, exclusive).

    SecantusDB materialises and sorts every candidate of a query, ignoring the limit (~35 µs a row: 3 s for a term
    that matches 100k customers), but it does bound an index scan by a range on the index's last field. An
    unselective term is therefore read window by window, each window one or more two-letter name cells of one
    rank: narrow first, doubling across empty stretches, never wider than one first letter, so a page costs
    about the rows of the cells it comes from. Keys end with "\x00<id>", so none equals a boundary.
    """
    first_rank = ranks.index(after[0]) if after and after[0] in ranks else 0
    lower = after
    for rank_index in range(first_rank, len(ranks)):
        rank = ranks[rank_index]
        rank_end = ranks[rank_index + 1] if rank_index + 1 < len(ranks) else None
        index = bisect_right(_CELLS, after[1:]) if after and after[0] == rank else 0
        span = 1
        while True:
            end = index + span - 1
            upper = rank + _CELLS[end] if end < len(_CELLS) else rank_end
            yield lower, upper
            lower = upper
            if end >= len(_CELLS):
                break
            index, span = end + 1, min(span * 2, len(_CELL_CHARACTERS))


class SearchIndex:
    """One tiny row per (customer, search term), written in the customer's transaction.

    SecantusDB sorts every candidate in memory and fetches large documents slowly (~2 ms each), so candidates are
    found and ordered here, among rows of a few dozen bytes, and only the page's customers are then fetched. A row's
    order key is the customer's rank for that term, then their name: results come best match first, then by name.
    """

    def __init__(self, entries: TenantCollection) -> None:
        self._entries = entries

    @staticmethod
    def rows(customer: Customer) -> list[dict]:
        """The rows for one customer; the empty prefix lists everyone, in name order."""
        if customer.status not in _SEARCHABLE:
            return []
        entries = customer.index_entries()
        entries["search_prefixes"][""] = 1
        return [{"_id": f"{customer.id}|{field}|{term}", "customer_id": customer.id, "field": field, "term": term,
                 "order_key": f"{rank}{customer.sort_key}", "status": customer.status}
                for field, ranks in entries.items() for term, rank in ranks.items()]

    async def add(self, customer: Customer) -> None:
        await self._entries.insert_many(self.rows(customer))

    async def rewrite(self, customer: Customer) -> None:
        await self._entries.delete_many({"customer_id": customer.id})
        await self.add(customer)

    async def remove(self, customer_id: str) -> None:
        await self._entries.delete_many({"customer_id": customer_id})

    async def candidates(self, query: SearchQuery, include_inactive: bool, after: str | None,
                         page_size: int) -> AsyncIterator[tuple[str, str]]:
        """(order key, customer id) of every row matching the query's lookup, in order, window by window."""
        field, term = query.lookup or ("search_prefixes", "")
        # One query per status: SecantusDB scans the whole collection for "$in" before a range.
        statuses = _SEARCHABLE if include_inactive else ("active",)
        found = 0
        # A selective term has few rows: one query reads them all, where windows would cost a hundred probes.
        windows = [(after, None)] if query.selective else key_windows(after, _RANKS[:2] if query.phone else _RANKS)
        for lower, upper in windows:
            bounds = {"$gt": lower} if lower else {}
            if upper:
                bounds["$lt"] = upper
            rows: list[dict] = []
            for status in statuses:
                criteria = {"field": field, "term": term, "status": status}
                if bounds:
                    criteria["order_key"] = bounds
                cursor = self._entries.find(criteria, projection={"customer_id": 1, "order_key": 1, "_id": 0})
                cursor = cursor.sort("order_key", ASCENDING)
                # A window's rows are all read anyway; the limit only saves transfer when no check follows.
                rows += await (cursor if query.needs_check else cursor.limit(max(page_size - found, 1))).to_list(None)
            for row in sorted(rows, key=itemgetter("order_key")):
                yield row["order_key"], row["customer_id"]
            found += len(rows)


class CustomerRepository:
    def __init__(self, customers: TenantCollection, history: TenantCollection,
                 consultations: TenantCollection, search_entries: TenantCollection) -> None:
        self._customers = customers
        self._history = history
        self._consultations = consultations
        self._search = SearchIndex(search_entries)

    async def get(self, customer_id: str) -> Customer | None:
        document = await self._customers.find_one({"_id": customer_id})
        return _from_document(document) if document else None

    async def add(self, customer: Customer) -> None:
        await self._customers.insert_one(_to_document(customer))
        await self._search.add(customer)

    async def save(self, customer: Customer, expected_version: int) -> None:
        """Optimistic concurrency: refuse to overwrite a change made meanwhile by someone else."""
        await self._customers.replace_at_version(customer.id, expected_version, _to_document(customer), "customer")
        await self._search.rewrite(customer)

    async def delete(self, customer: Customer, actor: str) -> None:
        """Remove the record, its consultations and its history; a tombstone says who deleted it and when."""
        await self._customers.delete_one({"_id": customer.id})
        await self._search.remove(customer.id)
        await self._consultations.delete_many({"customer_id": customer.id})
        await self._history.delete_many({"customer_id": customer.id})
        await self._history.insert_one({"_id": f"{customer.id}:deleted", "customer_id": customer.id,
                                        "version": customer.version + 1, "at": utc_now(), "actor": actor,
                                        "action": "deleted", "changes": []})

    async def erase_records(self, customer: Customer, actor: str) -> None:
        """Consultations go; history keeps who changed what and when, but not the values."""
        await self._consultations.delete_many({"customer_id": customer.id})
        await self._history.update_many({"customer_id": customer.id}, {"$set": {"changes.$[].before": ERASED,
                                                                                "changes.$[].after": ERASED}})
        await self.record_history(customer, actor, "erased", [])

    async def possible_duplicates(self, customer: Customer, limit: int = 50) -> list[Customer]:
        """Customers sharing an e-mail or phone with ``customer``, or its full name."""
        # One equality query per value, each on its own index: SecantusDB answers an "$or" (and an "$in") by
        # scanning every customer, which would make creating one slower the more the agency has.
        lookups = [("emails", email) for email in customer.emails] + [("phones", phone) for phone in customer.phones]
        if customer.last_name:
            lookups.append(("search_keys", fold(customer.full_name)))
            # Same family name and first initial: near-identical first names are then checked one by one.
            lookups.append(("family_initial", _family_initial(customer)))
        queries = [self._customers.find({name: value}).limit(limit).to_list(limit) for name, value in lookups]
        answers = await read_all(queries, in_transaction=self._customers.in_transaction)
        found: dict[str, Customer] = {}
        for document in (document for documents in answers for document in documents):
            if document["_id"] != customer.id and document.get("status") != "merged":
                found.setdefault(document["_id"], _from_document(document))
        return list(found.values())[:limit]

    async def search(self, query: SearchQuery, *, include_inactive: bool, limit: int,
                     after: str | None) -> list[tuple[str, Customer]]:
        """Matching customers, best match first then by name, ``limit`` at a time, each with its order key;
        ``after`` is the order key the previous page ended with."""
        found: list[tuple[str, Customer]] = []
        batch: list[tuple[str, str]] = []
        # Short queries are answered by the index alone; longer ones check candidates a batch at a time.
        batch_size = limit if not query.needs_check else max(limit * 2, 50)
        async for candidate in self._search.candidates(query, include_inactive, after, limit):
            batch.append(candidate)
            if len(batch) == batch_size:
                found += await self._matching(batch, query)
                batch = []
                if len(found) >= limit:
                    break
        if batch and len(found) < limit:
            found += await self._matching(batch, query)
        return found[:limit]

    async def _matching(self, candidates: list[tuple[str, str]], query: SearchQuery) -> list[tuple[str, Customer]]:
        wanted = [customer_id for _, customer_id in candidates]
        documents = {doc["_id"]: doc async for doc in self._customers.find({"_id": {"$in": wanted}})}
        return [(order_key, _from_document(documents[customer_id])) for order_key, customer_id in candidates
                if customer_id in documents and (not query.needs_check or query.matches(
                    documents[customer_id]["search_keys"], documents[customer_id]["phone_digits"]))]

    # --- history: who changed what, when ---------------------------------------------------------------------

    async def record_history(self, customer: Customer, actor: str, action: str,
                             changes: list[tuple[str, object, object]]) -> None:
        await self._history.insert_one({
            "_id": f"{customer.id}:{customer.version}", "customer_id": customer.id, "version": customer.version,
            "at": customer.updated_at, "actor": actor, "action": action,
            "changes": [{"field": name, "before": plain(before), "after": plain(after)}
                        for name, before, after in changes],
        })

    async def history(self, customer_id: str) -> list[dict]:
        cursor = self._history.find({"customer_id": customer_id}, projection={"_id": 0, "tenant_id": 0})
        return await cursor.sort("version", ASCENDING).to_list(None)

    # --- consultations ---------------------------------------------------------------------------------------

    async def latest_consultation_version(self, customer_id: str) -> int:
        latest = await self._consultations.find_one({"customer_id": customer_id}, sort=[("version", DESCENDING)])
        return latest["version"] if latest else 0

    async def add_consultation(self, consultation: Consultation) -> None:
        document = plain(asdict(consultation))
        document["_id"] = f"{consultation.customer_id}:{consultation.version}"
        await self._consultations.insert_one(document)

    async def consultations(self, customer_id: str) -> list[Consultation]:
        cursor = self._consultations.find({"customer_id": customer_id}, projection={"_id": 0})
        return [Consultation(**doc) async for doc in cursor.sort("version", DESCENDING)]


class ErasureRequests:
    """Who asked for an erasure, and which services have confirmed theirs."""

    def __init__(self, collection: TenantCollection) -> None:
        self._requests = collection

    async def open(self, customer_id: str, actor: str, expected: tuple[str, ...]) -> None:
        await self._requests.insert_one({"_id": customer_id, "requested_at": utc_now(), "requested_by": actor,
                                         "expected": list(expected), "confirmations": {}})

    async def confirm(self, customer_id: str, service: str, scrubbed: list[str]) -> None:
        await self._requests.update_one({"_id": customer_id}, {"$set": {
            f"confirmations.{service}": {"at": utc_now(), "scrubbed": scrubbed}}})

    async def get(self, customer_id: str) -> dict | None:
        return await self._requests.find_one({"_id": customer_id}, projection={"tenant_id": 0})


class IssuedLinks:
    """Links sent to customers (profile forms, e-mail confirmations), so each is used once and a newer one wins."""

    def __init__(self, links: TenantCollection) -> None:
        self._links = links

    async def issue(self, link: IssuedLink) -> None:
        await self._links.update_many(
            {"customer_id": link.customer_id, "purpose": link.purpose, "used_at": None, "superseded_at": None},
            {"$set": {"superseded_at": link.issued_at}})
        await self._links.insert_one({"_id": link.id, **{name: value for name, value in vars(link).items()
                                                         if name not in ("id", "tenant_id")}})

    async def get(self, link_id: str, purpose: str) -> IssuedLink | None:
        document = await self._links.find_one({"_id": link_id, "purpose": purpose})
        if document is None:
            return None
        document = dict(document)
        return IssuedLink(id=document.pop("_id"), **document)

    async def mark_used(self, link: IssuedLink) -> None:
        await self._links.update_one({"_id": link.id, "used_at": None}, {"$set": {"used_at": link.used_at}})

    async def forget(self, customer_id: str) -> None:
        await self._links.delete_many({"customer_id": customer_id})
