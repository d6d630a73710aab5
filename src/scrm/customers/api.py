"""HTTP endpoints for customers, corp tags, merges, custom attributes and segments."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from scrm.core.actors import Actor
from scrm.core.jobs import JobOut
from scrm.core.pagination import Page, PageRequest
from scrm.customers import attributes, merge_service, segments, service
from scrm.customers.schemas import (
    AttributeDefinitionIn,
    AttributeDefinitionOut,
    AttributeValues,
    BulkTagRequest,
    CustomerDetailOut,
    CustomerFilter,
    CustomerOut,
    FieldOut,
    MergeOut,
    MergeRequest,
    MergeSuggestionOut,
    PreviewIn,
    PreviewOut,
    ResolveOut,
    ResolveRequest,
    SegmentCountOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
    TagChange,
    TagChangeOut,
    TagCreate,
    TagGroupCreate,
    TagGroupOut,
    TagOut,
    TagRename,
    UnmergeRequest,
)
from scrm.identity.audit import record_audit
from scrm.identity.deps import CurrentActor, DbSession

router = APIRouter(prefix="/api/v1", tags=["customers"])
segments_router = APIRouter(prefix="/api/v1", tags=["segments"])

IdList = Annotated[list[int] | None, Query()]


@router.get("/customers", response_model=Page[CustomerOut])
def list_customers(
    actor: CurrentActor,
    session: DbSession,
    q: Annotated[str | None, Query(description="Name or remark contains; identifier or phone equals")] = None,
    staff: Annotated[str | None, Query(description="WeCom userid of a follow staff member")] = None,
    tag_id: Annotated[int | None, Query(description="Has this tag (same as tags_all=<id>)")] = None,
    tags_all: IdList = None,
    tags_any: IdList = None,
    tags_none: IdList = None,
    channel_id: int | None = None,
    store: str | None = None,
    region: str | None = None,
    connection_id: int | None = None,
    added_from: Annotated[str | None, Query(description='"2026-03-01", an ISO instant, or "30d"')] = None,
    added_to: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[CustomerOut]:
    filters = CustomerFilter(
        q=q,
        staff=staff,
        tags_all=[*(tags_all or []), *([tag_id] if tag_id is not None else [])],
        tags_any=tags_any or [],
        tags_none=tags_none or [],
        channel_id=channel_id,
        store=store,
        region=region,
        connection_id=connection_id,
        added_from=added_from,
        added_to=added_to,
    )
    items, next_cursor = service.list_customers(
        session, actor=actor, page=PageRequest(limit, cursor), filters=filters
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post("/customers/bulk-tag", response_model=JobOut, status_code=202)
def bulk_tag(body: BulkTagRequest, actor: CurrentActor, session: DbSession) -> JobOut:
    """Tag every customer of a segment, a condition, the list filters or a list of ids, as a job
    (`GET /api/v1/jobs/{id}` for progress). WeCom tags are pushed as the job goes."""
    return JobOut.of(service.start_bulk_tag(session, actor=actor, data=body))


@router.post("/customers/resolve", response_model=ResolveOut)
def resolve_identities(body: ResolveRequest, actor: CurrentActor, session: DbSession) -> ResolveOut:
    """Identity resolution: which profile these identifiers belong to and why; creates, merges and
    queues reviews as the rules say (`dry_run` only explains)."""
    return merge_service.resolve_identities(session, actor=actor, data=body)


@router.get("/customers/{customer_id}", response_model=CustomerDetailOut)
def get_customer(customer_id: int, actor: CurrentActor, session: DbSession) -> CustomerDetailOut:
    """The 360 profile. A merged-away profile answers 404 (`type` /problems/customer-merged) with
    `merged_into_id`: the survivor to open instead."""
    return service.get_customer(session, actor=actor, customer_id=customer_id)


@router.post("/customers/{customer_id}/tags", response_model=TagChangeOut)
def change_tags(customer_id: int, body: TagChange, actor: CurrentActor, session: DbSession) -> TagChangeOut:
    """Add/remove tags now; WeCom corp tags reach WeCom (mark_tag) within seconds."""
    return service.change_customer_tags(
        session, actor=actor, customer_id=customer_id, add=body.add, remove=body.remove
    )


@router.patch("/customers/{customer_id}/attributes", response_model=CustomerOut)
def set_attributes(
    customer_id: int, body: AttributeValues, actor: CurrentActor, session: DbSession
) -> CustomerOut:
    return attributes.set_attributes(session, actor=actor, customer_id=customer_id, values=body.values)


@router.post("/customers/{customer_id}/merge", response_model=MergeOut)
def merge(customer_id: int, body: MergeRequest, actor: CurrentActor, session: DbSession) -> MergeOut:
    """Merge `other_id` into this customer (409 when an exclusive identifier disagrees, unless
    `force`). Publishes `customer.merged`."""
    record = merge_service.merge_customer(
        session,
        actor=actor,
        customer_id=customer_id,
        other_id=body.other_id,
        reason=body.reason,
        force=body.force,
    )
    return service.merge_out(record)


@router.post("/customers/{customer_id}/unmerge", response_model=MergeOut)
def unmerge(customer_id: int, body: UnmergeRequest, actor: CurrentActor, session: DbSession) -> MergeOut:
    """Undo the merge of `other_id` into this customer, restoring what came from it exactly."""
    record = merge_service.unmerge_customer(
        session, actor=actor, customer_id=customer_id, other_id=body.other_id, reason=body.reason
    )
    return service.merge_out(record)


@router.get("/customer-merge-suggestions", response_model=Page[MergeSuggestionOut])
def list_merge_suggestions(
    actor: CurrentActor,
    session: DbSession,
    status: Literal["open", "merged", "dismissed"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[MergeSuggestionOut]:
    """Merges identity resolution refused (a stronger identifier disagrees), for review."""
    items, next_cursor = merge_service.list_merge_suggestions(
        session, actor=actor, page=PageRequest(limit, cursor), status=status
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post("/customer-merge-suggestions/{suggestion_id}/dismiss", response_model=MergeSuggestionOut)
def dismiss_merge_suggestion(
    suggestion_id: int, actor: CurrentActor, session: DbSession
) -> MergeSuggestionOut:
    return merge_service.dismiss_merge_suggestion(session, actor=actor, suggestion_id=suggestion_id)


@router.get("/customer-fields", response_model=list[FieldOut])
def list_fields(actor: CurrentActor, session: DbSession) -> list[FieldOut]:
    """What segment conditions may test, with each field's operators (for the builder)."""
    return attributes.list_fields(session, actor=actor)


@router.get("/customer-attributes", response_model=list[AttributeDefinitionOut])
def list_attributes(actor: CurrentActor, session: DbSession) -> list[AttributeDefinitionOut]:
    return attributes.list_attribute_definitions(session, actor=actor)


@router.post("/customer-attributes", response_model=AttributeDefinitionOut, status_code=201)
def create_attribute(
    body: AttributeDefinitionIn, actor: CurrentActor, session: DbSession
) -> AttributeDefinitionOut:
    return attributes.create_attribute_definition(session, actor=actor, data=body)


# --- segments ---------------------------------------------------------------------------------------


@segments_router.get("/segments", response_model=Page[SegmentOut])
def list_segments(
    actor: CurrentActor,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[SegmentOut]:
    items, next_cursor = segments.list_segments(session, actor=actor, page=PageRequest(limit, cursor))
    return Page(items=items, next_cursor=next_cursor)


@segments_router.post("/segments", response_model=SegmentOut, status_code=201)
def create_segment(body: SegmentIn, actor: CurrentActor, session: DbSession) -> SegmentOut:
    """Save a condition (422 names each problem: `condition.all[1].op`...)."""
    return segments.segment_out(segments.create_segment(session, actor=actor, data=body))


@segments_router.post("/segments/preview", response_model=PreviewOut)
def preview_segment(body: PreviewIn, actor: CurrentActor, session: DbSession) -> PreviewOut:
    """The builder's live count: count and first page of an unsaved condition."""
    return segments.preview(session, actor=actor, condition=body.condition, limit=body.limit)


@segments_router.get("/segments/{segment_id}", response_model=SegmentOut)
def get_segment(segment_id: int, actor: CurrentActor, session: DbSession) -> SegmentOut:
    return segments.segment_out(segments.require_segment(session, actor=actor, segment_id=segment_id))


@segments_router.patch("/segments/{segment_id}", response_model=SegmentOut)
def update_segment(
    segment_id: int, body: SegmentPatch, actor: CurrentActor, session: DbSession
) -> SegmentOut:
    return segments.segment_out(
        segments.update_segment(session, actor=actor, segment_id=segment_id, data=body)
    )


@segments_router.delete("/segments/{segment_id}", status_code=204)
def delete_segment(segment_id: int, actor: CurrentActor, session: DbSession) -> None:
    segments.delete_segment(session, actor=actor, segment_id=segment_id)


@segments_router.get("/segments/{segment_id}/count", response_model=SegmentCountOut)
def count_segment(segment_id: int, actor: CurrentActor, session: DbSession) -> SegmentCountOut:
    """The live count, in the caller's data scope; changes nothing."""
    return segments.count_segment(session, actor=actor, segment_id=segment_id)


@segments_router.post("/segments/{segment_id}/count", response_model=SegmentCountOut)
def recount_segment(segment_id: int, actor: CurrentActor, session: DbSession) -> SegmentCountOut:
    """Count now and store the result as the segment's `last_count` (segment managers)."""
    return segments.count_segment(session, actor=actor, segment_id=segment_id, remember=True)


@segments_router.get("/segments/{segment_id}/customers", response_model=Page[CustomerOut])
def segment_members(
    segment_id: int,
    actor: CurrentActor,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[CustomerOut]:
    items, next_cursor = segments.segment_members(
        session, actor=actor, segment_id=segment_id, page=PageRequest(limit, cursor)
    )
    return Page(items=items, next_cursor=next_cursor)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _stream_rows(request: Request, actor: Actor, segment_id: int, file_format: str) -> Iterator[bytes]:
    """Rows are read by a session of their own: the request's session is closed once the endpoint
    returns, while the body is still streaming."""
    factory = request.app.state.session_factory
    with factory() as session:
        rows = segments.iter_export_rows(session, actor=actor, segment_id=segment_id)
        if file_format == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            yield "\ufeff".encode()  # a BOM, so Excel reads the UTF-8 (Chinese) text
            for row in rows:
                writer.writerow(row)
                if buffer.tell() > 64 * 1024:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode()
            return
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("customers")
        for row in rows:
            sheet.append(row)
        with tempfile.TemporaryFile() as file:
            workbook.save(file)
            file.seek(0)
            while chunk := file.read(256 * 1024):
                yield chunk


@segments_router.get(
    "/segments/{segment_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def export_segment(
    segment_id: int,
    request: Request,
    actor: CurrentActor,
    session: DbSession,
    format: Literal["csv", "xlsx"] = "csv",
) -> StreamingResponse:
    """The members as CSV or Excel, streamed (phones masked without customers.pii.view)."""
    segment = segments.check_export(session, actor=actor, segment_id=segment_id)
    record_audit(
        session,
        actor=actor,
        action="segment.exported",
        target_type="segment",
        target_id=segment.id,
        detail={"format": format},
    )
    filename = f"segment-{segment.id}.{format}"
    return StreamingResponse(
        _stream_rows(request, actor, segment.id, format),
        media_type="text/csv; charset=utf-8" if format == "csv" else XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- corp tags --------------------------------------------------------------------------------------


@router.get("/tags", response_model=list[TagGroupOut])
def list_tags(actor: CurrentActor, session: DbSession, connection_id: int | None = None) -> list[TagGroupOut]:
    """Corp tag groups with their tags."""
    return service.list_tag_groups(session, actor=actor, connection_id=connection_id)


@router.post("/tags/groups", response_model=TagGroupOut, status_code=201)
def create_tag_group(body: TagGroupCreate, actor: CurrentActor, session: DbSession) -> TagGroupOut:
    """Create a group with its tags; it is pushed to WeCom within seconds."""
    group = service.create_tag_group(session, actor=actor, data=body)
    return next(g for g in service.list_tag_groups(session, actor=actor) if g.id == group.id)


@router.post("/tags/groups/{group_id}/tags", response_model=TagOut, status_code=201)
def add_tag(group_id: int, body: TagCreate, actor: CurrentActor, session: DbSession) -> TagOut:
    tag = service.add_tag(session, actor=actor, group_id=group_id, name=body.name)
    return TagOut(id=tag.id, name=tag.name, order=tag.order, wecom_tag_id=tag.wecom_tag_id)


@router.patch("/tags/{tag_id}", response_model=TagOut)
def rename_tag(tag_id: int, body: TagRename, actor: CurrentActor, session: DbSession) -> TagOut:
    tag = service.rename_tag(session, actor=actor, tag_id=tag_id, name=body.name)
    return TagOut(id=tag.id, name=tag.name, order=tag.order, wecom_tag_id=tag.wecom_tag_id)


@router.delete("/tags/{tag_id}", status_code=204)
def delete_tag(tag_id: int, actor: CurrentActor, session: DbSession) -> None:
    service.delete_tag(session, actor=actor, tag_id=tag_id)
