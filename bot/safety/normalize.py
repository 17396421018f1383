"""Text normalisation for matching what frightened teens actually type.

"JVEU MOURIIIR" and "je veux mourir" must look the same to the crisis lexicon, so
before matching we fold case and accents, turn punctuation and apostrophes into
spaces, squeeze letters repeated three times or more, drop control characters and
expand SMS spellings from the editors' table (`content/crisis/lexicon.yml`).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Mapping

_NON_WORD = re.compile(r"[^0-9a-z]+")
_REPEATED = re.compile(r"([a-z])\1{2,}")
_DIGIT_LETTER = re.compile(r"(?<=[0-9])(?=[a-z])|(?<=[a-z])(?=[0-9])")
_VOWEL_START = re.compile(r"^[aeiouyh]")


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free text with single spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    # Control and format characters (zero-width spaces, RTL marks...) can split words
    # on purpose or by accident; a space keeps the words apart without hiding them.
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    text = _NON_WORD.sub(" ", text)
    text = _REPEATED.sub(r"\1", text)
    return " ".join(text.split())


def normalize(text: str, sms: Mapping[str, str] | None = None) -> str:
    """`fold` plus SMS expansion ("jveu" -> "je veux") and elision repair ("j veux" -> "je veux")."""
    tokens: list[str] = []
    for token in fold(text).split():
        # "14ans" -> "14 ans", after the SMS table had its chance ("2nite" is an SMS word).
        tokens.extend([token] if sms and token in sms else _DIGIT_LETTER.sub(" ", token).split())
    out: list[str] = []
    for i, token in enumerate(tokens):
        if sms and token in sms:
            expansion = sms[token].split()
            # "c est" is already written out: expanding "c" again would give "c est est".
            if expansion[1:] and tokens[i + 1 : i + len(expansion)] == expansion[1:]:
                out.append(expansion[0])
            else:
                out.extend(expansion)
            continue
        # "j'veux", "j'suis": the apostrophe became a space; French writes "je" before a consonant.
        if token == "j" and i + 1 < len(tokens) and not _VOWEL_START.match(tokens[i + 1]):
            out.append("je")
            continue
        out.append(token)
    return " ".join(out)
