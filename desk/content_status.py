"""Is the assistant's content (content/) valid? Shown to supervisors (banner, /content page).

The assistant refuses a broken edit and keeps serving the last good content; the
supervisors must still know that an edit was refused, where, and why. This reads
the same folder with the assistant's own checks (bot.content_store), re-checking
at most every half second and only when a file changed. Logs name file, line and
problem (never any conversation data).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Optional

from bot.content_store.store import ContentStore

logger = logging.getLogger("desk.content")


class ContentStatus:
    def __init__(self, content_dir: Path) -> None:
        self.store = ContentStore(Path(content_dir))
        self._told: Optional[tuple] = None

    def errors(self) -> List[Dict[str, object]]:
        """The problems of the current files (empty when the content is valid). Blocking: run it in a thread."""
        try:
            snapshot = self.store.snapshot()
        except Exception:  # noqa: BLE001  (a content problem must never break the desk)
            logger.exception("Content check failed")
            return []
        problems = [{"file": e.file, "line": e.line, "field": e.field, "message": e.message} for e in self.store.errors]
        key = tuple((p["file"], p["line"], p["message"]) for p in problems)
        if key != self._told:
            self._told = key
            if problems:
                logger.error("Content refused by the assistant (last good version still served): %s",
                             "; ".join(f"{p['file']}, ligne {p['line']} : {p['message']}" for p in problems))
            elif snapshot is not None:
                logger.info("Content valid (version %s)", snapshot.version)
        return problems

    def version(self) -> str:
        snapshot = self.store.snapshot()
        return snapshot.version if snapshot is not None else ""
