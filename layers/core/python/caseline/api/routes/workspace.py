"""Routes for the agent workspace: queue views, saved views, bulk updates, merges. Served by cases_api."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import deps
from ...domain.common import Channel
from ...domain.ids import ULID_PATTERN
from ...domain.views import SavedView, ViewFilters, ViewId
from ...services import bulk, merges, views
from ...services.commands import BulkUpdate, MergeCases, SaveView
from ..context import current_request
from ..errors import status_of
from ..http import Cursor, Limit, created
from ..models import (
    BulkItemResult,
    BulkResult,
    CasePage,
    MergeResult,
    SavedViewList,
    UnmergeResult,
    ViewList,
    ViewSummary,
)
from ..problems import responses

router = APIGatewayRouter()
TAGS = ["Workspace"]
COMMON = (400, 401, 403, 404)
IdParam = Annotated[str, Path(pattern=ULID_PATTERN)]


@router.get("/views", tags=TAGS, summary="The queue views with their live counts",
            responses=responses(ViewList, *COMMON))
def list_views() -> ViewList:
    counts = views.view_counts(deps(), current_request(router))
    return ViewList(items=[ViewSummary(id=c.id.value, label=c.label, count=c.count) for c in counts])


@router.get("/views/<view_id>", tags=TAGS, summary="One view's cases, most urgent first",
            responses=responses(CasePage, *COMMON, 422))
def view_cases(
    view_id: Annotated[ViewId, Path()],
    limit: Limit = 25,
    cursor: Cursor = None,
    channel: Annotated[Channel | None, Query()] = None,
    priority: Annotated[str | None, Query(pattern=r"^(low|normal|high|urgent)$")] = None,
) -> CasePage:
    page = views.view_cases(deps(), current_request(router), view_id, limit=limit, cursor=cursor,
                            filters=ViewFilters(channel=channel, priority=priority))
    return CasePage(items=page.items, next_cursor=page.cursor)


@router.get("/saved-views", tags=TAGS, summary="My saved views", responses=responses(SavedViewList, *COMMON))
def list_saved_views() -> SavedViewList:
    return SavedViewList(items=views.saved_views(deps(), current_request(router)))


@router.post("/saved-views", tags=TAGS, summary="Save a view with its filters", status_code=201,
             responses=responses(SavedView, *COMMON, 422, status=201, headers=("Location",)))
def save_view(command: SaveView) -> Response[SavedView]:
    saved = views.save_view(deps(), current_request(router), command.name, command.view_id, command.filters)
    return created(saved, f"/saved-views/{saved.id}")


@router.delete("/saved-views/<view_id>", tags=TAGS, summary="Delete one of my saved views",
               responses=responses(None, *COMMON, 422, status=204, description="Deleted"))
def delete_saved_view(view_id: IdParam) -> Response[None]:
    views.delete_view(deps(), current_request(router), view_id)
    return Response(status_code=204)


@router.post("/cases/bulk", tags=TAGS, summary="Change status, assignee, team or tags of many cases",
             responses=responses(BulkResult, *COMMON, 422))
def bulk_update(command: BulkUpdate) -> BulkResult:
    outcomes = bulk.bulk_update(deps(), current_request(router), command)
    results = [
        BulkItemResult(case_id=o.case_id, ok=True, status=200, version=o.case.version) if o.case is not None
        else BulkItemResult(case_id=o.case_id, ok=False, status=status_of(o.error).value, detail=o.error.detail)
        for o in outcomes
    ]
    succeeded = sum(r.ok for r in results)
    return BulkResult(succeeded=succeeded, failed=len(results) - succeeded, results=results)


@router.post("/cases/<case_id>/merge", tags=TAGS, summary="Merge other cases into this one",
             responses=responses(MergeResult, *COMMON, 412, 422))
def merge(case_id: IdParam, command: MergeCases) -> MergeResult:
    request = current_request(router)
    record = merges.merge_cases(deps(), request, case_id, command)
    survivor = deps().store.get_case(record.survivor_id)
    assert survivor is not None
    return MergeResult(merge_id=record.id, survivor=survivor, source_ids=record.source_ids,
                       undo_until=record.undo_until)


@router.post("/merges/<merge_id>/undo", tags=TAGS, summary="Undo a merge within the undo window",
             responses=responses(UnmergeResult, *COMMON, 412, 422))
def undo_merge(merge_id: IdParam) -> UnmergeResult:
    survivor, *restored = merges.undo_merge(deps(), current_request(router), merge_id)
    return UnmergeResult(survivor=survivor, restored=restored)
