"""Column type aliases shared by the models."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import mapped_column

intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
randompk = Annotated[uuid.UUID, mapped_column(Uuid, primary_key=True, default=uuid.uuid4)]
name_str = Annotated[str, mapped_column(String(200))]
code_str = Annotated[str, mapped_column(String(64))]
day = Annotated[dt.date, mapped_column(Date)]
# A text in several languages: {"sv": "...", "en": "..."}. Questionnaire texts are data.
i18n = Annotated[dict[str, str], mapped_column(JSON)]
json_list = Annotated[list[Any], mapped_column(JSON)]


def fk(target: str, ondelete: str = "RESTRICT", index: bool = True) -> Any:
    return mapped_column(ForeignKey(target, ondelete=ondelete), index=index)
