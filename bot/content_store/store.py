"""Live content: re-read when a file changes, keep the last good version on error."""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.content_store.errors import ContentError
from bot.content_store.model import Snapshot
from bot.content_store.schema import (
    Checker,
    check_flow_references,
    check_helplines,
    check_lexicon,
    check_platforms,
    check_settings,
    compile_flow,
    compile_responses,
)
from bot.content_store.yamlload import load_with_lines

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECK_INTERVAL_SECONDS = 0.5  # edits are live well within the promised 2 seconds


def default_content_dir() -> Path:
    return Path(os.environ.get("CONTENT_DIR") or REPO_ROOT / "content")


def _yaml_files(root: Path) -> List[Path]:
    return sorted(p for p in root.rglob("*.yml") if p.is_file())


def load_snapshot(root: Path) -> Snapshot:
    """Load and check everything under `root`; raise the list of problems if any."""
    errors: List[ContentError] = []
    documents: Dict[str, Tuple[object, dict]] = {}
    digest = hashlib.sha256()
    for path in _yaml_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(ContentError(rel, None, "", f"fichier illisible ({exc.__class__.__name__}) : enregistrez-le en UTF-8"))
            continue
        digest.update(rel.encode() + b"\0" + raw.encode() + b"\0")
        try:
            documents[rel] = load_with_lines(raw, rel)
        except ContentError as exc:
            errors.append(exc)

    def doc(rel: str) -> Tuple[object, Checker]:
        data, lines = documents.get(rel, (None, {}))
        checker = Checker(rel, lines)
        if rel not in documents and not any(e.file == rel for e in errors):
            checker.error((), "fichier manquant")
        return data, checker

    snapshot = Snapshot(version=digest.hexdigest()[:12])
    data, checker = doc("helplines.yml")
    snapshot.helplines = check_helplines(data, checker) if data is not None else {}
    errors += checker.errors
    data, checker = doc("platforms.yml")
    if data is not None:
        snapshot.platforms, snapshot.platform_aliases = check_platforms(data, checker)
    errors += checker.errors
    data, checker = doc("settings.yml")
    snapshot.settings = check_settings(data, checker, snapshot.helplines) if data is not None else {}
    errors += checker.errors
    data, checker = doc("crisis/lexicon.yml")
    if data is not None:
        lexicon = check_lexicon(data, checker)
        if lexicon is not None:
            snapshot.lexicon, snapshot.lexicon_data = lexicon, data  # type: ignore[assignment]
    errors += checker.errors
    for rel in sorted(documents):
        data, lines = documents[rel]
        checker = Checker(rel, lines)
        if rel.startswith("responses/"):
            compile_responses(data, checker, snapshot.helplines, snapshot.responses)
        elif rel.startswith("flows/"):
            compile_flow(data, checker, snapshot.flows)
        errors += checker.errors

    def report(flow, index, message):  # noqa: ANN001
        _, lines = documents.get(flow.file, (None, {}))
        field = f"steps.{index}.response" if index >= 0 else "urgent/questions"
        line = lines.get(("steps", index, "response")) if index >= 0 else lines.get(("urgent",))
        errors.append(ContentError(flow.file, line, field, message))

    check_flow_references(snapshot.flows, snapshot.responses, report)
    if errors:
        raise ContentLoadFailed(errors)
    return snapshot


class ContentLoadFailed(Exception):
    def __init__(self, errors: List[ContentError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class ContentStore:
    """Thread-safe holder of the current snapshot, polled for changes at most every 0.5 s."""

    def __init__(self, root: Optional[Path] = None, check_interval: float = CHECK_INTERVAL_SECONDS) -> None:
        self.root = Path(root) if root else default_content_dir()
        self.check_interval = check_interval
        self.errors: List[ContentError] = []
        self._snapshot: Optional[Snapshot] = None
        self._signature: Optional[tuple] = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def _signature_now(self) -> tuple:
        try:
            return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in _yaml_files(self.root))
        except OSError:
            return ()

    def snapshot(self) -> Optional[Snapshot]:
        """The last good content (None if the content never loaded)."""
        now = time.monotonic()
        if now - self._checked_at < self.check_interval and self._snapshot is not None:
            return self._snapshot
        with self._lock:
            if now - self._checked_at < self.check_interval and self._snapshot is not None:
                return self._snapshot
            self._checked_at = now
            signature = self._signature_now()
            if signature != self._signature:
                self._signature = signature
                self._reload()
        return self._snapshot

    def _reload(self) -> None:
        try:
            snapshot = load_snapshot(self.root)
        except ContentLoadFailed as exc:
            self.errors = exc.errors
            logger.error(
                "Content refused, still serving version %s. Problems:\n%s",
                self._snapshot.version if self._snapshot else "none (model texts)",
                "\n".join(f"  - {e}" for e in exc.errors),
            )
            return
        except Exception:  # never let a content problem take a conversation down
            logger.exception("Unexpected error while loading content; keeping the last good version")
            return
        self.errors = []
        if self._snapshot is None or snapshot.version != self._snapshot.version:
            logger.info("Content version %s loaded from %s", snapshot.version, self.root)
        self._snapshot = snapshot


_shared: Dict[str, ContentStore] = {}
_shared_lock = threading.Lock()


def shared_store(root: Optional[Path] = None) -> ContentStore:
    """One store per content folder per process, shared by the NLG, NLU components and actions."""
    key = str(Path(root) if root else default_content_dir())
    with _shared_lock:
        if key not in _shared:
            _shared[key] = ContentStore(Path(key))
        return _shared[key]
