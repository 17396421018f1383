from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class ContentError(Exception):
    """One problem in one content file, told in plain French for editors."""

    file: str
    line: Optional[int]
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, ligne {self.line}" if self.line else self.file
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field} : {self.message}"
