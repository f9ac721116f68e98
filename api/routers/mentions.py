"""/v1/mentions: search and fetch mentions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import AfterValidator, BaseModel

from api.deps import AliasDep, ClientDep
from indexer.queries import MentionFilters, get_mention, search_mentions

router = APIRouter(prefix="/v1/mentions", tags=["mentions"])


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("give a time zone offset, e.g. 2026-11-01T00:00:00+02:00 or ...Z")
    return value


AwareDatetime = Annotated[datetime | None, AfterValidator(_aware)]


class MentionList(BaseModel):
    data: list[dict[str, Any]]
    count: int
    next: str | None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"data": [{"id": "3f2a...", "brand": "revontuli", "experience": "anger"}], "count": 1, "next": None}
            ]
        }
    }


@router.get("", response_model=MentionList, summary="Search mentions, newest first")
def list_mentions(
    client: ClientDep,
    alias: AliasDep,
    brand: Annotated[str | None, Query(description="Brand id", examples=["revontuli"])] = None,
    q: Annotated[str | None, Query(description="Full text (simple query syntax)", max_length=500)] = None,
    experience: Annotated[Literal["anger", "comfort", "delight"] | None, Query()] = None,
    source: Annotated[str | None, Query(examples=["reviews"])] = None,
    lang: Annotated[str | None, Query(description="ISO 639-1 code", pattern=r"^[a-z]{2,3}$")] = None,
    from_: Annotated[AwareDatetime, Query(alias="from", description="Published at or after (ISO 8601)")] = None,
    to: Annotated[AwareDatetime, Query(description="Published before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Query(description="`next` from the previous page")] = None,
) -> MentionList:
    if from_ and to and from_ >= to:
        raise HTTPException(422, "parameter 'from' must be earlier than 'to'")
    filters = MentionFilters(brand=brand, q=q, experience=experience, source=source, lang=lang, start=from_, end=to)
    page = search_mentions(client, alias, filters, size=limit, cursor=cursor)
    return MentionList(data=page.data, count=page.count, next=page.next)


@router.get("/{mention_id}", summary="One mention by id")
def read_mention(mention_id: str, client: ClientDep, alias: AliasDep) -> dict[str, Any]:
    mention = get_mention(client, alias, mention_id)
    if mention is None:
        raise HTTPException(404, f"no mention with id {mention_id!r}")
    return mention
