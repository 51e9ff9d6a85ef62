"""Building blocks the configuration models share: the strict base model and phone numbers."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class Strict(BaseModel):
    """Unknown keys are errors (a typo must not be ignored), and parsed values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _e164(value: str) -> str:
    if not E164.match(value):
        raise ValueError(f"{value!r} is not an E.164 number like +4756375000")
    return value


PhoneNumber = Annotated[str, AfterValidator(_e164)]
