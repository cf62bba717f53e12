"""/customers, /me and /customers/timeline-events: profiles, the 360 view and the unified timeline."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import deps
from ...domain.common import Channel
from ...domain.customer import Customer
from ...domain.errors import NotFound
from ...domain.ids import ULID_PATTERN
from ...domain.timeline import TimelineEntry, TimelineKind
from ...services import cases as case_service
from ...services import customers as service
from ...services.commands import CreateCustomer, RecordTimelineEvent, UpdateCustomer
from ..context import current_request
from ..http import Cursor, IfMatch, Limit, created, expected_version, with_etag
from ..models import CasePage, Customer360, CustomerPage, OpenCaseSummary, TimelineEventRecorded, TimelinePage
from ..problems import responses

router = APIGatewayRouter()
TAGS = ["Customers"]
CustomerIdParam = Annotated[str, Path(pattern=ULID_PATTERN, description="the customer's id (a ULID)")]
COMMON = (400, 401, 403, 404)


@router.get("/customers", tags=TAGS, summary="Customers by name", responses=responses(CustomerPage, *COMMON, 422))
def list_customers(limit: Limit = 25, cursor: Cursor = None) -> CustomerPage:
    page = service.list_customers(deps(), current_request(router), limit=limit, cursor=cursor)
    return CustomerPage(items=page.items, next_cursor=page.cursor)


@router.post("/customers", tags=TAGS, summary="Create a customer", status_code=201,
             responses=responses(Customer, *COMMON, 409, 413, 422, status=201, headers=('Location', 'ETag')))
def create_customer(command: CreateCustomer) -> Response[Customer]:
    customer = service.create_customer(deps(), current_request(router), command)
    return created(customer, f"/customers/{customer.id}", ETag=f'"{customer.version}"')


@router.get("/customers/<customer_id>", tags=TAGS, summary="A customer's profile",
            responses=responses(Customer, *COMMON, 422, headers=('ETag',)))
def get_customer(customer_id: CustomerIdParam) -> Response[Customer]:
    customer = service.get_customer(deps(), current_request(router), customer_id)
    return with_etag(customer, customer.version)


@router.patch("/customers/<customer_id>", tags=TAGS, summary="Update a customer's profile",
              responses=responses(Customer, *COMMON, 409, 412, 413, 422, headers=('ETag',)))
def update_customer(customer_id: CustomerIdParam, command: UpdateCustomer,
                    if_match: IfMatch = None) -> Response[Customer]:
    customer = service.update_customer(deps(), current_request(router), customer_id, command,
                                       expected_version=expected_version(if_match))
    return with_etag(customer, customer.version)


@router.get("/customers/<customer_id>/360", tags=TAGS,
            summary="Profile, counts, open cases and the newest timeline page in one call",
            responses=responses(Customer360, *COMMON, 422))
def customer_360(customer_id: CustomerIdParam,
                 page_size: Annotated[int, Query(ge=1, le=100)] = 25) -> Customer360:
    view = service.customer_360(deps(), current_request(router), customer_id, page_size=page_size)
    return Customer360(
        customer=view.customer,
        counts=view.counts,
        open_cases=[OpenCaseSummary(**vars(ref)) for ref in view.open_cases],
        timeline=TimelinePage(items=view.timeline.items, next_cursor=view.timeline.cursor),
    )


@router.get("/customers/<customer_id>/timeline", tags=TAGS,
            summary="The customer's timeline, newest first, optionally one kind and/or channel",
            responses=responses(TimelinePage, *COMMON, 422))
def customer_timeline(
    customer_id: CustomerIdParam,
    limit: Limit = 25,
    cursor: Cursor = None,
    kind: Annotated[TimelineKind | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
) -> TimelinePage:
    page = service.customer_timeline(
        deps(), current_request(router), customer_id, limit=limit, cursor=cursor,
        kind=kind.value if kind else None, channel=channel.value if channel else None,
    )
    return TimelinePage(items=page.items, next_cursor=page.cursor)


@router.get("/customers/<customer_id>/timeline/<entry_id>", tags=TAGS, summary="One timeline entry",
            responses=responses(TimelineEntry, *COMMON, 422))
def timeline_entry(customer_id: CustomerIdParam,
                   entry_id: Annotated[str, Path(pattern=ULID_PATTERN)]) -> TimelineEntry:
    entry = service.timeline_entry(deps(), current_request(router), customer_id, entry_id)
    if entry is None:
        raise NotFound(f"timeline entry {entry_id} does not exist")
    return entry


@router.post("/customers/timeline-events", tags=TAGS, status_code=201,
             summary="Record an order, payment, crash report, CRM change or portal visit",
             responses={**responses(TimelineEventRecorded, *COMMON, 422, status=201, headers=("Location",)),
                        200: {"description": "Already recorded (same source and external_id)",
                              "content": {"application/json": {"model": TimelineEventRecorded}}}})
def record_timeline_event(command: RecordTimelineEvent) -> Response[TimelineEventRecorded]:
    result = service.record_external_event(deps(), current_request(router), command)
    body = TimelineEventRecorded(entry=result.entry, duplicate=not result.created)
    location = f"/customers/{result.entry.customer_id}/timeline/{result.entry.id}"
    if result.created:
        return created(body, location)
    return Response(status_code=200, content_type="application/json", body=body, headers={"Location": location})


# --- the signed-in customer -----------------------------------------------------------------------------
ME_TAGS = ["Me"]


@router.get("/me", tags=ME_TAGS, summary="My profile (customers)",
            responses=responses(Customer, 401, 403, 404, headers=("ETag",)))
def get_me() -> Response[Customer]:
    request = current_request(router)
    customer = service.get_customer(deps(), request, service.principal_customer(request.principal))
    return with_etag(customer, customer.version)


@router.patch("/me", tags=ME_TAGS, summary="Update my profile (name, phones, locale, time zone)",
              responses=responses(Customer, 400, 401, 403, 404, 409, 412, 413, 422, headers=('ETag',)))
def update_me(command: UpdateCustomer, if_match: IfMatch = None) -> Response[Customer]:
    request = current_request(router)
    customer = service.update_customer(deps(), request, service.principal_customer(request.principal), command,
                                       expected_version=expected_version(if_match))
    return with_etag(customer, customer.version)


@router.get("/me/cases", tags=ME_TAGS, summary="My cases", responses=responses(CasePage, 400, 401, 403, 422))
def my_cases(limit: Limit = 25, cursor: Cursor = None) -> CasePage:
    request = current_request(router)
    customer_id = service.principal_customer(request.principal)
    page = case_service.requester_cases(deps(), request, customer_id, limit=limit, cursor=cursor)
    return CasePage(items=page.items, next_cursor=page.cursor)
