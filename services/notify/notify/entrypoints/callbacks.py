"""What channels report back about messages already sent (no API key: each report is signed by its sender)."""
from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from notify.service_layer import services
from trip_shared.errors import DomainError
from trip_shared.sms_provider import SIGNATURE_HEADER

router = APIRouter(include_in_schema=False)


class ForgedReport(DomainError):
    status = 403
    code = "report-not-signed"
    title = "Not signed by the SMS provider"


@router.post("/callbacks/sms/{notification_id}", status_code=204)
async def sms_delivery_report(notification_id: str, request: Request) -> Response:
    """The SMS provider's status callback: delivered, or undelivered (a bounce), for one text."""
    dispatcher = request.app.state.dispatcher
    params = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
    if not await services.record_sms_report(request.app.state.runtime.transaction, dispatcher, notification_id,
                                            dispatcher.sms_report_url(notification_id), params,
                                            request.headers.get(SIGNATURE_HEADER)):
        raise ForgedReport("The report's X-Twilio-Signature does not match this account and address.")
    return Response(status_code=204)
