"""HTTP API of the customers service: request/response shapes and routing only."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from customers.domain.model import Customer
from customers.service_layer import services
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.pagination import decode_cursor, encode_cursor
from trip_shared.web.problems import ApiProblem

router = v1_router(tags=["customers"])


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(min_length=1, max_length=200)
    last_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, description="Shorthand for a single e-mail; added first to `emails`.")
    phone: str | None = Field(None, description="Shorthand for a single phone, with country code.")
    emails: list[str] = Field(default_factory=list, max_length=10)
    phones: list[str] = Field(default_factory=list, max_length=10)
    preferred_language: Literal["en", "zh-Hans"] = "en"


class CustomerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: str | None = Field(None, min_length=1, max_length=200)
    last_name: str | None = Field(None, max_length=200)
    emails: list[str] | None = Field(None, max_length=10)
    phones: list[str] | None = Field(None, max_length=10)
    preferred_language: Literal["en", "zh-Hans"] | None = None
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
    status: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerOut:
        return cls(
            id=customer.id, first_name=customer.first_name, last_name=customer.last_name,
            email=customer.emails[0] if customer.emails else None,
            phone=customer.phones[0] if customer.phones else None, emails=customer.emails, phones=customer.phones,
            preferred_language=customer.preferred_language, status=customer.status, version=customer.version,
            created_at=customer.created_at, updated_at=customer.updated_at,
        )


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last.")


def _transaction(request: Request):
    return request.app.state.runtime.transaction


@router.post("/customers", status_code=201, response_model=CustomerOut)
async def create_customer(body: CustomerIn, request: Request, response: Response,
                          principal: Principal = require("customers:write")) -> CustomerOut:
    new = services.NewCustomer(
        first_name=body.first_name, last_name=body.last_name,
        emails=tuple(([body.email] if body.email else []) + body.emails),
        phones=tuple(([body.phone] if body.phone else []) + body.phones),
        preferred_language=body.preferred_language,
    )
    customer = await services.create_customer(_transaction(request), principal.tenant_id, new)
    response.headers["Location"] = f"/v1/customers/{customer.id}"
    return CustomerOut.of(customer)


@router.get("/customers", response_model=CustomerPage)
async def search_customers(
    request: Request,
    q: str = Query("", max_length=200, description="Prefix of a first or last name, e-mail, or phone digits."),
    include_inactive: bool = Query(False, description="Also return inactive customers."),
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None),
    principal: Principal = require("customers:read"),
) -> CustomerPage:
    found = await services.search_customers(
        _transaction(request), principal.tenant_id, q, include_inactive=include_inactive, limit=limit + 1,
        after=decode_cursor(cursor),
    )
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].sort_key) if len(found) > limit else None
    return CustomerPage(items=[CustomerOut.of(c) for c in page], next_cursor=next_cursor)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: str, request: Request,
                       principal: Principal = require("customers:read")) -> CustomerOut:
    return CustomerOut.of(await services.get_customer(_transaction(request), principal.tenant_id, customer_id))


@router.patch("/customers/{customer_id}", response_model=CustomerOut)
async def update_customer(customer_id: str, body: CustomerPatch, request: Request,
                          principal: Principal = require("customers:write")) -> CustomerOut:
    changes = body.model_dump(exclude_unset=True)
    if any(changes.get(name) is None for name in ("first_name", "status", "preferred_language") if name in changes):
        raise ApiProblem(422, "invalid-request", "The request is not valid",
                         "first_name, status and preferred_language cannot be null.")
    customer = await services.update_customer(_transaction(request), principal.tenant_id, customer_id, changes)
    return CustomerOut.of(customer)
