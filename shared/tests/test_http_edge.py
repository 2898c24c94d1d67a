"""The HTTP edge of every service: authentication before the body, bounded bodies, deadlines, rate-limited
failures, security headers, bounded metric labels. Against a real runtime on real MongoDB."""
import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel

from trip_shared.errors import ConflictError, NotFoundError
from trip_shared.runtime import ServiceRuntime
from trip_shared.testing.service import auth, component_settings, running_service
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.edge import FailureLimiter
from trip_shared.web.idempotency import fingerprint
from trip_shared.web.signed_links import LinkSigner


class Thing(BaseModel):
    name: str


def build_app(settings):
    runtime = ServiceRuntime(settings, tracer_provider=TracerProvider())
    router = v1_router()
    calls: list[str] = []

    @router.post("/things", status_code=201)
    async def create(body: Thing, principal: Principal = require("things:write")) -> dict:
        calls.append(body.name)
        return {"tenant": principal.tenant_id}

    @router.get("/slow")
    async def slow() -> dict:
        await asyncio.sleep(30)
        return {}

    async def bump_counter(tenant_id: str, counter_id: str) -> None:
        async def work(uow):
            await uow.collection("counters", tenant_id).update_one(
                {"_id": counter_id}, {"$inc": {"bumps": 1}}, upsert=True)

        await runtime.transaction(work)

    @router.post("/counters/{counter_id}")
    async def bump(counter_id: str, principal: Principal = require("things:write")) -> dict:
        await bump_counter(principal.tenant_id, counter_id)
        return {"bumped": counter_id}

    @router.post("/links/{counter_id}", status_code=201)
    async def link(counter_id: str, principal: Principal = require("things:write")) -> dict:
        """Reads, and refuses (404) until the counter exists: like linking a customer not known yet."""
        found = await runtime.transaction(
            lambda uow: uow.collection("counters", principal.tenant_id).find_one({"_id": counter_id}))
        if found is None:
            raise NotFoundError(f"No counter {counter_id} yet.")
        calls.append(f"linked {counter_id}")
        return {"linked": counter_id}

    @router.post("/slow-answers/{counter_id}")
    async def slow_answer(counter_id: str, after_commit_s: float,
                          principal: Principal = require("things:write")) -> dict:
        """Commits a change, then is slow to read back its answer (a loaded database)."""
        await bump_counter(principal.tenant_id, counter_id)
        await asyncio.sleep(after_commit_s)
        found = await runtime.transaction(
            lambda uow: uow.collection("counters", principal.tenant_id).find_one({"_id": counter_id}),
            read_only=True)
        return {"bumps": found["bumps"]}

    @router.post("/two-steps/{counter_id}")
    async def two_steps(counter_id: str, principal: Principal = require("things:write")) -> dict:
        """Changes something, then fails: a retry must not change it again."""
        await bump_counter(principal.tenant_id, counter_id)
        raise ConflictError("The second step failed.", code="second-step-failed")

    signer = LinkSigner(settings.link_signing_secret)

    pages = APIRouter()

    @pages.get("/trips/{token}")
    async def page(token: str) -> HTMLResponse:
        try:
            signer.verify(token, "itinerary-view")
        except Exception:
            return HTMLResponse("<p>invalid</p>", status_code=403)
        return HTMLResponse("<p>your trip</p>")

    app = runtime.create_app(title="edge test", description="", routers=[router, pages])
    app.state.calls = calls
    app.state.signer = signer
    return app


@pytest.fixture
def settings(mongodb_url, mongo_database_name):
    return component_settings("edge", mongodb_url, mongo_database_name, http_max_body_bytes=1000,
                              request_timeout_s=1.0, auth_failures_per_minute=3)


@pytest.fixture
async def service(settings):
    async with running_service(build_app(settings)) as service:
        yield service


async def test_a_request_without_a_valid_key_is_refused_before_its_body_is_read(service):
    received: list[dict] = []
    sent: list[dict] = []

    async def receive():
        received.append({})
        return {"type": "http.request", "body": b'{"name": "x"}' * 100_000, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/things", "raw_path": b"/v1/things", "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"authorization", b"Bearer guessed")],
             "client": ("10.0.0.1", 5000), "server": ("testserver", 80), "state": {}}
    await service.app(scope, receive, send)
    assert sent[0]["status"] == 401 and received == [], "the body of an unauthenticated request is never read"
    assert service.app.state.calls == []


async def test_a_body_over_the_limit_is_a_413_whether_declared_or_streamed(service):
    big = {"name": "x" * 2000}
    declared = await service.client.post("/v1/things", json=big, headers=auth())
    assert declared.status_code == 413 and declared.json()["code"] == "payload-too-large"

    async def chunks():
        for _ in range(5):
            yield b" " * 300

    streamed = await service.client.post("/v1/things", content=chunks(),
                                         headers={**auth(), "content-type": "application/json"})
    assert streamed.status_code == 413
    assert (await service.client.post("/v1/things", json={"name": "ok"}, headers=auth())).status_code == 201
    assert service.app.state.calls == ["ok"]


async def test_failed_authentication_is_logged_without_the_key_and_rate_limited(service, caplog):
    caplog.set_level("WARNING", logger="trip_shared.web.edge")
    for _ in range(3):
        response = await service.client.post("/v1/things", json={"name": "x"},
                                             headers={"Authorization": "Bearer guess-1234"})
        assert response.status_code == 401
    limited = await service.client.post("/v1/things", json={"name": "x"}, headers=auth())
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "too-many-requests"
    failures = [r for r in caplog.records if r.getMessage() == "authentication failed"]
    assert len(failures) == 3 and failures[0].client == "127.0.0.1"
    assert all("guess-1234" not in str(r.__dict__) for r in caplog.records)
    other_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app, client=("10.9.9.9", 1)),
                                     base_url="http://testserver")
    async with other_client:
        assert (await other_client.post("/v1/things", json={"name": "y"}, headers=auth())).status_code == 201


async def test_guessed_link_tokens_are_rate_limited_too(service):
    signer = service.app.state.signer
    token, _ = signer.sign("itinerary-view", "tenant-a", "trip-1", timedelta(days=1))
    assert (await service.client.get(f"/trips/{token}")).status_code == 200
    for guess in range(3):
        assert (await service.client.get(f"/trips/{token[:-3]}ab{guess}")).status_code == 403
    assert (await service.client.get(f"/trips/{token}")).status_code == 429


def test_the_failure_window_slides():
    now = [0.0]
    limiter = FailureLimiter(2, window_s=60, clock=lambda: now[0])
    limiter.record_failure("a")
    now[0] = 30
    limiter.record_failure("a")
    assert limiter.retry_after_s("a") == 30 and limiter.retry_after_s("b") == 0
    now[0] = 61
    assert limiter.retry_after_s("a") == 0


async def test_responses_carry_security_headers_and_link_pages_are_not_cached(service):
    api = await service.client.post("/v1/things", json={"name": "x"}, headers=auth())
    signer = service.app.state.signer
    token, _ = signer.sign("itinerary-view", "tenant-a", "trip-1", timedelta(days=1))
    page = await service.client.get(f"/trips/{token}")
    docs = await service.client.get("/docs")
    for response in (api, page, docs):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store" and api.headers["cache-control"] == "no-store"
    assert "no-store" not in docs.headers.get("cache-control", "")


async def test_metric_labels_stay_bounded_whatever_the_client_sends(service):
    await service.client.request("BREW", "/v1/things", headers=auth())
    await service.client.get("/no/such/path/123", headers=auth())
    metrics = (await service.client.get("/metrics")).text
    assert 'method="OTHER"' in metrics and "BREW" not in metrics
    assert 'route="unmatched"' in metrics and "/no/such/path" not in metrics


async def test_a_request_past_its_deadline_is_a_503_problem(service):
    started = time.monotonic()
    response = await service.client.get("/v1/slow", headers=auth())
    assert response.status_code == 503 and response.json()["code"] == "deadline-exceeded"
    assert time.monotonic() - started < 5
    assert response.headers["retry-after"] == "1"


async def test_a_transaction_stuck_behind_a_lock_is_aborted_at_the_deadline_and_never_commits_later(service):
    db = service.runtime.store.db
    await db["counters"].insert_one({"_id": "c-1", "tenant_id": "tenant-a", "bumps": 0})
    # A process killed inside a transaction leaves its documents locked until the server expires it.
    async with service.runtime.store.client.start_session() as holder:
        await holder.start_transaction()
        await db["counters"].update_one({"_id": "c-1"}, {"$set": {"held": True}}, session=holder)
        started = time.monotonic()
        response = await service.client.post("/v1/counters/c-1", headers=auth())
        waited = time.monotonic() - started
        await holder.abort_transaction()
    assert response.status_code == 503 and response.json()["code"] == "deadline-exceeded", response.text
    assert waited < 4, f"the request waited {waited:.1f} s for a lock"
    await asyncio.sleep(1.5)  # long enough for any retry loop still running to have committed
    assert (await db["counters"].find_one({"_id": "c-1"}))["bumps"] == 0
    assert (await service.client.post("/v1/counters/c-1", headers=auth())).status_code == 200
    assert (await db["counters"].find_one({"_id": "c-1"}))["bumps"] == 1


async def test_a_change_that_committed_gets_its_answer_even_at_the_deadline(service):
    response = await service.client.post("/v1/slow-answers/c-2", params={"after_commit_s": 1.1}, headers=auth())
    assert response.status_code == 200, "committed past the 1 s deadline's reach: the answer still gets read"
    assert response.json() == {"bumps": 1}


async def test_a_committed_change_whose_answer_never_comes_is_not_called_unchanged(service):
    response = await service.client.post("/v1/slow-answers/c-3", params={"after_commit_s": 30}, headers=auth())
    assert response.status_code == 503 and response.json()["code"] == "answer-timed-out", response.text
    assert "do not send the request again" in response.json()["detail"]
    assert (await service.runtime.store.db["counters"].find_one({"_id": "c-3"}))["bumps"] == 1


def keyed(key: str) -> dict[str, str]:
    return {**auth(), "Idempotency-Key": key}


async def test_a_retried_post_with_its_idempotency_key_takes_effect_once_and_gets_the_same_answer(service):
    first = await service.client.post("/v1/things", json={"name": "once"}, headers=keyed("k-1"))
    again = await service.client.post("/v1/things", json={"name": "once"}, headers=keyed("k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert service.app.state.calls == ["once"]
    other_agency = await service.client.post("/v1/things", json={"name": "once"},
                                             headers={**auth("tenant-b"), "Idempotency-Key": "k-1"})
    assert other_agency.status_code == 201, "keys are per agency"
    assert service.app.state.calls == ["once", "once"]


async def test_the_same_key_with_another_body_is_a_422_and_a_refused_request_frees_its_key(service):
    await service.client.post("/v1/things", json={"name": "a"}, headers=keyed("k-2"))
    reused = await service.client.post("/v1/things", json={"name": "b"}, headers=keyed("k-2"))
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency-key-reused"
    refused = await service.client.post("/v1/things", json={"nom": "c"}, headers=keyed("k-3"))
    assert refused.status_code == 422
    fixed = await service.client.post("/v1/things", json={"name": "c"}, headers=keyed("k-3"))
    assert fixed.status_code == 201 and service.app.state.calls == ["a", "c"]
    bad_key = await service.client.post("/v1/things", json={"name": "d"}, headers=keyed("k" * 300))
    assert bad_key.status_code == 400 and bad_key.json()["code"] == "invalid-idempotency-key"


async def test_a_key_in_use_is_a_409_and_one_left_by_a_dead_process_is_taken_over_unless_it_committed(service):
    from datetime import UTC, datetime, timedelta

    keys = service.runtime.idempotency_keys
    body = b'{"name": "x"}'
    running = fingerprint("POST", "/v1/things", b"", body)
    assert (await keys.reserve("tenant-a", "k-4", running)).record_id
    busy = await service.client.post("/v1/things", content=body,
                                     headers={**keyed("k-4"), "content-type": "application/json"})
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency-key-in-use" and busy.headers["retry-after"]
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    await keys.rows.update_one({"_id": "tenant-a:k-4"}, {"$set": {"started_at": long_ago}})
    taken_over = await service.client.post("/v1/things", content=body,
                                           headers={**keyed("k-4"), "content-type": "application/json"})
    assert taken_over.status_code == 201 and service.app.state.calls == ["x"]

    bump = fingerprint("POST", "/v1/counters/c-9", b"", b"")
    await keys.rows.insert_one({"_id": "tenant-a:k-5", "tenant_id": "tenant-a", "fingerprint": bump,
                                "status": "in_progress", "committed": True, "started_at": long_ago,
                                "expires_at": datetime.now(UTC) + timedelta(hours=1)})
    applied = await service.client.post("/v1/counters/c-9", headers=keyed("k-5"))
    assert applied.status_code == 409 and applied.json()["code"] == "idempotency-key-applied"
    assert await service.runtime.store.db["counters"].find_one({"_id": "c-9"}) is None


async def test_the_key_is_marked_committed_in_the_requests_own_transaction(service):
    response = await service.client.post("/v1/counters/c-7", headers=keyed("k-6"))
    assert response.status_code == 200
    row = await service.runtime.idempotency_keys.rows.find_one({"_id": "tenant-a:k-6"})
    assert row["committed"] is True and row["status"] == "completed"
    replay = await service.client.post("/v1/counters/c-7", headers=keyed("k-6"))
    assert replay.json() == {"bumped": "c-7"}
    assert (await service.runtime.store.db["counters"].find_one({"_id": "c-7"}))["bumps"] == 1


async def test_a_refusal_after_reading_frees_the_key_but_one_after_a_change_is_kept(service):
    early = await service.client.post("/v1/links/c-3", headers=keyed("k-7"))
    assert early.status_code == 404, "it only read, and changed nothing"
    await service.runtime.store.db["counters"].insert_one({"_id": "c-3", "tenant_id": "tenant-a", "bumps": 0})
    later = await service.client.post("/v1/links/c-3", headers=keyed("k-7"))
    assert later.status_code == 201, "the same key may try again once the thing exists"
    failed = await service.client.post("/v1/two-steps/c-4", headers=keyed("k-8"))
    again = await service.client.post("/v1/two-steps/c-4", headers=keyed("k-8"))
    assert failed.status_code == again.status_code == 409 and again.headers["idempotent-replayed"] == "true"
    assert (await service.runtime.store.db["counters"].find_one({"_id": "c-4"}))["bumps"] == 1


def test_the_readme_s_worked_webhook_example_is_what_the_platform_signs():
    import re
    from pathlib import Path

    from trip_shared.webhooks import signature, verify

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    body, signed = re.search(r"the body\s+`(\{.*?\})` is signed\s+`(v1=[0-9a-f]+)`", readme, re.S).groups()
    assert signature("whsec_example", 1790000000, body.encode()) == signed
    verify("whsec_example", "1790000000", signed, body.encode(), now=1790000000 + 299)


def test_a_signed_webhook_is_refused_when_unsigned_altered_or_stale():
    import pytest

    from trip_shared.webhooks import WebhookRefused, signature, supplier_secret, verify

    secret = supplier_secret("k" * 40, "tenant-a", "s1", 1)
    assert secret != supplier_secret("k" * 40, "tenant-a", "s1", 2) != supplier_secret("k" * 40, "tenant-b", "s1", 1)
    signed = signature(secret, 1000, b"{}")
    verify(secret, "1000", f"v0=old,{signed}", b"{}", now=1000)  # several signatures: any one may match
    for timestamp, given, body, now, code in (
            (None, signed, b"{}", 1000, "webhook-unsigned"), ("abc", signed, b"{}", 1000, "webhook-unsigned"),
            ("1000", signed, b"{ }", 1000, "webhook-bad-signature"), ("1000", signed, b"{}", 1301, "webhook-stale"),
            ("1000", signed, b"{}", 699, "webhook-stale")):
        with pytest.raises(WebhookRefused) as refused:
            verify(secret, timestamp, given, body, now)
        assert refused.value.code == code
