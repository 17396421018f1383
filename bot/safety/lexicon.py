"""The crisis lexicon: editors' patterns compiled to regular expressions.

Pattern syntax (documented for editors in content/crisis/lexicon.yml):
  words separated by spaces, matched word by word on normalised text;
  word*    any ending;
  (a|b*|c d)  one of the words or phrases;
  ...      0 to 3 arbitrary words, but never a negation (so "je veux pas mourir" does not
           match "veux ... mourir").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Pattern, Tuple

from bot.safety.normalize import fold, normalize

NEGATIONS = (
    "pas", "plus", "jamais", "rien", "aucun", "aucune",
    "not", "never", "no", "dont", "don", "nt", "can", "won", "didn", "doesn", "isn", "aren", "wasn",
)

# When a message matches several kinds of crisis, the most urgent number wins:
# an overdose needs the 15 now; someone who cannot speak needs the SMS 114; etc.
CRISIS_PRIORITY = ("overdose", "silent", "danger", "abuse", "friend", "suicide", "self_harm")

_GAP = r"(?:\s+(?!(?:%s)\b)[a-z0-9]+){0,3}" % "|".join(NEGATIONS)
_TOKEN = re.compile(r"\([^)]*\)|\S+")


class PatternError(ValueError):
    pass


def _word(word: str) -> str:
    word = fold(word) if not word.endswith("*") else fold(word[:-1]) + "*"
    if not word or word == "*":
        raise PatternError("mot vide")
    if word.endswith("*"):
        return re.escape(word[:-1]) + r"[a-z0-9]*"
    return re.escape(word)


def compile_pattern(pattern: str) -> Pattern[str]:
    """Compile one editor pattern; raises PatternError with a plain-language reason."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise PatternError("motif vide")
    if "{" in pattern or "[" in pattern or "\\" in pattern:
        raise PatternError("caractères non autorisés dans un motif : { } [ ] \\")
    parts: List[str] = []
    pending_gap = False
    for token in _TOKEN.findall(pattern.strip()):
        if token == "...":
            if not parts:
                raise PatternError("un motif ne peut pas commencer par ...")
            pending_gap = True
            continue
        if token.startswith("("):
            if not token.endswith(")") or len(token) < 3:
                raise PatternError(f"parenthèse mal fermée : {token}")
            options = [o.split() for o in token[1:-1].split("|")]
            if any(not o for o in options):
                raise PatternError(f"une alternative est vide : {token}")
            piece = "(?:" + "|".join(r"\s+".join(_word(w) for w in o) for o in options) + ")"
        else:
            if "(" in token or ")" in token or "|" in token:
                raise PatternError(f"parenthèse ou | mal placé : {token}")
            piece = _word(token)
        if parts:
            parts.append(_GAP + r"\s+" if pending_gap else r"\s+")
        parts.append(piece)
        pending_gap = False
    if pending_gap:
        raise PatternError("un motif ne peut pas finir par ...")
    if not parts:
        raise PatternError("motif vide")
    return re.compile(r"(?<![a-z0-9])" + "".join(parts) + r"(?![a-z0-9])")


@dataclass(frozen=True)
class CrisisMatch:
    kind: str  # a crisis type, or "check_in"
    pattern: str
    excerpt: str


@dataclass
class Lexicon:
    sms: Dict[str, str] = field(default_factory=dict)
    idioms: List[Tuple[str, Pattern[str]]] = field(default_factory=list)
    check_in: List[Tuple[str, Pattern[str]]] = field(default_factory=list)
    # Words without which the trained classifier's "crisis" is not trusted alone.
    signals: List[Tuple[str, Pattern[str]]] = field(default_factory=list)
    crisis: Dict[str, List[Tuple[str, Pattern[str]]]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping) -> "Lexicon":
        """Build from the YAML structure; assumes it was validated (see content_store.schema)."""

        def comp(patterns: Iterable[str]) -> List[Tuple[str, Pattern[str]]]:
            return [(p, compile_pattern(p)) for p in patterns or []]

        sms = {fold(k): fold(v) for k, v in (data.get("sms") or {}).items()}
        crisis = {kind: comp(data.get("crisis", {}).get(kind)) for kind in CRISIS_PRIORITY}
        return cls(
            sms=sms, idioms=comp(data.get("idioms")), check_in=comp(data.get("check_in")),
            signals=comp(data.get("signals")), crisis=crisis,
        )

    def has_signal(self, text: str) -> bool:
        """A crisis word remains once harmless idioms are removed (or no signal list exists)."""
        if not self.signals:
            return True
        normalised, _ = self.strip_idioms(self.normalize(text))
        return any(rx.search(normalised) for _, rx in self.signals)

    def normalize(self, text: str) -> str:
        return normalize(text, self.sms)

    def strip_idioms(self, normalised: str) -> Tuple[str, bool]:
        """Replace harmless figures of speech by a separator that no pattern can cross."""
        found = False
        for _, rx in self.idioms:
            normalised, n = rx.subn(" | ", normalised)
            found = found or n > 0
        return normalised, found

    def scan(self, text: str) -> Tuple[Optional[CrisisMatch], bool]:
        """Return (the most urgent match or None, whether an idiom was neutralised)."""
        normalised, had_idiom = self.strip_idioms(self.normalize(text))
        # Figures of speech that may hide abuse are set aside before looking for a
        # crisis, so that "ma mère va me tuer" does not read as "me tuer".
        check_in: Optional[CrisisMatch] = None
        remaining = normalised
        for pattern, rx in self.check_in:
            m = rx.search(remaining)
            if m:
                check_in = check_in or CrisisMatch("check_in", pattern, m.group(0))
                remaining = rx.sub(" | ", remaining)
        for kind in CRISIS_PRIORITY:
            for pattern, rx in self.crisis.get(kind, []):
                m = rx.search(remaining)
                if m:
                    return CrisisMatch(kind, pattern, m.group(0)), had_idiom
        return check_in, had_idiom
