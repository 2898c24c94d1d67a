"""Use cases of the customers service. Each runs in one transaction and emits its integration events."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from customers.domain.consultation import Consultation, Source
from customers.domain.links import IssuedLink
from customers.domain.model import (
    ERASURE_CONFIRMERS,
    Customer,
    SearchQuery,
    duplicate_reasons,
    normalise_email,
)
from customers.service_layer.unit_of_work import CustomersUnitOfWork
from trip_shared import preconditions
from trip_shared.clock import utc_now
from trip_shared.contracts.customers import (
    CustomerCreated,
    CustomerDeactivated,
    CustomerDeleted,
    CustomerErased,
    CustomersMerged,
    CustomerSnapshot,
    CustomerState,
    CustomerUpdated,
    DeletedCustomer,
    EmailConfirmation,
    EmailConfirmationRequested,
    ErasedCustomer,
    MergedCustomers,
    Preferences,
    PreferencesRecorded,
    ProfileLink,
    ProfileLinkIssued,
)
from trip_shared.contracts.envelope import Tombstone
from trip_shared.contracts.privacy import ErasureConfirmed
from trip_shared.errors import ConflictError, NotFoundError
from trip_shared.preconditions import Precondition
from trip_shared.privacy import forget_published_events
from trip_shared.web.signed_links import InvalidLink, LinkClaims

PRODUCER = "customers"
PROFILE_FORM, EMAIL_CONFIRMATION = "customer-profile", "customer-email-confirmation"
Transaction = Callable[[Callable[[CustomersUnitOfWork], Awaitable]], Awaitable]


class PossibleDuplicate(ConflictError):
    code = "possible-duplicate"


def snapshot(customer: Customer) -> CustomerSnapshot:
    return CustomerSnapshot(
        customer_id=customer.id, first_name=customer.first_name, last_name=customer.last_name,
        emails=customer.emails, phones=customer.phones, preferred_language=customer.preferred_language,
        home_timezone=customer.home_timezone, status=customer.status, passport_expiry=customer.passport_expiry,
    )


def _publish_state(uow: CustomersUnitOfWork, customer: Customer) -> None:
    """The customer's whole state after a change, on the compacted topic services rebuild their copies from."""
    uow.emit(CustomerState(data=snapshot(customer), **_envelope(customer)))


def _envelope(customer: Customer) -> dict:
    return {"tenant_id": customer.tenant_id, "aggregate_id": customer.id,
            "aggregate_version": customer.version, "producer": PRODUCER}


def _summary(customer: Customer, reasons: list[str]) -> dict:
    return {"id": customer.id, "first_name": customer.first_name, "last_name": customer.last_name,
            "emails": customer.emails, "phones": customer.phones, "status": customer.status, "reasons": reasons}


async def _load(uow: CustomersUnitOfWork, tenant_id: str, customer_id: str) -> Customer:
    customer = await uow.customers(tenant_id).get(customer_id)
    if customer is None:
        raise NotFoundError(f"No customer {customer_id}.", code="customer-not-found")
    return customer


async def create_customer(transaction: Transaction, tenant_id: str, actor: str, details: dict,
                          allow_duplicate: bool = False) -> Customer:
    """Register a customer, unless it looks like one the agency already has (then say which, and why)."""
    customer = Customer.register(tenant_id, **details)

    async def look_for_duplicates(uow: CustomersUnitOfWork) -> list[tuple[Customer, list[str]]]:
        candidates = [(other, duplicate_reasons(customer, other))
                      for other in await uow.customers(tenant_id).possible_duplicates(customer)]
        return [(other, reasons) for other, reasons in candidates if reasons]

    # Before the transaction, not in it: a snapshot would not see a twin being created at the same moment either,
    # and reads inside it would hold the embedded server's lock for the writers.
    candidates = [] if allow_duplicate else await transaction(look_for_duplicates, read_only=True)
    if candidates:
        raise PossibleDuplicate(
            "This looks like a customer the agency already has. Use the existing record, or send the "
            "request again with allow_duplicate=true if this really is someone else.",
            duplicates=[_summary(other, reasons) for other, reasons in candidates])

    async def work(uow: CustomersUnitOfWork) -> None:
        repository = uow.customers(tenant_id)
        await repository.add(customer)
        await repository.record_history(customer, actor, "created", [])
        uow.emit(CustomerCreated(data=snapshot(customer), **_envelope(customer)))
        _publish_state(uow, customer)

    await transaction(work)
    return customer


async def update_customer(transaction: Transaction, tenant_id: str, actor: str, customer_id: str,
                          changes: dict, precondition: Precondition | None = None) -> Customer:
    async def work(uow: CustomersUnitOfWork) -> Customer:
        return await _update(uow, tenant_id, actor, customer_id, changes, precondition)

    return await transaction(work)


async def _update(uow: CustomersUnitOfWork, tenant_id: str, actor: str, customer_id: str, changes: dict,
                  precondition: Precondition | None = None) -> Customer:
    repository = uow.customers(tenant_id)
    customer = await _load(uow, tenant_id, customer_id)
    preconditions.check(precondition, customer.version, "customer")
    expected_version = customer.version
    changed = customer.update(changes)
    if changed:
        await repository.save(customer, expected_version)
        await repository.record_history(customer, actor, "updated", changed)
        names = [name for name, _, _ in changed]
        if ("status", "active", "inactive") in changed:
            uow.emit(CustomerDeactivated(data=snapshot(customer), **_envelope(customer)))
        else:
            uow.emit(CustomerUpdated(data=snapshot(customer), changed_fields=names, **_envelope(customer)))
        _publish_state(uow, customer)
    return customer


async def merge_customers(transaction: Transaction, tenant_id: str, actor: str, survivor_id: str,
                          duplicate_id: str) -> Customer:
    """The duplicate is the same person: the survivor takes its details and links; both keep their history."""
    async def work(uow: CustomersUnitOfWork) -> Customer:
        repository = uow.customers(tenant_id)
        survivor = await _load(uow, tenant_id, survivor_id)
        duplicate = await _load(uow, tenant_id, duplicate_id)
        survivor_version, duplicate_version = survivor.version, duplicate.version
        changed = survivor.absorb(duplicate)
        await repository.save(survivor, survivor_version)
        await repository.save(duplicate, duplicate_version)
        await repository.record_history(survivor, actor, "merged", [("merged_from", None, duplicate.id), *changed])
        await repository.record_history(duplicate, actor, "merged", [("merged_into", None, survivor.id)])
        uow.emit(CustomersMerged(data=MergedCustomers(survivor=snapshot(survivor), merged_customer_id=duplicate.id),
                                 **_envelope(survivor)))
        _publish_state(uow, survivor)
        uow.emit(Tombstone(CustomerState.TOPIC, tenant_id, duplicate.id))  # merged away: its copies go
        return survivor

    return await transaction(work)


async def erase_customer(transaction: Transaction, tenant_id: str, actor: str, customer_id: str) -> dict:
    """Right to erasure: scrub the record here, then every service holding a copy scrubs it and confirms."""
    async def work(uow: CustomersUnitOfWork) -> None:
        customer = await _load(uow, tenant_id, customer_id)
        customer.erase()
        repository = uow.customers(tenant_id)
        await repository.save(customer, customer.version - 1)
        await repository.erase_records(customer, actor)
        await uow.issued_links(tenant_id).forget(customer_id)  # they hold an address, and must stop working
        await forget_published_events(uow, tenant_id, customer_id)
        await uow.erasures(tenant_id).open(customer_id, actor, ERASURE_CONFIRMERS)
        uow.emit(CustomerErased(data=ErasedCustomer(customer_id=customer_id), **_envelope(customer)))
        uow.emit(Tombstone(CustomerState.TOPIC, tenant_id, customer_id))  # how an erasure reaches Kafka

    await transaction(work)
    return await erasure_status(transaction, tenant_id, customer_id)


async def erasure_status(transaction: Transaction, tenant_id: str, customer_id: str) -> dict:
    found = await transaction(lambda uow: uow.erasures(tenant_id).get(customer_id))
    if found is None:
        raise NotFoundError(f"No erasure was requested for customer {customer_id}.", code="erasure-not-found")
    pending = [service for service in found["expected"] if service not in found["confirmations"]]
    return {"customer_id": customer_id, "requested_at": found["requested_at"], "requested_by": found["requested_by"],
            "confirmations": found["confirmations"], "pending": pending, "complete": not pending}


async def record_erasure_confirmation(event: ErasureConfirmed, uow: CustomersUnitOfWork) -> None:
    await uow.erasures(event.tenant_id).confirm(event.data.customer_id, event.data.service, event.data.scrubbed)


MakeLink = Callable[[IssuedLink], str]


async def issue_profile_link(transaction: Transaction, tenant_id: str, customer_id: str, valid_for: timedelta,
                             make_link: MakeLink) -> tuple[str, datetime]:
    """A single-use link for the customer to complete their profile, superseding any earlier one; notify
    e-mails it to them."""
    async def work(uow: CustomersUnitOfWork) -> tuple[str, datetime]:
        customer = await _load(uow, tenant_id, customer_id)
        _check_editable(customer)
        link = IssuedLink(customer_id, tenant_id, PROFILE_FORM, utc_now() + valid_for)
        await uow.issued_links(tenant_id).issue(link)
        url = make_link(link)
        uow.emit(ProfileLinkIssued(data=ProfileLink(customer_id=customer_id, url=url, expires_at=link.expires_at),
                                   **_envelope(customer)))
        return url, link.expires_at

    return await transaction(work)


def _check_editable(customer: Customer) -> None:
    if customer.status not in ("active", "inactive"):
        raise ConflictError(f"This customer is {customer.status}; their profile cannot be edited.",
                            code="not-editable")


async def _usable_link(uow: CustomersUnitOfWork, claims: LinkClaims, purpose: str) -> IssuedLink:
    link = await uow.issued_links(claims.tenant_id).get(claims.link_id or "", purpose)
    if link is None:
        raise InvalidLink("This link is not one we sent, or it was withdrawn.")
    link.check_usable(claims.subject_id)
    return link


async def open_profile_form(transaction: Transaction, claims: LinkClaims) -> tuple[Customer, dict]:
    """The customer and their current wishes, if the link is the current, unused one."""
    async def work(uow: CustomersUnitOfWork) -> tuple[Customer, dict]:
        await _usable_link(uow, claims, PROFILE_FORM)
        customer = await _load(uow, claims.tenant_id, claims.subject_id)
        if customer.status not in ("active", "inactive"):
            raise InvalidLink("This profile can no longer be edited.")
        history = await uow.customers(claims.tenant_id).consultations(customer.id)
        return customer, (history[0].preferences if history else {})

    return await transaction(work)


async def submit_profile_form(transaction: Transaction, claims: LinkClaims, actor: str, changes: dict,
                              preferences: Preferences | None, new_email: str | None, valid_for: timedelta,
                              make_confirmation_link: MakeLink) -> Customer:
    """Everything the form says, in one transaction that also spends the link: the details, the wishes (as a
    consultation, if they changed), and a confirmation sent to a new e-mail address before it is used."""
    async def work(uow: CustomersUnitOfWork) -> Customer:
        link = await _usable_link(uow, claims, PROFILE_FORM)
        customer = await _update(uow, claims.tenant_id, actor, claims.subject_id, changes)
        if preferences is not None:
            await _record_consultation(uow, claims.tenant_id, actor, customer.id, preferences, "profile_form")
        if new_email and new_email not in customer.emails:
            confirmation = IssuedLink(customer.id, claims.tenant_id, EMAIL_CONFIRMATION, utc_now() + valid_for,
                                      email=normalise_email(new_email))
            await uow.issued_links(claims.tenant_id).issue(confirmation)
            current = await _load(uow, claims.tenant_id, customer.id)
            uow.emit(EmailConfirmationRequested(
                data=EmailConfirmation(customer_id=customer.id, email=confirmation.email,
                                       url=make_confirmation_link(confirmation), expires_at=confirmation.expires_at),
                **_envelope(current)))
        link.use()
        await uow.issued_links(claims.tenant_id).mark_used(link)
        return customer

    return await transaction(work)


async def open_email_confirmation(transaction: Transaction, claims: LinkClaims) -> tuple[Customer, str]:
    async def work(uow: CustomersUnitOfWork) -> tuple[Customer, str]:
        link = await _usable_link(uow, claims, EMAIL_CONFIRMATION)
        return await _load(uow, claims.tenant_id, claims.subject_id), link.email or ""

    return await transaction(work)


async def confirm_email(transaction: Transaction, claims: LinkClaims, actor: str) -> Customer:
    """The owner of the new address confirmed it: it becomes the customer's first e-mail, for trip mail."""
    async def work(uow: CustomersUnitOfWork) -> Customer:
        link = await _usable_link(uow, claims, EMAIL_CONFIRMATION)
        customer = await _load(uow, claims.tenant_id, claims.subject_id)
        emails = [link.email] + [email for email in customer.emails if email != link.email]
        updated = await _update(uow, claims.tenant_id, actor, customer.id, {"emails": emails})
        link.use()
        await uow.issued_links(claims.tenant_id).mark_used(link)
        return updated

    return await transaction(work)


async def delete_customer(transaction: Transaction, tenant_id: str, actor: str, customer_id: str,
                          precondition: Precondition | None = None) -> None:
    """Delete the record for good (prefer deactivating); every itinerary then unlinks the customer."""
    async def work(uow: CustomersUnitOfWork) -> None:
        customer = await _load(uow, tenant_id, customer_id)
        preconditions.check(precondition, customer.version, "customer")
        await uow.customers(tenant_id).delete(customer, actor)
        await uow.issued_links(tenant_id).forget(customer_id)
        uow.emit(CustomerDeleted(data=DeletedCustomer(customer_id=customer_id), tenant_id=tenant_id,
                                 aggregate_id=customer_id, aggregate_version=customer.version + 1,
                                 producer=PRODUCER))
        uow.emit(Tombstone(CustomerState.TOPIC, tenant_id, customer_id))

    await transaction(work)


async def get_customer(transaction: Transaction, tenant_id: str, customer_id: str) -> Customer:
    return await transaction(lambda uow: _load(uow, tenant_id, customer_id), read_only=True)


async def search_customers(transaction: Transaction, tenant_id: str, query: str, *, include_inactive: bool,
                           limit: int, after: str | None) -> list[tuple[str, Customer]]:
    """Best matches first, then by name; each customer comes with the key a next page starts after."""
    parsed = SearchQuery.parse(query)

    async def work(uow: CustomersUnitOfWork) -> list[tuple[str, Customer]]:
        return await uow.customers(tenant_id).search(parsed, include_inactive=include_inactive, limit=limit,
                                                     after=after)

    return await transaction(work)


async def record_consultation(transaction: Transaction, tenant_id: str, actor: str, customer_id: str,
                              preferences: Preferences, source: Source) -> Consultation:
    """A new version of the customer's preferences; the customer's version moves on with it."""
    async def work(uow: CustomersUnitOfWork) -> Consultation:
        return await _record_consultation(uow, tenant_id, actor, customer_id, preferences, source)

    return await transaction(work)


async def _record_consultation(uow: CustomersUnitOfWork, tenant_id: str, actor: str, customer_id: str,
                               preferences: Preferences, source: Source) -> Consultation:
    repository = uow.customers(tenant_id)
    customer = await _load(uow, tenant_id, customer_id)
    consultation = Consultation.record(
        customer_id, tenant_id, await repository.latest_consultation_version(customer_id),
        preferences.model_dump(mode="python"), source, actor)
    expected_version = customer.version
    customer.version += 1
    customer.updated_at = utc_now()
    await repository.save(customer, expected_version)
    await repository.add_consultation(consultation)
    await repository.record_history(customer, actor, "consultation",
                                    [("consultation", consultation.version - 1, consultation.version)])
    uow.emit(PreferencesRecorded(customer_id=customer_id, consultation_version=consultation.version,
                                 data=preferences, **_envelope(customer)))
    return consultation


async def consultations(transaction: Transaction, tenant_id: str, customer_id: str) -> list[Consultation]:
    async def work(uow: CustomersUnitOfWork) -> list[Consultation]:
        await _load(uow, tenant_id, customer_id)
        return await uow.customers(tenant_id).consultations(customer_id)

    return await transaction(work)


async def history(transaction: Transaction, tenant_id: str, customer_id: str) -> list[dict]:
    async def work(uow: CustomersUnitOfWork) -> list[dict]:
        await _load(uow, tenant_id, customer_id)
        return await uow.customers(tenant_id).history(customer_id)

    return await transaction(work)


async def export_customer(transaction: Transaction, tenant_id: str, customer_id: str) -> dict:
    """Everything this service holds about one customer (a data-subject access request)."""
    async def work(uow: CustomersUnitOfWork) -> dict:
        repository = uow.customers(tenant_id)
        customer = await _load(uow, tenant_id, customer_id)
        return {"customer": customer, "consultations": await repository.consultations(customer_id),
                "history": await repository.history(customer_id), "exported_at": utc_now()}

    return await transaction(work)
