"""HTTP API of the itinerary service: routing only; the shapes are in schemas.py."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request, Response

from itinerary.adapters.repository import sort_key
from itinerary.domain.disruptions import NOTHING_TO_ASSESS
from itinerary.domain.model import Itinerary, item_revision
from itinerary.domain.proposals import OptionRequest
from itinerary.domain.stages import STAGES
from itinerary.entrypoints.client_pages import proposal_link, trip_link
from itinerary.entrypoints.deliverables import calendar_feed, client_context, final_documents, itinerary_pdf
from itinerary.entrypoints.schemas import (
    AgencySettingsOut,
    AuditEntryOut,
    AuditPage,
    BudgetOut,
    DisruptionList,
    DisruptionOut,
    ExchangeRateIn,
    FeasibilityOut,
    FinalDocumentsIn,
    FinalDocumentsOut,
    ItemIn,
    ItemList,
    ItemOut,
    ItemPatch,
    ItineraryDetailOut,
    ItineraryIn,
    ItineraryOut,
    ItineraryPage,
    ItineraryPatch,
    LinkedCustomerList,
    LinkIn,
    PocIn,
    ProposalIn,
    ProposalList,
    ProposalOut,
    ShareLinkIn,
    ShareLinkOut,
    ShiftIn,
    StageIn,
    TravelSettingsIn,
    budget_of,
    feasibility_of,
)
from itinerary.service_layer import services
from trip_shared.preconditions import Precondition
from trip_shared.web import conditional
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.fields import refuse_nulls
from trip_shared.web.pagination import decode_cursor, encode_cursor

Currency = Annotated[str, Path(pattern="^[A-Z]{3}$", description="ISO 4217, e.g. EUR.")]

router = v1_router(tags=["itineraries"])


def _transaction(request: Request):
    return request.app.state.runtime.transaction


def _actor(principal: Principal) -> str:
    return principal.name


async def _view(request: Request, principal: Principal, itinerary_id: str,
                response: Response | None = None, *, changed: Itinerary | None = None) -> ItineraryDetailOut:
    """``changed``: the itinerary as the request's change committed it."""
    view = await services.view_itinerary(_transaction(request), principal.tenant_id, itinerary_id, itinerary=changed)
    if response is not None:
        conditional.tag(response, view.itinerary.version)
    return ItineraryDetailOut.of_view(view)


@router.post("/itineraries", status_code=201, response_model=ItineraryOut)
async def create_itinerary(body: ItineraryIn, request: Request, response: Response,
                           principal: Principal = require("itineraries:write")) -> ItineraryOut:
    itinerary = await services.create_itinerary(_transaction(request), principal.tenant_id, _actor(principal),
                                                body.title, body.start_date, body.end_date, body.planner)
    response.headers["Location"] = f"/v1/itineraries/{itinerary.id}"
    return ItineraryOut.of(itinerary, {})


@router.get("/itineraries", response_model=ItineraryPage)
async def list_itineraries(request: Request, customer_id: str | None = Query(None, max_length=100),
                           stage: Literal[STAGES] | None = Query(None),  # type: ignore[valid-type]
                           limit: int = Query(20, ge=1, le=100), cursor: str | None = Query(None, max_length=500),
                           principal: Principal = require("itineraries:read")) -> ItineraryPage:
    found, known = await services.list_itineraries(_transaction(request), principal.tenant_id,
                                                   customer_id=customer_id, limit=limit + 1,
                                                   before=decode_cursor(cursor), stage=stage)
    page = found[:limit]
    next_cursor = encode_cursor(sort_key(page[-1])) if len(found) > limit else None
    return ItineraryPage(items=[ItineraryOut.of(i, known) for i in page], next_cursor=next_cursor)


@router.get("/itineraries/{itinerary_id}", response_model=ItineraryDetailOut)
async def get_itinerary(itinerary_id: str, request: Request, response: Response,
                        principal: Principal = require("itineraries:read")) -> ItineraryDetailOut:
    return await _view(request, principal, itinerary_id, response)


@router.patch("/itineraries/{itinerary_id}", response_model=ItineraryDetailOut)
async def revise_itinerary(
    itinerary_id: str, body: ItineraryPatch, request: Request, response: Response,
    drop_items_outside: bool = Query(False, description="Confirm that items outside new trip dates are removed; "
                                                        "without it such a change is refused (409)."),
    precondition: Precondition | None = Depends(conditional.if_match),
    principal: Principal = require("itineraries:write"),
) -> ItineraryDetailOut:
    changes = refuse_nulls(body.model_dump(exclude_unset=True), "title", "markup_percent")
    await services.revise_itinerary(_transaction(request), principal.tenant_id, _actor(principal), itinerary_id,
                                    changes, drop_items_outside=drop_items_outside, precondition=precondition)
    return await _view(request, principal, itinerary_id, response)


@router.post("/itineraries/{itinerary_id}/items", status_code=201, response_model=ItemOut)
async def add_item(itinerary_id: str, body: ItemIn, request: Request, response: Response,
                   principal: Principal = require("itineraries:write")) -> ItemOut:
    fields = body.model_dump(exclude_none=True, mode="python")
    ask_client = fields.pop("ask_client", None)
    _, item = await services.add_item(_transaction(request), principal.tenant_id, _actor(principal), itinerary_id,
                                      fields, ask_client)
    response.headers["Location"] = f"/v1/itineraries/{itinerary_id}/items/{item.id}"
    conditional.tag(response, item_revision(item))
    return ItemOut.of(item)


@router.get("/itineraries/{itinerary_id}/items", response_model=ItemList)
async def list_items(itinerary_id: str, request: Request,
                     principal: Principal = require("itineraries:read")) -> ItemList:
    view = await services.view_itinerary(_transaction(request), principal.tenant_id, itinerary_id)
    return ItemList(items=[ItemOut.of(item, view.bookings_by_item.get(item.id)) for item in view.itinerary.items])


@router.get("/itineraries/{itinerary_id}/items/{item_id}", response_model=ItemOut)
async def get_item(itinerary_id: str, item_id: str, request: Request, response: Response,
                   principal: Principal = require("itineraries:read")) -> ItemOut:
    view = await services.view_itinerary(_transaction(request), principal.tenant_id, itinerary_id)
    item = view.itinerary.item(item_id)
    conditional.tag(response, item_revision(item))
    return ItemOut.of(item, view.bookings_by_item.get(item_id))


@router.patch("/itineraries/{itinerary_id}/items/{item_id}", response_model=ItemOut)
async def change_item(itinerary_id: str, item_id: str, body: ItemPatch, request: Request, response: Response,
                      precondition: Precondition | None = Depends(conditional.if_match),
                      principal: Principal = require("itineraries:write")) -> ItemOut:
    changes = refuse_nulls(body.model_dump(exclude_unset=True, mode="python"), "title", "timezone",
                           "requires_booking")
    ask_client = changes.pop("ask_client", None)
    _, item = await services.change_item(_transaction(request), principal.tenant_id, _actor(principal),
                                         itinerary_id, item_id, changes, precondition, ask_client)
    conditional.tag(response, item_revision(item))
    return ItemOut.of(item)


@router.delete("/itineraries/{itinerary_id}/items/{item_id}", status_code=204)
async def remove_item(itinerary_id: str, item_id: str, request: Request,
                      precondition: Precondition | None = Depends(conditional.if_match),
                      principal: Principal = require("itineraries:write")) -> Response:
    await services.remove_item(_transaction(request), principal.tenant_id, _actor(principal), itinerary_id, item_id,
                               precondition)
    return Response(status_code=204)


@router.get("/itineraries/{itinerary_id}/feasibility", response_model=FeasibilityOut)
async def checkfeasibility_of(itinerary_id: str, request: Request,
                            principal: Principal = require("itineraries:read")) -> FeasibilityOut:
    return feasibility_of(await services.view_itinerary(_transaction(request), principal.tenant_id, itinerary_id))


@router.get("/itineraries/{itinerary_id}/disruptions", response_model=DisruptionList)
async def disruptions(itinerary_id: str, request: Request,
                      principal: Principal = require("itineraries:read")) -> DisruptionList:
    """Delays and cancellations reported on the trip's items (feedback's incidents) and, while open, every later
    item that no longer works with the new times, with the shift that would fix it."""
    found = await services.disruptions_of(_transaction(request), principal.tenant_id, itinerary_id)
    return DisruptionList(items=[DisruptionOut.of(disruption, assessment) for disruption, assessment in found])


@router.post("/itineraries/{itinerary_id}/disruptions/{incident_id}/shift", response_model=DisruptionOut)
async def shift_for_disruption(itinerary_id: str, incident_id: str, body: ShiftIn, request: Request,
                               response: Response, precondition: Precondition | None = Depends(conditional.if_match),
                               principal: Principal = require("itineraries:write")) -> DisruptionOut:
    """Apply the shift in one change: booking raises the amendments, notify tells the travellers at once."""
    moves = None
    if body.moves is not None:
        moves = {}
        for move in body.moves:
            moves[move.item_id] = moves.get(move.item_id, 0) + move.minutes
    itinerary, disruption = await services.shift_for_disruption(
        _transaction(request), principal.tenant_id, _actor(principal), itinerary_id, incident_id, moves,
        precondition)
    conditional.tag(response, itinerary.version)
    return DisruptionOut.of(disruption, NOTHING_TO_ASSESS)


@router.get("/itineraries/{itinerary_id}/budget", response_model=BudgetOut)
async def budget(itinerary_id: str, request: Request, principal: Principal = require("itineraries:read")) -> BudgetOut:
    return budget_of(await services.view_itinerary(_transaction(request), principal.tenant_id, itinerary_id))


@router.post("/itineraries/{itinerary_id}/stage", response_model=ItineraryDetailOut)
async def move_stage(itinerary_id: str, body: StageIn, request: Request,
                     principal: Principal = require("itineraries:write")) -> ItineraryDetailOut:
    await services.move_stage(_transaction(request), principal.tenant_id, _actor(principal), itinerary_id,
                              body.stage, body.reason)
    return await _view(request, principal, itinerary_id)


@router.get("/itineraries/{itinerary_id}/final-documents", response_model=FinalDocumentsOut)
async def final_documents_state(itinerary_id: str, request: Request,
                                principal: Principal = require("itineraries:read")) -> FinalDocumentsOut:
    """Whether the trip's final itinerary (PDF and calendar) waits to go, and every time it went."""
    return FinalDocumentsOut.of(await services.final_documents_state(_transaction(request), principal.tenant_id,
                                                                     itinerary_id))


@router.post("/itineraries/{itinerary_id}/final-documents", status_code=202, response_model=FinalDocumentsOut)
async def send_final_documents(itinerary_id: str, request: Request, body: FinalDocumentsIn | None = None,
                               principal: Principal = require("itineraries:write")) -> FinalDocumentsOut:
    """Send the points of contact the final itinerary again, as the trip is now (they get it on their own once
    every booking is confirmed). 409 before the trip is booked."""
    transaction = _transaction(request)
    await services.request_final_documents(transaction, principal.tenant_id, _actor(principal), itinerary_id,
                                           (body or FinalDocumentsIn()).note)
    await services.issue_final_documents(transaction, final_documents(request.app.state.runtime.agencies),
                                         principal.tenant_id, itinerary_id)
    return FinalDocumentsOut.of(await services.final_documents_state(transaction, principal.tenant_id,
                                                                     itinerary_id))


@router.post("/itineraries/{itinerary_id}/proposals", status_code=201, response_model=ProposalOut)
async def send_proposal(itinerary_id: str, body: ProposalIn, request: Request,
                        principal: Principal = require("itineraries:write")) -> ProposalOut:
    """Send the POCs one or more options; each POC is e-mailed a link to approve one or ask for changes."""
    settings = request.app.state.runtime.settings

    def make_link(round_id: str, customer_id: str):
        return proposal_link(request.app.state.link_signer, settings.base_url, principal.tenant_id, itinerary_id,
                             round_id, customer_id, body.valid_days)

    sent = await services.send_proposal(
        _transaction(request), principal.tenant_id, _actor(principal), itinerary_id,
        [OptionRequest(o.title, o.note, o.item_ids) for o in body.options], body.message, make_link,
        override_reason=body.override_reason)
    return ProposalOut.of(sent, current=True)


@router.get("/itineraries/{itinerary_id}/proposals", response_model=ProposalList)
async def list_proposals(itinerary_id: str, request: Request,
                         principal: Principal = require("itineraries:read")) -> ProposalList:
    rounds = (await services.view_itinerary(_transaction(request), principal.tenant_id,
                                            itinerary_id)).itinerary.proposal_rounds
    return ProposalList(items=[ProposalOut.of(r, current=r is rounds[-1]) for r in reversed(rounds)])


@router.post("/itineraries/{itinerary_id}/share-link", status_code=201, response_model=ShareLinkOut)
async def share_link(itinerary_id: str, request: Request, body: ShareLinkIn | None = None,
                     principal: Principal = require("itineraries:write")) -> ShareLinkOut:
    """A signed, expiring link to the client-facing itinerary page and its calendar feed."""
    await services.get_itinerary(_transaction(request), principal.tenant_id, itinerary_id)  # 404 if unknown
    url, expires_at = trip_link(request.app.state.link_signer, request.app.state.runtime.settings.base_url,
                                principal.tenant_id, itinerary_id, (body or ShareLinkIn()).valid_days)
    return ShareLinkOut(url=url, calendar_url=f"{url}/calendar.ics", expires_at=expires_at)


@router.get("/itineraries/{itinerary_id}/history", response_model=AuditPage)
async def itinerary_history(itinerary_id: str, request: Request, after_version: int = Query(0, ge=0, le=2**31),
                            limit: int = Query(50, ge=1, le=200),
                            principal: Principal = require("itineraries:read")) -> AuditPage:
    entries = await services.history(_transaction(request), principal.tenant_id, itinerary_id, limit=limit + 1,
                                     after_version=after_version)
    page = entries[:limit]
    return AuditPage(items=[AuditEntryOut(**entry) for entry in page],
                     next_after_version=page[-1]["version"] if len(entries) > limit else None)


@router.get("/itineraries/{itinerary_id}/calendar.ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}, "description": "iCalendar (RFC 5545) feed."}})
async def calendar(itinerary_id: str, request: Request, language: Literal["en", "zh-Hans"] = Query("en"),
                   principal: Principal = require("itineraries:read")):
    view = await services.view_itinerary(_transaction(request), principal.tenant_id, itinerary_id)
    return Response(calendar_feed(view.itinerary, await client_context(request, view, language)),
                    media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="itinerary-{itinerary_id}.ics"'})


@router.get("/itineraries/{itinerary_id}/itinerary.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "Printable itinerary."}})
async def itinerary_document(itinerary_id: str, request: Request,
                             language: Literal["en", "zh-Hans"] = Query("en"),
                             principal: Principal = require("itineraries:read")):
    view = await services.view_itinerary(_transaction(request), principal.tenant_id, itinerary_id)
    return Response(itinerary_pdf(view.itinerary, await client_context(request, view, language)),
                    media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="itinerary-{itinerary_id}.pdf"'})


@router.get("/itineraries/{itinerary_id}/customers", response_model=LinkedCustomerList)
async def list_linked_customers(itinerary_id: str, request: Request,
                                principal: Principal = require("itineraries:read")) -> LinkedCustomerList:
    return LinkedCustomerList(items=(await _view(request, principal, itinerary_id)).customers)


@router.post("/itineraries/{itinerary_id}/customers", status_code=201, response_model=ItineraryDetailOut)
async def link_customer(itinerary_id: str, body: LinkIn, request: Request,
                        principal: Principal = require("itineraries:write")) -> ItineraryDetailOut:
    linked = await services.link_customer(_transaction(request), principal.tenant_id, _actor(principal),
                                          itinerary_id, body.customer_id, body.is_poc,
                                          request.app.state.runtime.settings.read_model_wait_s)
    return await _view(request, principal, itinerary_id, changed=linked)


@router.patch("/itineraries/{itinerary_id}/customers/{customer_id}", response_model=ItineraryDetailOut)
async def set_poc(itinerary_id: str, customer_id: str, body: PocIn, request: Request, response: Response,
                  precondition: Precondition | None = Depends(conditional.if_match),
                  principal: Principal = require("itineraries:write")) -> ItineraryDetailOut:
    changed = await services.set_poc(_transaction(request), principal.tenant_id, _actor(principal), itinerary_id,
                                     customer_id, body.is_poc, precondition)
    return await _view(request, principal, itinerary_id, response, changed=changed)


@router.delete("/itineraries/{itinerary_id}/customers/{customer_id}", response_model=ItineraryDetailOut)
async def unlink_customer(itinerary_id: str, customer_id: str, request: Request, response: Response,
                          precondition: Precondition | None = Depends(conditional.if_match),
                          principal: Principal = require("itineraries:write")) -> ItineraryDetailOut:
    changed = await services.unlink_customer(_transaction(request), principal.tenant_id, _actor(principal),
                                             itinerary_id, customer_id, precondition)
    return await _view(request, principal, itinerary_id, response, changed=changed)


# --- the agency's settings ---------------------------------------------------------------------------------------

@router.get("/settings", response_model=AgencySettingsOut, tags=["settings"])
async def get_settings(request: Request, principal: Principal = require("itineraries:read")) -> AgencySettingsOut:
    """The agency's travel-time assumptions and exchange rates, as feasibility and budget use them."""
    return AgencySettingsOut.of(await services.agency_settings(_transaction(request), principal.tenant_id))


@router.patch("/settings/travel", response_model=AgencySettingsOut, tags=["settings"])
async def change_travel_settings(body: TravelSettingsIn, request: Request,
                                 principal: Principal = require("itineraries:write")) -> AgencySettingsOut:
    """Change some of the agency's speeds per mode and its airport and hotel buffers; the rest stay."""
    changes = body.model_dump(exclude_none=True)
    return AgencySettingsOut.of(await services.change_travel_settings(_transaction(request), principal.tenant_id,
                                                                      changes))


@router.put("/settings/exchange-rates/{from_currency}/{to_currency}", response_model=AgencySettingsOut,
            tags=["settings"])
async def set_exchange_rate(from_currency: Currency, to_currency: Currency, body: ExchangeRateIn, request: Request,
                            principal: Principal = require("itineraries:write")) -> AgencySettingsOut:
    """The agency's rate for a pair (replacing the one before), who entered it, from which source."""
    return AgencySettingsOut.of(await services.set_exchange_rate(
        _transaction(request), principal.tenant_id, _actor(principal), from_currency, to_currency, body.rate,
        body.as_of, body.source))


@router.delete("/settings/exchange-rates/{from_currency}/{to_currency}", response_model=AgencySettingsOut,
               tags=["settings"])
async def remove_exchange_rate(from_currency: Currency, to_currency: Currency, request: Request,
                               principal: Principal = require("itineraries:write")) -> AgencySettingsOut:
    return AgencySettingsOut.of(await services.remove_exchange_rate(_transaction(request), principal.tenant_id,
                                                                    from_currency, to_currency))
