"""The baselines: bare FastAPI routes doing the same database work as the platform's routes, nothing else.

Served by uvicorn (uvloop, httptools) exactly like a service, against the same MongoDB, so a ratio to these says
what the platform's own layers cost: the edge, auth, validation, the domain, the outbox, telemetry.
"""
from __future__ import annotations

import asyncio
import json
import os
import smtplib
import uuid
from contextlib import asynccontextmanager
from email.message import EmailMessage

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from pymongo import AsyncMongoClient

client = AsyncMongoClient(os.environ["MONGODB_URL"], tz_aware=True, uuidRepresentation="standard")
db = client[os.environ.get("MONGODB_DATABASE", "bare")]
FLOOR_TOPIC = "bare.flows"
kafka: dict = {}


@asynccontextmanager
async def lifespan(_app: FastAPI):
    """With Kafka and SMTP configured, the trip-flow floor: a producer, and a consumer that sends the mail."""
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield
        return
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    kafka["producer"] = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await kafka["producer"].start()
    consumer = AIOKafkaConsumer(FLOOR_TOPIC, bootstrap_servers=bootstrap, group_id="bare-floor",
                                auto_offset_reset="earliest",
                                fetch_max_wait_ms=int(os.environ.get("KAFKA_FETCH_MAX_WAIT_MS", "500")),
                                session_timeout_ms=2000, heartbeat_interval_ms=500)
    await consumer.start()
    task = asyncio.create_task(_deliver_flows(consumer))
    try:
        yield
    finally:
        task.cancel()
        await consumer.stop()
        await kafka["producer"].stop()


async def _deliver_flows(consumer: AIOKafkaConsumer) -> None:
    """One hop's consumer: one insert, one SMTP send (a connection per mail, in a thread, as notify sends)."""
    async for message in consumer:
        flow = json.loads(message.value)
        await db["floor_records"].insert_one({"_id": flow["id"], "email": flow["email"]})
        await asyncio.to_thread(_send_mail, flow["email"], flow["id"])


def _send_mail(address: str, flow_id: str) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "floor@bench.example", address, f"Flow {flow_id}"
    mail.set_content("The floor's e-mail.")
    with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"]), timeout=10) as smtp:
        smtp.send_message(mail)


app = FastAPI(lifespan=lifespan)


@app.post("/bare/flows", status_code=202)
async def start_flow(body: dict) -> dict:
    """The floor of a trip flow: the request's event produced; the hop, insert and send follow in the consumer."""
    flow = {"id": str(uuid.uuid4()), "email": body["email"]}
    await kafka["producer"].send_and_wait(FLOOR_TOPIC, json.dumps(flow).encode(), key=flow["id"].encode())
    return flow


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
