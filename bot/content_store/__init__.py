"""Everything the assistant says, loaded live from `content/`.

Used inside Rasa (the NLG generator, the crisis lexicon, platform names) and by the
action server (flow steps). A broken edit is refused with file, line and field, and
the last good content keeps being served.
"""
from bot.content_store.errors import ContentError
from bot.content_store.model import Snapshot
from bot.content_store.render import render
from bot.content_store.store import ContentStore, default_content_dir, shared_store

__all__ = ["ContentError", "ContentStore", "Snapshot", "default_content_dir", "render", "shared_store"]
