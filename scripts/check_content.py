"""`make check`: everything an editor can touch, checked in under 30 seconds, no training.

Each problem is told in plain French with the file, the line and what to change, for
the helpline's content editors. The exit status is 0 when nothing has to be fixed.

    python scripts/check_content.py                 # content/, bot/data, bot/domain.yml
    python scripts/check_content.py --details       # also Rasa's original (English) messages
    python scripts/check_content.py --content /tmp/content --data /tmp/data --no-rasa

Checks, in order:
  1. YAML syntax of content/ and bot/data/ (and the domain), with line and column;
  2. the content schema (bot/content_store: French and English texts, placeholders,
     helplines referenced, links, buttons...);
  3. cross-references: every response the bot uses exists; `when:` values exist
     (platforms, slot values); links are https; phone numbers are French numbers;
  4. Rasa's own validation of intents, examples, rules and stories
     (`rasa data validate --fail-on-warnings`), translated, plus stories contradicting rules;
  5. provenance (`source`, `verified_on`): listed, not failing (unless --strict-provenance);
  6. sensitive files touched by the change: named, with the reminder that a second
     reviewer must approve (.github/CODEOWNERS).
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.content_store.errors import ContentError  # noqa: E402
from bot.content_store.schema import phone_problem  # noqa: E402  (the one phone-number rule)
from bot.content_store.store import ContentLoadFailed, load_snapshot  # noqa: E402
from bot.content_store.yamlload import load_with_lines  # noqa: E402
from bot.dialogue.advice import part_of  # noqa: E402
from bot.dialogue.planner import question_of  # noqa: E402

# Files that need a second reviewer (kept in step with .github/CODEOWNERS).
SENSITIVE = (
    "content/crisis/",
    "content/helplines.yml",
    "content/responses/crisis.yml",
    "bot/safety/",
    "bot/rasa_addons/policies/crisis_policy.py",
    "tests/data/crisis_cases.yml",
    ".github/CODEOWNERS",
)
PROVENANCE_MAX_DAYS = 365
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Fact-checking: from this date on, a verified fact needs an https source AND a quote from it.
QUOTE_REQUIRED_SINCE = dt.date(2026, 11, 29)
QUOTED_UTTER = re.compile(r"""(?<![\[(])["'](utter_[a-z0-9_]*[a-z0-9])["'](?!\s*[:\]])""")
ACTION_LINE = re.compile(r"^\s*-\s*action:\s*[\"']?(utter_[a-z0-9_]+)")


@dataclass
class Problem:
    file: str
    line: Optional[int]
    message: str
    fix: str = ""
    details: str = ""
    check: str = ""

    def where(self) -> str:
        return f"{self.file}, ligne {self.line}" if self.line else self.file

    def render(self, details: bool = False) -> str:
        text = f"✗ {self.where()} : {self.message}"
        if self.fix:
            text += f"\n    → {self.fix}"
        if details and self.details:
            text += f"\n    (texte d'origine : {self.details})"
        return text


@dataclass
class Report:
    errors: List[Problem] = field(default_factory=list)
    provenance: List[Problem] = field(default_factory=list)
    sensitive: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    timings: Dict[str, float] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        key = (problem.file, problem.line, problem.message)
        if all((p.file, p.line, p.message) != key for p in self.errors):
            self.errors.append(problem)

    def messages(self) -> str:
        return "\n".join(p.render(True) for p in self.errors + self.provenance) + "\n" + "\n".join(self.sensitive)


@dataclass
class Paths:
    content: Path
    data: Path
    domain: Path
    config: Path
    code: List[Path]
    repo: Path

    def show(self, path: Path) -> str:
        """A path as editors see it: relative to the repository when inside it."""
        path = path.resolve()
        for base in (self.repo.resolve(), ROOT):
            try:
                return path.relative_to(base).as_posix()
            except ValueError:
                pass
        for folder in (self.content, self.data):
            try:
                return (Path(folder.name) / path.relative_to(folder.resolve())).as_posix()
            except ValueError:
                pass
        return str(path)


# --------------------------------------------------------------------------- helpers

def yaml_files(folder: Path) -> List[Path]:
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def find_line(path: Path, pattern: str) -> Optional[int]:
    """The first line of `path` matching the regular expression `pattern`."""
    regex = re.compile(pattern)
    for number, line in enumerate(read(path).splitlines(), 1):
        if regex.search(line):
            return number
    return None


def locate(files: Iterable[Path], pattern: str) -> Tuple[Optional[Path], Optional[int]]:
    for path in files:
        line = find_line(path, pattern)
        if line:
            return path, line
    return None, None


_PARSED: Dict[Tuple[str, int, int], Tuple[Any, Dict[Tuple[Any, ...], int]]] = {}


def load_lines(path: Path) -> Tuple[Any, Dict[Tuple[Any, ...], int]]:
    """The file's data and the line of each value (None when it does not parse); cached per version."""
    try:
        stat = path.stat()
    except OSError:
        return None, {}
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        try:
            _PARSED[key] = load_with_lines(read(path), path.name)
        except ContentError:
            _PARSED[key] = (None, {})
    return _PARSED[key]


def line_of(lines: Dict[Tuple[Any, ...], int], path: Tuple[Any, ...]) -> Optional[int]:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


# --------------------------------------------------------------------------- 1. YAML syntax

YAML_HINTS = (
    ("found character '\\t'", "une tabulation est interdite en YAML", "remplacez la tabulation par des espaces (2 espaces par niveau)"),
    ("mapping values are not allowed", "deux-points inattendu",
     "si le texte contient « : », mettez tout le texte entre guillemets \"...\" ; sinon vérifiez l'indentation de la ligne"),
    ("could not find expected ':'", "il manque les deux-points après un nom de champ, ou un guillemet n'est pas fermé",
     "écrivez « nom: valeur » et fermez chaque guillemet ouvert"),
    ("expected <block end>", "l'indentation n'est pas alignée",
     "les champs d'un même niveau commencent à la même colonne, avec des espaces (2 par niveau)"),
    ("did not find expected key", "l'indentation n'est pas alignée",
     "les champs d'un même niveau commencent à la même colonne, avec des espaces (2 par niveau)"),
    ("did not find expected '-' indicator", "l'indentation d'une liste n'est pas alignée",
     "chaque élément de la liste commence par « - » à la même colonne"),
    ("found unexpected end of stream", "un guillemet est ouvert mais jamais fermé", "fermez le guillemet à la fin du texte"),
    ("expected ',' or ']'", "un crochet [ n'est pas fermé", "fermez la liste avec ] ou écrivez-la en lignes « - élément »"),
    ("expected ',' or '}'", "une accolade { n'est pas fermée", "fermez avec } (ex. when: {paid: \"yes\"})"),
    ("found undefined alias", "un texte commence par * ", "mettez le texte entre guillemets"),
    ("found character '%'", "un texte commence par %", "mettez le texte entre guillemets"),
    ("found character '@'", "un texte commence par @", "mettez le texte entre guillemets (ex. \"@pseudo\")"),
    ("found character '`'", "un texte commence par `", "mettez le texte entre guillemets"),
)


def check_yaml_syntax(paths: Paths, report: Report) -> Set[Path]:
    broken: Set[Path] = set()
    files = yaml_files(paths.content) + yaml_files(paths.data) + [paths.domain]
    for path in files:
        text = read(path)
        shown = paths.show(path)
        if not text and path.stat().st_size:
            report.add(Problem(shown, None, "fichier illisible", "enregistrez-le en UTF-8", check="yaml"))
            broken.add(path)
            continue
        tabs = [n for n, line in enumerate(text.splitlines(), 1) if "\t" in line[: len(line) - len(line.lstrip())]]
        for number in tabs[:3]:
            report.add(Problem(shown, number, "une tabulation sert d'indentation (interdit en YAML)",
                               "remplacez la tabulation par des espaces (2 espaces par niveau)", check="yaml"))
        try:
            list(yaml.compose_all(text, Loader=FAST_LOADER))
        except yaml.YAMLError as exc:
            broken.add(path)
            if tabs:
                continue
            problem = getattr(exc, "problem", "") or str(exc)
            mark = getattr(exc, "problem_mark", None)
            context = getattr(exc, "context", "") or ""
            if "quoted scalar" in context and getattr(exc, "context_mark", None):
                mark = exc.context_mark
                message, fix = "un guillemet est ouvert mais jamais fermé", "fermez le guillemet à la fin du texte"
            else:
                message, fix = "le YAML est mal formé", "vérifiez l'indentation, les deux-points et les guillemets"
                for needle, hint, hint_fix in YAML_HINTS:
                    if needle in problem or needle in context:
                        message, fix = hint, hint_fix
                        break
            line = mark.line + 1 if mark else None
            column = f", colonne {mark.column + 1}" if mark else ""
            report.add(Problem(shown, line, f"{message}{column}", fix, details=f"{context} {problem}".strip(), check="yaml"))
        if tabs:
            broken.add(path)
    return broken


# --------------------------------------------------------------------------- 2. content schema

def check_schema(paths: Paths, report: Report, broken: Set[Path]) -> bool:
    """False when the content service would refuse this content."""
    try:
        load_snapshot(paths.content)
        return True
    except ContentLoadFailed as exc:
        broken_names = {paths.show(p) for p in broken}
        helplines_broken = paths.show(paths.content / "helplines.yml") in broken_names
        for error in exc.errors:
            if helplines_broken and "n'existe pas dans helplines.yml" in error.message:
                continue  # a consequence of the broken file, told once above
            shown = paths.show(paths.content / error.file)
            if shown in broken_names and "YAML" in error.message:
                continue  # already told, with the column, by the syntax check
            field_hint = f" (champ {error.field})" if error.field else ""
            report.add(Problem(shown, error.line, error.message + field_hint, check="schema"))
        return False


def raw_content(paths: Paths, folder: str) -> List[Tuple[Path, Any, Dict[Tuple[Any, ...], int]]]:
    base = paths.content / folder if folder else paths.content
    out = []
    for path in yaml_files(base) if base.is_dir() else ([base] if base.exists() else []):
        data, lines = load_lines(path)
        if data is not None:
            out.append((path, data, lines))
    return out


def response_variants(paths: Paths) -> Iterable[Tuple[Path, Dict[Tuple[Any, ...], int], str, Tuple[Any, ...], Dict[str, Any]]]:
    """Every variant of every response: (file, its line index, response name, the variant's YAML path, variant)."""
    for path, data, lines in raw_content(paths, "responses"):
        if not isinstance(data, dict):
            continue
        for name, definition in data.items():
            prefix = (name, "variants") if isinstance(definition, dict) else (name,)
            for i, variant in enumerate(variants_of(definition)):
                if isinstance(variant, dict):
                    yield path, lines, name, prefix + (i,), variant


def response_names(paths: Paths) -> Set[str]:
    names: Set[str] = set()
    for _, data, _ in raw_content(paths, "responses"):
        if isinstance(data, dict):
            names |= {str(k) for k in data}
    return names


def variants_of(definition: Any) -> List[Any]:
    if isinstance(definition, dict):
        definition = definition.get("variants")
    return definition if isinstance(definition, list) else []


# --------------------------------------------------------------------------- 3. cross-references

def used_responses(paths: Paths) -> List[Tuple[str, Path, Optional[int], str]]:
    """(response, file, line, where it is used) for every response the bot may send."""
    used: List[Tuple[str, Path, Optional[int], str]] = []
    for path in yaml_files(paths.data):
        for number, line in enumerate(read(path).splitlines(), 1):
            match = ACTION_LINE.match(line)
            if match:
                used.append((match.group(1), path, number, "une règle ou une story"))
    domain, lines = load_lines(paths.domain)
    if isinstance(domain, dict):
        for i, action in enumerate(domain.get("actions") or []):
            if isinstance(action, str) and action.startswith("utter_"):
                used.append((action, paths.domain, lines.get(("actions", i)), "la liste actions: du domaine"))
    for folder in paths.code:
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            if "channels" in path.parts:
                continue
            for number, line in enumerate(read(path).splitlines(), 1):
                for name in QUOTED_UTTER.findall(line):
                    used.append((name, path, number, "le code de l'assistant"))
    return used


def check_used_responses(paths: Paths, report: Report) -> None:
    known = response_names(paths)
    seen: Set[Tuple[str, str]] = set()
    for name, path, line, how in used_responses(paths):
        if name in known or (name, str(path)) in seen:
            continue
        if part_of(name) is not None:
            continue  # the advice, put together from the flows' steps (content/flows/)
        if name.startswith("utter_reask_") and f"utter_ask_{question_of(name)}" in known:
            continue  # a question asked again: its own text, with an opening line
        seen.add((name, str(path)))
        fix = ("ajoutez la réponse dans un fichier de content/responses/ (avec fr: et en:), ou corrigez le nom"
               if how != "le code de l'assistant" else
               "ajoutez la réponse dans content/responses/ (avec fr: et en:) : le code l'envoie, elle doit exister")
        report.add(Problem(paths.show(path), line, f"la réponse {name} est utilisée par {how} mais n'existe dans aucun fichier de content/responses/",
                           fix, check="responses"))


def categorical_values(paths: Paths) -> Dict[str, List[str]]:
    domain, _ = load_lines(paths.domain)
    out: Dict[str, List[str]] = {}
    for name, slot in ((domain or {}).get("slots") or {}).items() if isinstance(domain, dict) else []:
        if isinstance(slot, dict) and slot.get("type") == "categorical":
            out[name] = [str(v) for v in slot.get("values") or []]
    return out


def check_when_values(paths: Paths, report: Report) -> None:
    platforms_data, _ = load_lines(paths.content / "platforms.yml")
    platforms = set(((platforms_data or {}).get("platforms") or {}) if isinstance(platforms_data, dict) else {})
    values = categorical_values(paths)

    def check(when: Any, path: Path, line: Optional[int]) -> None:
        if not isinstance(when, dict):
            return
        for key, expected in when.items():
            options = expected if isinstance(expected, list) else [expected]
            for option in options:
                if key == "platform" and platforms and option not in platforms:
                    close = [p for p in platforms if p.startswith(str(option)[:3])]
                    hint = f" (vouliez-vous dire {close[0]} ?)" if close else ""
                    report.add(Problem(paths.show(path), line, f"la plateforme « {option} » n'existe pas dans platforms.yml{hint}",
                                       "écrivez l'identifiant exact d'une plateforme de content/platforms.yml (minuscules), ou ajoutez-la", check="references"))
                elif key in values and option is not None and str(option) not in values[key]:
                    report.add(Problem(paths.show(path), line, f"« {option} » n'est pas une valeur possible de {key}",
                                       f"choisissez parmi : {', '.join(values[key])}", check="references"))

    for path, lines, _, where, variant in response_variants(paths):
        check(variant.get("when"), path, line_of(lines, where + ("when",)))
    for path, data, lines in raw_content(paths, "flows"):
        if isinstance(data, dict):
            for i, step in enumerate(data.get("steps") or []):
                if isinstance(step, dict):
                    check(step.get("when"), path, line_of(lines, ("steps", i, "when")))


def strings_in(value: Any, path: Tuple[Any, ...] = ()) -> Iterable[Tuple[Tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from strings_in(child, path + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from strings_in(child, path + (i,))


def check_links(paths: Paths, report: Report) -> None:
    for folder in ("responses", "flows", "helplines.yml", "platforms.yml", "settings.yml"):
        for path, data, lines in raw_content(paths, folder):
            for where, text in strings_in(data):
                if where and where[-1] in ("source", "note"):
                    continue  # references for reviewers, never shown to users
                if where and where[-1] == "link":
                    if text.startswith("http://"):
                        report.add(Problem(paths.show(path), line_of(lines, where), f"le lien « {text} » n'est pas sécurisé (http://)",
                                           f"écrivez « https://{text[7:]} » (vérifiez que la page s'ouvre)", check="links"))
                    elif not text.startswith("https://"):
                        pass  # told by the schema check
                    continue
                for url in re.findall(r"http://\S+", text):
                    report.add(Problem(paths.show(path), line_of(lines, where), f"le lien « {url.rstrip('.,)')} » n'est pas sécurisé (http://)",
                                       "écrivez https:// (vérifiez que la page s'ouvre en https)", check="links"))


def check_phones(paths: Paths, report: Report) -> None:
    for path, data, lines in raw_content(paths, "helplines.yml"):
        helplines = data.get("helplines") if isinstance(data, dict) else None
        for hid, line in (helplines or {}).items():
            if not isinstance(line, dict):
                continue
            for key in ("number", "sms"):
                value = line.get(key)
                if value is None:
                    continue
                fix = phone_problem(value)
                if fix:
                    report.add(Problem(paths.show(path), line_of(lines, ("helplines", hid, key)),
                                       f"le numéro « {value} » de {hid} ({key}) n'est pas un numéro français valide", fix, check="phones"))


# Numbers written as digits in a text: the long shapes always, a short one (15, 119...) only
# after a word that calls ("appelle le", "SMS au", "call"): not ages, amounts, durations, articles.
LONG_NUMBER = re.compile(r"(?<![\w+.,/-])(0\d(?:[ .]?\d{2}){4}|0 ?[89]\d{2} ?\d{3} ?\d{3}|116 ?\d{3}|3\d{3})(?![\w/-]|[.,]\d|\s?(?:€|euros?|ans|years?|min))")
SHORT_NUMBER = re.compile(r"(?<![\w+.,/-])(\d{2,3})(?![\w/-]|[.,]\d)")
CALL_WORDS = re.compile(r"(appel\w*|compos\w*|joindre|contacte\w*|sms|texto|call|dial|text|phone)\W+(?:\w+\W+){0,2}$", re.I)
NOT_A_NUMBER = re.compile(r"\b(?:art(?:icle)?s?\.?)\s*\d[\d-]*(?:\s*(?:et|and|,)\s*\d[\d-]*)*|https?://\S+|\b[\w.-]+\.(?:fr|org|com|net)\b|\{[a-z0-9_.]+\}", re.I)
TEEN_VOUS = re.compile(r"\b(vous|votre|vos)\b", re.I)
ADULT_TU = re.compile(r"\b(tu|toi|ton|tes|ta)\b|\bt['’](?=[aeiouhéèê])", re.I)
TEEN_ARTICLE = re.compile(r"\bart(?:icle)?s?\.?\s*\d{2,3}-\d[\d-]*", re.I)
QUOTED_SPEECH = re.compile(r"«[^»]*»|\"[^\"]*\"|rendez-vous|de vous voir|vous deux", re.I)


def helpline_numbers(paths: Paths) -> Tuple[Dict[str, str], Dict[str, Tuple[str, Optional[str]]]]:
    """{digits: id} of the numbers in service, {digits: (id, replaced_by)} of the retired ones."""
    live: Dict[str, str] = {}
    retired: Dict[str, Tuple[str, Optional[str]]] = {}
    for _, data, _ in raw_content(paths, "helplines.yml"):
        for hid, line in ((data or {}).get("helplines") or {}).items() if isinstance(data, dict) else []:
            if not isinstance(line, dict):
                continue
            for key in ("number", "sms"):
                if isinstance(line.get(key), str):
                    digits = re.sub(r"\D", "", line[key])
                    if line.get("retired"):
                        retired[digits] = (str(hid), line.get("replaced_by"))
                    else:
                        live[digits] = str(hid)
    return live, retired


def numbers_in(text: str) -> List[str]:
    clean = NOT_A_NUMBER.sub(" ", text)
    found = [m.group(1) for m in LONG_NUMBER.finditer(clean)]
    for match in SHORT_NUMBER.finditer(clean):
        before = clean[max(0, match.start() - 40):match.start()].split(".")[-1].replace("*", "")
        if CALL_WORDS.search(before):
            found.append(match.group(1))
    return found


SHOWN_FOLDERS = ("responses", "platforms.yml", "widget", "desk")
NOT_SHOWN = ("source", "note", "quote", "verified_on", "link", "aliases", "payload", "when", "unverified")


def check_numbers_in_texts(paths: Paths, report: Report) -> None:
    """A retired number, or a number that is not in helplines.yml, written in a text users read."""
    live, retired = helpline_numbers(paths)
    for folder in SHOWN_FOLDERS:
        for path, data, lines in raw_content(paths, folder):
            for where, text in strings_in(data):
                if any(part in NOT_SHOWN for part in where if isinstance(part, str)):
                    continue
                for number in numbers_in(text):
                    digits = re.sub(r"\D", "", number)
                    if digits in retired:
                        hid, replaced = retired[digits]
                        fix = (f"écrivez {{helpline.{replaced}.number}} à la place" if replaced
                               else "retirez ce numéro du texte")
                        report.add(Problem(paths.show(path), line_of(lines, where),
                                           f"le numéro {number} ({hid}) n'est plus en service (retired dans helplines.yml)", fix, check="numbers"))
                    elif digits not in live:
                        report.add(Problem(paths.show(path), line_of(lines, where),
                                           f"le numéro {number} n'est pas dans helplines.yml",
                                           "ajoutez-le dans helplines.yml (avec sa source, deuxième relecture) et écrivez {helpline.ID.number}, "
                                           "ou retirez-le du texte", check="numbers"))


def _texts(variant: Dict[str, Any], lang: str) -> Dict[str, str]:
    value = variant.get(lang)
    if isinstance(value, str):
        return {"teen": value, "adult": value}
    if isinstance(value, dict):
        teen = value.get("teen")
        return {"teen": teen, "adult": value.get("adult", teen)} if isinstance(teen, str) else {}
    return {}


def check_address_and_translations(paths: Paths, report: Report) -> None:
    """Teen texts say "tu", parent texts "vous"; the English text has the French text's placeholders."""
    for path, lines, name, where, variant in response_variants(paths):
        fr = variant.get("fr")
        if isinstance(fr, dict):
            teen, adult = fr.get("teen"), fr.get("adult")
            if isinstance(teen, str) and TEEN_VOUS.search(QUOTED_SPEECH.sub(" ", teen)):
                word = TEEN_VOUS.search(QUOTED_SPEECH.sub(" ", teen)).group(0)
                report.add(Problem(paths.show(path), line_of(lines, where + ("fr", "teen")),
                                   f"{name} : le texte teen: vouvoie (« {word} »)", "le texte teen: tutoie (tu, ton, tes)", check="address"))
            if isinstance(adult, str) and ADULT_TU.search(QUOTED_SPEECH.sub(" ", adult)):
                word = ADULT_TU.search(QUOTED_SPEECH.sub(" ", adult)).group(0)
                report.add(Problem(paths.show(path), line_of(lines, where + ("fr", "adult")),
                                   f"{name} : le texte adult: tutoie (« {word} »)", "le texte adult: vouvoie (vous, votre, vos)", check="address"))
        for lang in LANGS:
            value = variant.get(lang)
            teen = value.get("teen") if isinstance(value, dict) else None
            if isinstance(teen, str) and TEEN_ARTICLE.search(teen):
                report.add(Problem(paths.show(path), line_of(lines, where + (lang, "teen")),
                                   f"{name} : un numéro d'article de loi dans un texte pour les ados (« {TEEN_ARTICLE.search(teen).group(0)} »)",
                                   "dites-le simplement (« c'est interdit par la loi ») ; gardez l'article pour le texte adult:", check="address"))
        french, english = _texts(variant, "fr"), _texts(variant, "en")
        if french and variant.get("en") is not None and not english:
            continue  # told by the schema check
        for audience in ("teen", "adult"):
            fr_keys = set(PLACEHOLDER_RE.findall(french.get(audience) or ""))
            en_keys = set(PLACEHOLDER_RE.findall(english.get(audience) or ""))
            if english and fr_keys != en_keys:
                missing, extra = sorted(fr_keys - en_keys), sorted(en_keys - fr_keys)
                detail = "; ".join(x for x in (
                    f"il manque {', '.join('{' + k + '}' for k in missing)}" if missing else "",
                    f"en trop {', '.join('{' + k + '}' for k in extra)}" if extra else "") if x)
                report.add(Problem(paths.show(path), line_of(lines, where + ("en",)),
                                   f"{name} : le texte anglais ({audience}) n'a pas les mêmes champs à insérer que le français ({detail})",
                                   "le texte anglais dit la même chose que le français, avec les mêmes {…}", check="translation"))
                break


LANGS = ("fr", "en")
PLACEHOLDER_RE = re.compile(r"\{([a-z0-9_]+(?:\.[a-z0-9_]+)*)\}")


def _facts(paths: Paths) -> Iterable[Tuple[str, Dict[str, Any], Path, Optional[int]]]:
    """(what, item, file, line) for every item that can carry source / verified_on / quote."""
    def key_line(path: Path, key: Any, fallback: Optional[int]) -> Optional[int]:
        return find_line(path, rf"^\s*{re.escape(str(key))}\s*:") or fallback

    for path, data, lines in raw_content(paths, "flows"):
        if isinstance(data, dict):
            yield f"le parcours {data.get('flow')}", data, path, lines.get(("flow",)) or 1
    for path, data, lines in raw_content(paths, "responses"):
        for name, definition in (data or {}).items() if isinstance(data, dict) else []:
            if isinstance(definition, dict):
                yield f"le conseil {name}", definition, path, key_line(path, name, lines.get((name,)))
    for path, data, lines in raw_content(paths, "helplines.yml"):
        for hid, line in ((data or {}).get("helplines") or {}).items() if isinstance(data, dict) else []:
            if isinstance(line, dict):
                yield f"le numéro {hid}", line, path, key_line(path, hid, lines.get(("helplines", hid)))
    for path, data, lines in raw_content(paths, "platforms.yml"):
        for pid, guide in ((data or {}).get("platforms") or {}).items() if isinstance(data, dict) else []:
            if isinstance(guide, dict) and pid != "_default":
                yield f"le guide {pid}", guide, path, key_line(path, pid, lines.get(("platforms", pid)))


def _as_list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def check_fact_sources(paths: Paths, report: Report) -> None:
    """A fact checked from QUOTE_REQUIRED_SINCE on: an https source, verified_on and a quote from the page."""
    for what, item, path, line in _facts(paths):
        source, verified, quote = item.get("source"), item.get("verified_on"), item.get("quote")
        if item.get("unverified") is True:
            report.provenance.append(Problem(paths.show(path), line, f"{what} : à vérifier par une personne (unverified: true)",
                                             "trouvez une source officielle, puis retirez unverified", check="provenance"))
        day = None
        try:
            day = verified if isinstance(verified, dt.date) else dt.date.fromisoformat(str(verified)) if verified else None
        except ValueError:
            day = None
        if item.get("unverified") is True or (quote is None and (day is None or day < QUOTE_REQUIRED_SINCE)):
            continue  # never checked with a quote: listed in the provenance work list
        problems = []
        if not source:
            problems.append("il manque source: (l'adresse https de la page qui dit ce fait)")
        elif any(not isinstance(s, str) or not all(re.fullmatch(r"https://\S+", part.strip()) for part in s.split(" ; "))
                 for s in _as_list(source)):
            problems.append("source: doit être une adresse https:// (une page publique), rien d'autre")
        if not verified:
            problems.append("il manque verified_on: (la date où la page a été lue)")
        if not quote or any(not isinstance(q, str) or not q.strip() for q in _as_list(quote)):
            problems.append("il manque quote: (une courte citation de la page qui dit ce fait)")
        for problem in problems:
            report.add(Problem(paths.show(path), line, f"{what} : {problem}",
                               "un fait vérifié a toujours source (https), verified_on et quote ; sans source officielle, mettez unverified: true",
                               check="facts"))


# --------------------------------------------------------------------------- 4. Rasa validation, translated

RASA_MESSAGES = (
    (re.compile(r"The intent '(?P<x>[^']+)' is listed in the domain file, but is not found in the NLU training data"),
     "domain_intent", "l'intention {x} est déclarée dans le domaine mais n'a aucun exemple d'entraînement",
     "ajoutez des exemples dans un fichier de bot/data/nlu/ (« - intent: {x} » puis « examples: | ») ou retirez-la de bot/domain.yml"),
    (re.compile(r"There is a message in the training data labeled with intent '(?P<x>[^']+)'. This intent is not listed"),
     "nlu_intent", "l'intention {x} a des exemples mais n'est pas déclarée dans bot/domain.yml",
     "corrigez le nom de l'intention, ou ajoutez-la à la liste intents: de bot/domain.yml (demandez à un·e développeur·se)"),
    (re.compile(r"The intent '(?P<x>[^']+)' is used in your stories, but it is not listed in the domain"),
     "story_intent", "l'intention {x} est utilisée dans une règle ou une story mais n'existe pas dans bot/domain.yml",
     "corrigez le nom (voir la liste intents: de bot/domain.yml)"),
    (re.compile(r"The intent '(?P<x>[^']+)' is not used in any story or rule"),
     "domain_intent", "l'intention {x} n'est utilisée par aucune règle ni story : l'assistant ne saurait pas quoi répondre",
     "ajoutez une règle dans bot/data/rules/ qui répond à {x}"),
    (re.compile(r"The example '(?P<x>.*)' was found labeled with multiple different intents.*labeled with: (?P<y>[^.]+)\.", re.S),
     "example", "l'exemple « {x} » est rangé dans plusieurs intentions ({y})",
     "gardez-le dans une seule intention : supprimez-le (ou reformulez-le) dans les autres"),
    (re.compile(r"The action '(?P<x>[^']+)' is used in the stories, but is not a valid utterance action"),
     "story_action", "la réponse {x} est utilisée dans une règle ou une story mais n'existe pas",
     "ajoutez-la dans content/responses/ (avec fr: et en:) ou corrigez le nom"),
    (re.compile(r"The utterance '(?P<x>[^']+)' is not used in any story or rule"),
     "response", "la réponse {x} n'est utilisée par aucune règle ni story",
     "utilisez-la dans une règle (bot/data/rules/), ou retirez-la"),
    (re.compile(r"The form '(?P<x>[^']+)' is used in the '(?P<y>[^']+)' block, but it is not listed"),
     "story_action", "le formulaire {x} (dans « {y} ») n'existe pas dans bot/domain.yml", "corrigez le nom du formulaire"),
    (re.compile(r"The action '(?P<x>[^']+)' is used in the '(?P<y>[^']+)' block, but it is not listed"),
     "story_action", "l'action {x} (dans « {y} ») n'existe pas dans bot/domain.yml",
     "corrigez le nom (voir la liste actions: de bot/domain.yml)"),
    (re.compile(r"The form slot '(?P<x>[^']+)' in form '(?P<y>[^']+)' is not present"),
     "domain_text", "la question {x} du formulaire {y} n'est pas un créneau (slot) du domaine", "corrigez le nom dans forms: de bot/domain.yml"),
    (re.compile(r"Slot '(?P<x>[^']+)' has a mapping condition for form '(?P<y>[^']+)'"),
     "domain_text", "le créneau {x} dépend du formulaire {y}, qui ne le demande pas ou n'existe pas", "corrigez forms: ou slots: dans bot/domain.yml"),
    (re.compile(r"Action '(?P<x>[^']+)' is listed as a response action in the domain file, but there is no matching response"),
     "ignore_if_content", "", ""),
)


GENERIC_RASA = "Rasa signale un problème dans les données d'entraînement"


def _locate_rasa(kind: str, x: str, paths: Paths) -> Tuple[Optional[Path], Optional[int]]:
    data_files = yaml_files(paths.data)
    nlu = [p for p in data_files if "nlu" in p.parts or "nlu" in p.stem] or data_files
    stories = [p for p in data_files if p not in nlu] or data_files
    escaped = re.escape(x)
    if kind == "domain_intent":
        return locate([paths.domain], rf"^\s*-\s*[\"']?{escaped}[\"']?\s*(:|$|#)")
    if kind == "nlu_intent":
        return locate(nlu, rf"intent:\s*[\"']?{escaped}[\"']?\s*$")
    if kind == "story_intent":
        return locate(stories, rf"intent:\s*[\"']?{escaped}[\"']?\s*$")
    if kind == "example":
        return locate(nlu, rf"^\s*-\s*{escaped}\s*$")
    if kind == "story_action":
        return locate(stories, rf"(action|active_loop):\s*[\"']?{escaped}[\"']?\s*$")
    if kind == "response":
        return locate(yaml_files(paths.content / "responses"), rf"^{escaped}:")
    if kind == "domain_text":
        return locate([paths.domain], rf"\b{escaped}\b")
    return None, None


def translate_rasa(text: str, paths: Paths, known_responses: Set[str]) -> Optional[Problem]:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text).strip()
    for regex, kind, message, fix in RASA_MESSAGES:
        match = regex.search(text)
        if not match:
            continue
        values = {k: v.strip() for k, v in match.groupdict().items()}
        if kind == "ignore_if_content":
            # Form questions and desk messages are listed as actions and served from content/
            # (checked above); Rasa does not see them in the domain, which is expected.
            return None
        file, line = _locate_rasa(kind, values["x"], paths)
        if kind == "example" and file is None:
            file = paths.data
        return Problem(paths.show(file) if file else paths.show(paths.domain if "domain" in kind else paths.data), line,
                       message.format(**values), fix.format(**values), details=text, check="rasa")
    return Problem(paths.show(paths.data), None, GENERIC_RASA,
                   "lisez le texte d'origine ci-dessous, ou demandez à un·e développeur·se", details=text, check="rasa")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def check_rasa(paths: Paths, report: Report) -> None:
    previous = os.environ.get("CONTENT_DIR")
    os.environ["CONTENT_DIR"] = str(paths.content)  # read by the content importer
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    collect = _Collect()
    conflicts_logger = logging.getLogger("rasa.validator")
    conflicts_logger.addHandler(collect)
    known = response_names(paths)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from rasa.shared.importers.importer import TrainingDataImporter
            from rasa.validator import Validator

            importer = TrainingDataImporter.load_from_config(
                domain_path=str(paths.domain), training_data_paths=[str(paths.data)], config_path=str(paths.config))
            validator = Validator.from_importer(importer)
            loading = len(caught)  # notices while reading (e.g. Rasa 2 -> 3 migration): told only when recognised
            validator.verify_domain_validity()
            validator.verify_actions_in_stories_rules()
            validator.verify_forms_in_stories_rules()
            validator.verify_form_slots()
            validator.verify_slot_mappings()
            validator.verify_nlu(ignore_warnings=False)
            structure_ok = validator.verify_story_structure(ignore_warnings=False)
            validator.warn_if_config_mandatory_keys_are_not_set()
    except Exception as exc:  # noqa: BLE001  (Rasa could not read the data at all)
        text = str(exc)
        file_match = re.search(r"(/\S+\.ya?ml)", text)
        file = Path(file_match.group(1)) if file_match else paths.data
        line_match = re.search(r"line (\d+)", text)
        report.add(Problem(paths.show(file), int(line_match.group(1)) if line_match else None,
                           "Rasa ne peut pas lire les données d'entraînement",
                           "vérifiez la forme des règles et stories (steps:, - intent:, - action:) ; --details donne le texte d'origine",
                           details=text.strip().splitlines()[0][:500] if text.strip() else exc.__class__.__name__, check="rasa"))
        return
    finally:
        conflicts_logger.removeHandler(collect)
        if previous is None:
            os.environ.pop("CONTENT_DIR", None)
        else:
            os.environ["CONTENT_DIR"] = previous
    for index, warning in enumerate(caught):
        if not issubclass(warning.category, UserWarning) or issubclass(warning.category, DeprecationWarning):
            continue
        text = str(warning.message)
        if "Action '" in text and "listed as a response action" in text:
            name = re.search(r"Action '([^']+)'", text).group(1)
            if name in known:
                continue
        problem = translate_rasa(text, paths, known)
        if problem and (index >= loading or problem.message != GENERIC_RASA):
            report.add(problem)
    if not structure_ok:
        for conflict in collect.records:
            names = re.findall(r"predicted in '([^']+)'", conflict)
            file, line = (None, None)
            for name in names:
                file, line = locate(yaml_files(paths.data), rf"(story|rule):\s*[\"']?{re.escape(name)}")
                if file:
                    break
            report.add(Problem(paths.show(file or paths.data), line,
                               "deux stories se contredisent : au même moment elles font répondre des choses différentes (" + ", ".join(f"« {n} »" for n in names) + ")",
                               "changez l'une des deux pour qu'elles répondent la même chose au même moment, ou distinguez-les (intention, créneau)",
                               details=conflict.replace("\n", " "), check="rasa"))


def _steps(items: Any) -> List[Tuple[str, str, Any]]:
    """[(kind, name, raw)] for `- intent: x` / `- action: y` steps."""
    out = []
    for step in items or []:
        if isinstance(step, dict):
            if "intent" in step:
                out.append(("intent", str(step["intent"]), step))
            elif "action" in step:
                out.append(("action", str(step["action"]), step))
            else:
                out.append(("other", "", step))
    return out


def check_stories_against_rules(paths: Paths, report: Report) -> None:
    """A story that answers an intent differently from an unconditional rule for that intent."""
    rules: Dict[str, Tuple[str, str, Path]] = {}
    stories: List[Tuple[str, List[Tuple[str, str, Any]], Path]] = []
    for path in yaml_files(paths.data):
        data, _ = load_lines(path)
        if not isinstance(data, dict):
            continue
        for rule in data.get("rules") or []:
            if not isinstance(rule, dict) or rule.get("condition") or rule.get("conversation_start"):
                continue
            steps = _steps(rule.get("steps"))
            if len(steps) >= 2 and steps[0][0] == "intent" and steps[1][0] == "action" and not set(steps[0][2]) - {"intent"}:
                rules.setdefault(steps[0][1], (steps[1][1], str(rule.get("rule")), path))
        for story in data.get("stories") or []:
            if isinstance(story, dict):
                stories.append((str(story.get("story")), _steps(story.get("steps")), path))
    for name, steps, path in stories:
        for (kind, intent, raw), (next_kind, action, _) in zip(steps, steps[1:]):
            if kind != "intent" or next_kind != "action" or intent not in rules or set(raw) - {"intent"}:
                continue
            expected, rule_name, rule_path = rules[intent]
            if action != expected:
                line = find_line(path, rf"story:\s*[\"']?{re.escape(name)}")
                report.add(Problem(paths.show(path), line,
                                   f"la story « {name} » répond {action} à l'intention {intent}, alors que la règle « {rule_name} » "
                                   f"({paths.show(rule_path)}) répond {expected} : l'assistant ne peut pas suivre les deux",
                                   f"dans la story, mettez « - action: {expected} » après « - intent: {intent} » (comme la règle), "
                                   "ou demandez à un·e développeur·se d'ajouter une condition à la règle", check="rasa"))


# --------------------------------------------------------------------------- 5. provenance

def _age_days(value: Any, today: dt.date) -> Optional[int]:
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return None
    return (today - day).days


def check_provenance(paths: Paths, report: Report, today: dt.date) -> None:
    def look(what: str, item: Any, path: Path, line: Optional[int]) -> None:
        if not isinstance(item, dict):
            return
        shown = paths.show(path)
        if not item.get("source"):
            report.provenance.append(Problem(shown, line, f"{what} : aucune source", "ajoutez source: (l'adresse de la page officielle lue)", check="provenance"))
        verified = item.get("verified_on")
        if not verified:
            report.provenance.append(Problem(shown, line, f"{what} : jamais vérifié (verified_on vide)",
                                             "relisez la source, puis écrivez verified_on: \"AAAA-MM-JJ\" (la date du jour)", check="provenance"))
            return
        days = _age_days(verified, today)
        if days is not None and days > PROVENANCE_MAX_DAYS:
            report.provenance.append(Problem(shown, line, f"{what} : vérifié le {verified}, il y a plus de 12 mois",
                                             "relisez la source et mettez verified_on à la date du jour", check="provenance"))

    def key_line(path: Path, key: Any, fallback: Optional[int]) -> Optional[int]:
        return find_line(path, rf"^\s*{re.escape(str(key))}\s*:") or fallback

    flows_steps: Set[str] = set()
    for path, data, lines in raw_content(paths, "flows"):
        if isinstance(data, dict):
            look(f"le parcours {data.get('flow')}", data, path, lines.get(("flow",)) or 1)
            flows_steps |= {s.get("response") for s in data.get("steps") or [] if isinstance(s, dict)}
    for path, data, lines in raw_content(paths, "responses"):
        if not isinstance(data, dict):
            continue
        for name, definition in data.items():
            advice = (name in flows_steps or str(name).endswith("_urgent") or path.name == "crisis.yml"
                      or (isinstance(definition, dict) and "source" in definition))
            if advice:
                item = definition if isinstance(definition, dict) else {}
                look(f"le conseil {name}", item, path, key_line(path, name, lines.get((name,))))
    for path, data, lines in raw_content(paths, "helplines.yml"):
        for hid, line in ((data or {}).get("helplines") or {}).items() if isinstance(data, dict) else []:
            look(f"le numéro {hid}", line, path, key_line(path, hid, lines.get(("helplines", hid))))
    for path, data, lines in raw_content(paths, "platforms.yml"):
        for pid, guide in ((data or {}).get("platforms") or {}).items() if isinstance(data, dict) else []:
            if pid != "_default":
                look(f"le guide {pid}", guide, path, key_line(path, pid, lines.get(("platforms", pid))))
    for path, data, lines in raw_content(paths, "crisis/lexicon.yml"):
        look("le lexique de crise", data, path, 1)


# --------------------------------------------------------------------------- 6. sensitive files

def _git(repo: Path, *args: str) -> Optional[List[str]]:
    try:
        result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def changed_files(repo: Path, base: Optional[str] = None) -> Tuple[List[str], str]:
    """Files touched by the change, and what they are compared with."""
    if base is None and _git(repo, "rev-parse", "--verify", "--quiet", "origin/main") is not None:
        merge_base = _git(repo, "merge-base", "HEAD", "origin/main")
        base = merge_base[0] if merge_base else None
    files: Set[str] = set()
    if base:
        files |= set(_git(repo, "diff", "--name-only", base) or [])
        what = f"depuis {base[:10]}"
    else:
        files |= set(_git(repo, "diff", "--name-only", "HEAD") or [])
        files |= set(_git(repo, "diff", "--name-only", "HEAD~1", "HEAD") or [])
        what = "modifications en cours et dernier commit"
    files |= set(_git(repo, "ls-files", "--others", "--exclude-standard") or [])
    return sorted(files), what


def check_sensitive(paths: Paths, report: Report, base: Optional[str]) -> None:
    files, what = changed_files(paths.repo, base)
    touched = [f for f in files if any(f == s or (s.endswith("/") and f.startswith(s)) for s in SENSITIVE)]
    if touched:
        report.sensitive.append(f"⚠ Fichiers sensibles touchés ({what}) : une deuxième personne doit relire (safeguarding, voir .github/CODEOWNERS) :")
        report.sensitive += [f"    - {f}" for f in touched]


# --------------------------------------------------------------------------- main

def run_checks(paths: Paths, rasa: bool = True, sensitive: bool = True, base: Optional[str] = None,
               today: Optional[dt.date] = None) -> Report:
    report = Report()
    started = time.monotonic()
    broken = check_yaml_syntax(paths, report)
    report.timings["yaml"] = time.monotonic() - started
    content_ok = check_schema(paths, report, broken)
    check_used_responses(paths, report)
    check_when_values(paths, report)
    check_links(paths, report)
    check_phones(paths, report)
    check_numbers_in_texts(paths, report)
    check_address_and_translations(paths, report)
    check_fact_sources(paths, report)
    check_stories_against_rules(paths, report)
    report.timings["contenu"] = time.monotonic() - started
    data_broken = any(p == paths.domain or paths.data in p.parents for p in broken)
    if rasa and data_broken:
        report.skipped.append("validation Rasa non faite : corrigez d'abord le YAML de bot/data ou du domaine")
    elif rasa and not content_ok:
        report.skipped.append("validation Rasa non faite : corrigez d'abord les erreurs du contenu ci-dessus")
    elif rasa:
        check_rasa(paths, report)
    report.timings["rasa"] = time.monotonic() - started
    check_provenance(paths, report, today or dt.date.today())
    if sensitive:
        check_sensitive(paths, report, base)
    report.timings["total"] = time.monotonic() - started
    return report


def print_report(report: Report, details: bool, strict_provenance: bool, out=None) -> int:  # noqa: ANN001
    out = out or sys.stdout
    write = lambda text="": print(text, file=out)  # noqa: E731
    if report.errors:
        write(f"{len(report.errors)} problème(s) à corriger :\n")
        for problem in report.errors:
            write(problem.render(details))
        write()
    for note in report.skipped:
        write(f"ℹ {note}")
    if report.provenance:
        label = "à corriger" if strict_provenance else "à revoir, ne bloque pas"
        write(f"Provenance ({label}) : {len(report.provenance)} élément(s) sans source, jamais vérifiés ou vérifiés il y a plus de 12 mois")
        for problem in report.provenance:
            write(f"  - {problem.where()} : {problem.message}")
        write("  → relisez la source, corrigez si besoin, puis mettez verified_on à la date du jour\n")
    for line in report.sensitive:
        write(line)
    failed = bool(report.errors) or (strict_provenance and bool(report.provenance))
    write(("✗ La vérification a échoué : corrigez les problèmes ci-dessus, puis relancez make check."
           if failed else "✓ Tout est bon") + f" ({report.timings.get('total', 0):.1f} s)")
    return 1 if failed else 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Vérifie le contenu et les données d'entraînement (sans entraîner).")
    parser.add_argument("--content", default=os.environ.get("CONTENT_DIR") or str(ROOT / "content"), help="dossier du contenu")
    parser.add_argument("--data", default=str(ROOT / "bot" / "data"), help="données d'entraînement (nlu, rules, stories)")
    parser.add_argument("--domain", default=str(ROOT / "bot" / "domain.yml"))
    parser.add_argument("--config", default=str(ROOT / "config.yml"))
    parser.add_argument("--code", action="append", help="code qui envoie des réponses (par défaut bot/actions et bot/rasa_addons)")
    parser.add_argument("--repo", default=str(ROOT), help="dépôt git pour les fichiers sensibles")
    parser.add_argument("--base", default=None, help="comparer avec ce commit (par défaut : merge-base avec origin/main)")
    parser.add_argument("--details", action="store_true", help="montrer aussi les messages d'origine (Rasa, YAML)")
    parser.add_argument("--no-rasa", action="store_true", help="ne pas lancer la validation Rasa (plus rapide)")
    parser.add_argument("--strict-provenance", action="store_true", default=os.environ.get("STRICT_PROVENANCE") == "1",
                        help="échouer aussi sur la provenance (source, verified_on)")
    parser.add_argument("--today", default=None, help="date du jour AAAA-MM-JJ (pour les tests)")
    args = parser.parse_args(argv)
    paths = Paths(Path(args.content), Path(args.data), Path(args.domain), Path(args.config),
                  [Path(c) for c in args.code] if args.code else [ROOT / "bot" / "actions", ROOT / "bot" / "rasa_addons"],
                  Path(args.repo))
    today = dt.date.fromisoformat(args.today) if args.today else None
    report = run_checks(paths, rasa=not args.no_rasa, base=args.base, today=today)
    return print_report(report, args.details, args.strict_provenance)


if __name__ == "__main__":
    sys.exit(main())
