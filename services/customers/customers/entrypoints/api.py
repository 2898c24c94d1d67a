"""HTTP API of the customers service: request/response shapes and routing only."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from customers.domain.consultation import Consultation, Source
from customers.domain.model import Customer
from customers.entrypoints import forms
from customers.entrypoints.schemas import PreferencesIn
from customers.service_layer import services
from trip_shared.contracts.customers import Preferences
from trip_shared.preconditions import Precondition
from trip_shared.web import conditional
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.fields import IsoDate, Line, Text, refuse_nulls
from trip_shared.web.pagination import decode_cursor, encode_cursor

router = v1_router(tags=["customers"])


Email = Annotated[Line, Field(max_length=320)]
Phone = Annotated[Line, Field(max_length=40)]


class CustomerDetails(BaseModel):
    model_config = ConfigDict(extra="forbid")
    last_name: Line | None = Field(None, max_length=200)
    preferred_language: Literal["en", "zh-Hans"] | None = None
    home_timezone: Line | None = Field(None, max_length=64, description="IANA zone where the customer lives, e.g. "
                                       "Europe/London: reminders before the trip go at their local time.")
    date_of_birth: IsoDate | None = None
    nationality: Line | None = Field(None, max_length=2, description="ISO 3166 alpha-2, e.g. CN, GB.")
    passport_number: Line | None = Field(None, max_length=30)
    passport_expiry: IsoDate | None = None
    notes: Text | None = Field(None, max_length=5000, description="E.g. group relationships: 'travels with ...'.")


class CustomerIn(CustomerDetails):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "first_name": "Mei", "last_name": "Chen", "email": "mei@example.com", "phone": "+44 7911 123456",
        "preferred_language": "zh-Hans", "home_timezone": "Europe/London", "passport_expiry": "2031-04-30"}]})
    first_name: Line = Field(min_length=1, max_length=200)
    email: Email | None = Field(None, description="Shorthand for a single e-mail; added first to `emails`.")
    phone: Phone | None = Field(None, description="Shorthand for a single phone, with country code.")
    emails: list[Email] = Field(default_factory=list, max_length=10)
    phones: list[Phone] = Field(default_factory=list, max_length=10)


class CustomerPatch(CustomerDetails):
    first_name: Line | None = Field(None, min_length=1, max_length=200)
    emails: list[Email] | None = Field(None, max_length=10)
    phones: list[Phone] | None = Field(None, max_length=10)
    status: Literal["active", "inactive"] | None = None


class CustomerOut(BaseModel):
    id: str
    first_name: str
    last_name: str | None
    email: str | None = Field(description="The first of `emails`.")
    phone: str | None = Field(description="The first of `phones`, E.164.")
    emails: list[str]
    phones: list[str]
    preferred_language: str
    home_timezone: str | None
    date_of_birth: date | None
    nationality: str | None
    passport_number: str | None
    passport_expiry: date | None
    notes: str | None
    status: str = Field(description="active, inactive, or merged (then see merged_into).")
    merged_into: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerOut:
        fields = {name: getattr(customer, name) for name in cls.model_fields if hasattr(customer, name)}
        return cls(**fields, email=customer.emails[0] if customer.emails else None,
                   phone=customer.phones[0] if customer.phones else None)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duplicate_id: str = Field(min_length=1, max_length=100, description="The record to fold into this one.")


class ConsultationIn(PreferencesIn):
    model_config = ConfigDict(extra="forbid")
    source: Source = Field("interview", description="How the preferences were gathered.")


class ConsultationOut(BaseModel):
    version: int
    source: str
    recorded_by: str
    recorded_at: datetime
    preferences: dict

    @classmethod
    def of(cls, consultation: Consultation) -> ConsultationOut:
        return cls(**{name: getattr(consultation, name) for name in cls.model_fields})


class ConsultationList(BaseModel):
    items: list[ConsultationOut] = Field(description="Newest first; the first is the current one.")


class HistoryList(BaseModel):
    items: list[dict] = Field(description="Oldest first: version, at, actor, action, changes[field, before, after].")


class CustomerExport(BaseModel):
    customer: CustomerOut
    consultations: list[ConsultationOut]
    history: list[dict]
    exported_at: datetime


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last.")


def _transaction(request: Request):
    return request.app.state.runtime.transaction


@router.post("/customers", status_code=201, response_model=CustomerOut)
async def create_customer(body: CustomerIn, request: Request, response: Response,
                          allow_duplicate: bool = Query(False, description="Create it even if it looks like a "
                                                                            "customer the agency already has."),
                          principal: Principal = require("customers:write")) -> CustomerOut:
    details = body.model_dump(exclude_unset=True, exclude={"email", "phone", "emails", "phones"})
    details["emails"] = ([body.email] if body.email else []) + body.emails
    details["phones"] = ([body.phone] if body.phone else []) + body.phones
    customer = await services.create_customer(_transaction(request), principal.tenant_id, principal.name, details,
                                              allow_duplicate)
    response.headers["Location"] = f"/v1/customers/{customer.id}"
    conditional.tag(response, customer.version)
    return CustomerOut.of(customer)


@router.get("/customers", response_model=CustomerPage)
async def search_customers(
    request: Request,
    q: str = Query("", max_length=200, description="Prefix of a first or last name, e-mail, or phone digits. "
                   "Whole-name matches come first, then name prefixes, then e-mail matches; each group by name."),
    include_inactive: bool = Query(False, description="Also return inactive customers."),
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=500),
    principal: Principal = require("customers:read"),
) -> CustomerPage:
    found = await services.search_customers(
        _transaction(request), principal.tenant_id, q, include_inactive=include_inactive, limit=limit + 1,
        after=decode_cursor(cursor),
    )
    page = found[:limit]
    next_cursor = encode_cursor(page[-1][0]) if len(found) > limit else None
    return CustomerPage(items=[CustomerOut.of(customer) for _, customer in page], next_cursor=next_cursor)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: str, request: Request, response: Response,
                       principal: Principal = require("customers:read")) -> CustomerOut:
    customer = await services.get_customer(_transaction(request), principal.tenant_id, customer_id)
    conditional.tag(response, customer.version)
    return CustomerOut.of(customer)


@router.patch("/customers/{customer_id}", response_model=CustomerOut)
async def update_customer(customer_id: str, body: CustomerPatch, request: Request, response: Response,
                          precondition: Precondition | None = Depends(conditional.if_match),
                          principal: Principal = require("customers:write")) -> CustomerOut:
    changes = refuse_nulls(body.model_dump(exclude_unset=True), "first_name", "status", "preferred_language",
                           "emails", "phones")
    customer = await services.update_customer(_transaction(request), principal.tenant_id, principal.name,
                                              customer_id, changes, precondition)
    conditional.tag(response, customer.version)
    return CustomerOut.of(customer)


@router.post("/customers/{customer_id}/merge", response_model=CustomerOut)
async def merge_customers(customer_id: str, body: MergeIn, request: Request,
                          principal: Principal = require("customers:write")) -> CustomerOut:
    """Fold a duplicate into this customer; every itinerary link of the duplicate moves here."""
    survivor = await services.merge_customers(_transaction(request), principal.tenant_id, principal.name,
                                              customer_id, body.duplicate_id)
    return CustomerOut.of(survivor)


class ProfileLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_days: int = Field(7, ge=1, le=30)


class ProfileLinkOut(BaseModel):
    url: str = Field(description="Send this to the customer; it opens their profile form, no login needed.")
    expires_at: datetime


@router.post("/customers/{customer_id}/profile-link", status_code=201, response_model=ProfileLinkOut)
async def profile_link(customer_id: str, request: Request, body: ProfileLinkIn | None = None,
                       principal: Principal = require("customers:write")) -> ProfileLinkOut:
    """A signed, expiring link to a page where the customer completes or corrects their details and wishes.
    The customer is e-mailed the link; it is also returned, to send another way."""
    url, expires_at = await services.issue_profile_link(
        _transaction(request), principal.tenant_id, customer_id, timedelta(days=(body or ProfileLinkIn()).valid_days),
        lambda link: forms.link_url(request.app.state.link_signer, request.app.state.runtime.settings.base_url, link))
    return ProfileLinkOut(url=url, expires_at=expires_at)


class ErasureOut(BaseModel):
    customer_id: str
    requested_at: datetime
    requested_by: str
    confirmations: dict = Field(description="Service → when it confirmed and what it scrubbed.")
    pending: list[str] = Field(description="Services that have not confirmed yet.")
    complete: bool


@router.post("/customers/{customer_id}/erasure", status_code=202, response_model=ErasureOut)
async def erase_customer(customer_id: str, request: Request,
                         principal: Principal = require("customers:write")) -> ErasureOut:
    """Erase the customer's personal data here and in every service holding a copy; follow it on GET."""
    return ErasureOut(**await services.erase_customer(_transaction(request), principal.tenant_id, principal.name,
                                                      customer_id))


@router.get("/customers/{customer_id}/erasure", response_model=ErasureOut)
async def erasure_status(customer_id: str, request: Request,
                         principal: Principal = require("customers:read")) -> ErasureOut:
    return ErasureOut(**await services.erasure_status(_transaction(request), principal.tenant_id, customer_id))


@router.delete("/customers/{customer_id}", status_code=204)
async def delete_customer(customer_id: str, request: Request,
                          precondition: Precondition | None = Depends(conditional.if_match),
                          principal: Principal = require("customers:write")) -> Response:
    """Deletes the record and unlinks the customer from every itinerary. Deactivating keeps booking history."""
    await services.delete_customer(_transaction(request), principal.tenant_id, principal.name, customer_id,
                                   precondition)
    return Response(status_code=204)


@router.get("/customers/{customer_id}/history", response_model=HistoryList)
async def customer_history(customer_id: str, request: Request,
                           principal: Principal = require("customers:read")) -> HistoryList:
    return HistoryList(items=await services.history(_transaction(request), principal.tenant_id, customer_id))


@router.post("/customers/{customer_id}/consultations", status_code=201, response_model=ConsultationOut)
async def record_consultation(customer_id: str, body: ConsultationIn, request: Request,
                              principal: Principal = require("customers:write")) -> ConsultationOut:
    preferences = Preferences.model_validate(body.model_dump(exclude={"source"}))
    consultation = await services.record_consultation(_transaction(request), principal.tenant_id, principal.name,
                                                      customer_id, preferences, body.source)
    return ConsultationOut.of(consultation)


@router.get("/customers/{customer_id}/consultations", response_model=ConsultationList)
async def list_consultations(customer_id: str, request: Request,
                             principal: Principal = require("customers:read")) -> ConsultationList:
    found = await services.consultations(_transaction(request), principal.tenant_id, customer_id)
    return ConsultationList(items=[ConsultationOut.of(c) for c in found])


@router.get("/customers/{customer_id}/export", response_model=CustomerExport)
async def export_customer(customer_id: str, request: Request,
                          principal: Principal = require("customers:read")) -> CustomerExport:
    exported = await services.export_customer(_transaction(request), principal.tenant_id, customer_id)
    return CustomerExport(customer=CustomerOut.of(exported["customer"]),
                          consultations=[ConsultationOut.of(c) for c in exported["consultations"]],
                          history=exported["history"], exported_at=exported["exported_at"])
