"""The guided dialogue, in plain Python: what a flow asks, says and advises (docs/dialogue-design.md)."""
