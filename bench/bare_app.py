"""A bare FastAPI endpoint: the yardstick the verification benchmark compares against."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

app = FastAPI()


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    letter_id: str


class Answer(BaseModel):
    in_pipeline: bool
    letter_id: str


@app.post("/bare")
async def bare(body: Body) -> Answer:
    return Answer(in_pipeline=True, letter_id=body.letter_id)
