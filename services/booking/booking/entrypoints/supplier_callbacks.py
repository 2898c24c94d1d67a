"""Where a webhook supplier answers: the callback URL in each of its requests, posted JSON signed like the request
(trip_shared.webhooks). Unsigned, tampered, stale or replayed callbacks are refused (401, or 409 for a replay) and
change nothing; the same answer sent again, freshly signed, is harmless.

    POST /supplier/callbacks/<token>
    Trip-Desk-Timestamp: 1790000000
    Trip-Desk-Signature: v1=<hex HMAC-SHA256 of "1790000000.<body>">
    {"booking_id": "...", "round": 1, "action": "confirm", "confirmation_code": "KC-881",
     "acknowledged_requirements": ["r1-..."]}
"""
from __future__ import annotations

import hashlib
import time
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from booking.domain.model import Money
from booking.entrypoints.supplier_pages import CALLBACK_PURPOSE
from booking.service_layer import services
from trip_shared.web.problems import ApiProblem
from trip_shared.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookRefused, supplier_secret, verify

router = APIRouter(include_in_schema=False)


class PriceIn(BaseModel):
    amount: str = Field(max_length=15)
    currency: str = Field(max_length=3)


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    booking_id: str = Field(min_length=1, max_length=100)
    round: int = Field(ge=1, description="The round of the request this answers (it is in the request).")
    action: Literal["confirm", "decline", "acknowledge", "cancel", "reconfirm"]
    confirmation_code: str | None = Field(None, max_length=100)
    confirmed_price: PriceIn | None = None
    acknowledged_requirements: list[str] = Field(default_factory=list, max_length=100)
    reason: str | None = Field(None, max_length=2000)
    alternative: str | None = Field(None, max_length=2000)
    cancellation_reference: str | None = Field(None, max_length=100)


@router.post("/supplier/callbacks/{token}")
async def supplier_callback(token: str, request: Request) -> dict:
    claims = request.app.state.link_signer.verify(token, CALLBACK_PURPOSE)
    tenant_id, supplier_id = claims.tenant_id, claims.subject_id
    transaction = request.app.state.runtime.transaction
    supplier = await services.get_supplier(transaction, tenant_id, supplier_id)
    if supplier.channel != "webhook" or not supplier.secret_generation:
        raise ApiProblem(401, "webhook-not-enabled", "Not a webhook supplier",
                         "This supplier answers by e-mail, not by webhook.")
    body = await request.body()
    secret = supplier_secret(request.app.state.runtime.settings.supplier_secret_key, tenant_id, supplier_id,
                             supplier.secret_generation)
    signed = request.headers.get(SIGNATURE_HEADER)
    try:
        verify(secret, request.headers.get(TIMESTAMP_HEADER), signed, body, time.time())
    except WebhookRefused as refused:
        raise ApiProblem(401, refused.code, "The callback is not signed as agreed", refused.detail) from None
    try:
        answer = CallbackIn.model_validate_json(body)
    except ValidationError as error:
        raise ApiProblem(422, "invalid-request", "The request is not valid",
                         "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())) from None
    receipt = hashlib.sha256(f"{request.headers.get(TIMESTAMP_HEADER)}.{signed}".encode()).hexdigest()
    booking = await services.supplier_answer(
        transaction, tenant_id, supplier_id, answer.booking_id, receipt, answer.action,
        actor=f"{services.SUPPLIER_ACTOR}:{supplier_id}", answering_round=answer.round,
        code=answer.confirmation_code, reason=answer.reason, alternative=answer.alternative,
        reference=answer.cancellation_reference, acknowledged=answer.acknowledged_requirements,
        price=Money.of(answer.confirmed_price.amount, answer.confirmed_price.currency, "confirmed_price")
        if answer.confirmed_price else None, voucher_link=request.app.state.voucher_links)
    return {"booking_id": booking.id, "status": booking.status, "round": booking.round,
            "requirements_pending": [line.id for line in booking.unacknowledged]}


