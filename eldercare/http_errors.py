"""The one error body every HTTP API of ours answers, whichever package owns the route."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every error answer: a stable machine-readable ``code`` and a human ``detail``."""

    code: str = Field(examples=["not_found"])
    detail: str
