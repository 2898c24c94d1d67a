"""The baselines: bare FastAPI routes doing the same database work as the platform's routes, nothing else.

Served by uvicorn (uvloop, httptools) exactly like a service, against the same MongoDB, so a ratio to these says
what the platform's own layers cost: the edge, auth, validation, the domain, the outbox, telemetry.
"""
from __future__ import annotations

import os
import uuid

from fastapi import FastAPI
from pymongo import AsyncMongoClient

client = AsyncMongoClient(os.environ["MONGODB_URL"], tz_aware=True, uuidRepresentation="standard")
db = client[os.environ.get("MONGODB_DATABASE", "bare")]
app = FastAPI()


@app.post("/bare/two-inserts", status_code=201)
async def two_inserts(body: dict) -> dict:
    """What creating a customer must do at least: the record and its event, in one transaction."""
    document = {"_id": str(uuid.uuid4()), **body}

    async def work(session):
        await db["records"].insert_one(document, session=session)
        await db["events"].insert_one({"_id": str(uuid.uuid4()), "record": document["_id"]}, session=session)

    async with client.start_session() as session:
        await session.with_transaction(work)
    return document


@app.get("/bare/records/{record_id}")
async def find_one(record_id: str) -> dict:
    """What reading a customer must do at least: one find_one by id."""
    return await db["records"].find_one({"_id": record_id}) or {}


@app.get("/bare/records")
async def some_ids() -> list[str]:
    return [doc["_id"] async for doc in db["records"].find({}, {"_id": 1}).limit(200)]


@app.post("/bare/trips", status_code=201)
async def new_trip(body: dict) -> dict:
    document = {"_id": str(uuid.uuid4()), "items": [], **body}
    await db["trips"].insert_one(document)
    return document


@app.get("/bare/trips/{trip_id}")
async def read_trip(trip_id: str) -> dict:
    """What showing an itinerary must read at least: the trip with its items, its travellers, its bookings."""
    trip = await db["trips"].find_one({"_id": trip_id}) or {}
    travellers = await db["travellers"].find({"trip_id": trip_id}).to_list(None)
    bookings = await db["bookings"].find({"trip_id": trip_id}).to_list(None)
    return {**trip, "travellers": travellers, "bookings": bookings}
