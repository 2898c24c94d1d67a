"""HTTP API of the agency's suppliers: request/response shapes and routing only."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from booking.domain.suppliers import CHANNELS, LANGUAGES, SUPPLIER_KINDS, Supplier
from booking.service_layer import services
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.fields import Line, Text, refuse_nulls
from trip_shared.webhooks import supplier_secret

router = v1_router(tags=["suppliers"])
Kind = Literal[SUPPLIER_KINDS]  # type: ignore[valid-type]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line | None = Field(None, max_length=200)
    role: Line | None = Field(None, max_length=100, description="e.g. reservations, night manager.")
    email: EmailStr | None = Field(None, max_length=320)
    phone: Line | None = Field(None, max_length=40, description="With its country code.")


class SupplierIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Hiiragiya Ryokan", "kind": "hotel", "channel": "email", "language": "zh-Hans",
         "contacts": [{"role": "reservations", "email": "reserve@hiiragiya.example", "phone": "+81 75 221 1136"}],
         "address": "Fuyacho-Anekoji-agaru, Nakagyo-ku, Kyoto"}]})
    name: Line = Field(min_length=1, max_length=200)
    kind: Kind
    channel: Literal[CHANNELS] = "email"  # type: ignore[valid-type]
    language: Literal[LANGUAGES] = "en"  # type: ignore[valid-type]
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    address: Text | None = Field(None, max_length=500)
    notes: Text | None = Field(None, max_length=5000, description="The agency's own; never sent to the supplier.")
    webhook_url: Line | None = Field(None, max_length=500, description="Where a webhook supplier takes requests.")
    active: bool = True


class SupplierPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line | None = Field(None, min_length=1, max_length=200)
    kind: Kind | None = None
    channel: Literal[CHANNELS] | None = None  # type: ignore[valid-type]
    language: Literal[LANGUAGES] | None = None  # type: ignore[valid-type]
    contacts: list[ContactIn] | None = Field(None, max_length=20)
    address: Text | None = Field(None, max_length=500)
    notes: Text | None = Field(None, max_length=5000)
    webhook_url: Line | None = Field(None, max_length=500)
    active: bool | None = None


class ContactOut(BaseModel):
    name: str | None
    role: str | None
    email: str | None
    phone: str | None


class ScorecardOut(BaseModel):
    """What feedback counts of the supplier, all time: travellers' ratings, incidents, complaints at its fault."""
    ratings: int
    average_rating: float | None
    bookings: int
    incidents: int
    incidents_per_100_bookings: float | None
    complaints: int


class SupplierOut(BaseModel):
    id: str
    name: str
    kind: str
    channel: str
    language: str
    contacts: list[ContactOut]
    address: str | None
    notes: str | None
    webhook_url: str | None
    active: bool
    version: int
    created_at: datetime
    signing_secret: str | None = Field(None, description="Only in the answer that made it (the supplier's creation "
                                                         "or a rotation): store it now, it is not shown again.")
    scorecard: ScorecardOut | None = Field(None, description="How it does by the agency's records (feedback's "
                                                              "scorecard), once there is one.")

    @classmethod
    def of(cls, supplier: Supplier, *, secret_key: str | None = None, scorecard: dict | None = None) -> SupplierOut:
        """With ``secret_key``, the answer shows the supplier's (new) signing secret, derived from it."""
        fields = {name: getattr(supplier, name) for name in cls.model_fields if name not in ("contacts",
                                                                                             "signing_secret",
                                                                                             "scorecard")}
        secret = supplier_secret(secret_key, supplier.tenant_id, supplier.id, supplier.secret_generation) \
            if secret_key and supplier.secret_generation else None
        return cls(**fields, contacts=[ContactOut(**vars(contact)) for contact in supplier.contacts],
                   signing_secret=secret, scorecard=ScorecardOut(**scorecard) if scorecard else None)


class SupplierList(BaseModel):
    items: list[SupplierOut]


def _transaction(request: Request):
    return request.app.state.runtime.transaction


def _secret_key(request: Request) -> str:
    return request.app.state.runtime.settings.supplier_secret_key


@router.post("/suppliers", status_code=201, response_model=SupplierOut)
async def register_supplier(body: SupplierIn, request: Request, response: Response,
                            principal: Principal = require("bookings:write")) -> SupplierOut:
    supplier = await services.register_supplier(_transaction(request), principal.tenant_id,
                                                body.model_dump(mode="json"))
    response.headers["Location"] = f"/v1/suppliers/{supplier.id}"
    return SupplierOut.of(supplier, secret_key=_secret_key(request))


@router.get("/suppliers", response_model=SupplierList)
async def find_suppliers(request: Request, q: str | None = Query(None, max_length=100, description="Name words."),
                         kind: Kind | None = None, active: bool | None = None,
                         principal: Principal = require("bookings:read")) -> SupplierList:
    found = await services.find_suppliers(_transaction(request), principal.tenant_id, query=q, kind=kind,
                                          active=active)
    cards = await services.scorecards_of(_transaction(request), principal.tenant_id, found)
    return SupplierList(items=[SupplierOut.of(supplier, scorecard=cards.get(supplier.name)) for supplier in found])


@router.get("/suppliers/{supplier_id}", response_model=SupplierOut)
async def get_supplier(supplier_id: str, request: Request,
                       principal: Principal = require("bookings:read")) -> SupplierOut:
    supplier = await services.get_supplier(_transaction(request), principal.tenant_id, supplier_id)
    cards = await services.scorecards_of(_transaction(request), principal.tenant_id, [supplier])
    return SupplierOut.of(supplier, scorecard=cards.get(supplier.name))


@router.patch("/suppliers/{supplier_id}", response_model=SupplierOut)
async def change_supplier(supplier_id: str, body: SupplierPatch, request: Request,
                          principal: Principal = require("bookings:write")) -> SupplierOut:
    changes = refuse_nulls(body.model_dump(mode="json", exclude_unset=True), "name", "kind", "channel", "language",
                           "contacts", "active")
    supplier, new_secret = await services.change_supplier(_transaction(request), principal.tenant_id, supplier_id,
                                                          changes)
    return SupplierOut.of(supplier, secret_key=_secret_key(request) if new_secret else None)


@router.post("/suppliers/{supplier_id}/signing-secret", response_model=SupplierOut)
async def rotate_signing_secret(supplier_id: str, request: Request,
                                principal: Principal = require("bookings:write")) -> SupplierOut:
    """A new signing secret for a webhook supplier; the old one stops working at once."""
    supplier = await services.rotate_signing_secret(_transaction(request), principal.tenant_id, supplier_id)
    return SupplierOut.of(supplier, secret_key=_secret_key(request))
