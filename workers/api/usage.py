"""`POST /v1/usage`: call detail records in, up to 10,000 per batch, each checked alone.

The envelope is validated by pydantic (`records` is a list of at most 10,000: more is a 422
naming `records`); each record is then checked by `domain.call_records.check_record`, so a
bad record is refused with its index and field while the rest of the batch is stored. A
record whose id is already stored (the platform resending after a timeout) is counted as a
duplicate and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from domain.call_records import MAX_DURATION_SECONDS, MAX_ID
from workers.api.context import ApiContext, api_context
from workers.handlers.usage import MAX_BATCH, ingest

router = APIRouter(prefix="/usage", tags=["usage"])

_E164 = r"^\+[1-9][0-9]{1,14}$"


class CallRecordIn(BaseModel):
    """One call (documentation of a record; each is checked on its own, see the module)."""

    id: str = Field(min_length=1, max_length=MAX_ID,
                    description="the platform's id; the same id is stored once, forever")
    subscription: str = Field(min_length=1, max_length=MAX_ID)
    number: str = Field(pattern=_E164, description="the customer's number (E.164)")
    direction: Literal["outbound", "inbound_toll_free"]
    destination: str = Field(pattern=_E164, description="the number called (E.164)")
    started_at: datetime = Field(description="ISO 8601 with its offset; naive is refused")
    duration_seconds: int = Field(ge=0, le=MAX_DURATION_SECONDS)


class UsageBatchIn(BaseModel):
    records: Annotated[list[Any], Field(
        max_length=MAX_BATCH, description=f"at most {MAX_BATCH:,} call records",
        json_schema_extra={"items": CallRecordIn.model_json_schema()})]


class RefusedRecord(BaseModel):
    index: int = Field(description="position of the record in `records`, from 0")
    field: str = Field(description="the offending field ('' when the record is not an object)")
    message: str


class UsageBatchOut(BaseModel):
    received: int
    accepted: int = Field(description="records stored or already stored (new + duplicates)")
    new: int
    duplicates: int = Field(description="records whose id was already stored: unchanged")
    refused: list[RefusedRecord] = Field(
        description="records refused; the rest of the batch was accepted")


@router.post("", response_model=UsageBatchOut, summary="Send a batch of call records")
def post_usage(body: UsageBatchIn,
               context: Annotated[ApiContext, Depends(api_context)]) -> UsageBatchOut:
    deps = context.deps
    with deps.uow_factory() as uow:
        result = ingest(uow, raws=body.records, now=deps.clock.now())
        uow.commit()
    return UsageBatchOut(
        received=len(body.records), accepted=result.accepted, new=result.new,
        duplicates=result.duplicates,
        refused=[RefusedRecord(index=r.index, field=r.field, message=r.message)
                 for r in result.refused])
