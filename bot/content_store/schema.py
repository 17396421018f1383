"""Check every content file and compile it; each problem names file, line and field.

Messages are in plain French: the people who read them are the helpline's editors.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from bot.content_store.errors import ContentError
from bot.content_store.model import AUDIENCES, LANGUAGES, Button, Flow, FlowQuestion, FlowStep, Response, Variant
from bot.content_store.render import HELPLINE_FIELDS, PLACEHOLDER, PLATFORM_FIELDS, RUNTIME_FIELDS, SERVICE_FIELDS
from bot.safety.lexicon import CRISIS_PRIORITY, Lexicon, PatternError, compile_pattern
from bot.safety.normalize import fold

Lines = Dict[Tuple[Any, ...], int]
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
PAYLOAD_INTENT = re.compile(r"^/[a-z_]+$")
WHEN_SPECIAL = ("age_below", "age_at_least")
KNOWN_SLOTS = (
    "flow", "risk_level", "user_role", "language", "platform", "age", "handoff_status",
    "crisis_type", "safe_now", "safe_at_home", "paid", "posted", "deadline", "meeting_proposed",
    "school_involved", "can_login", "impersonation", "hate_motivated", "wellbeing",
    # set by the desk at a child-protection close: the erasure message says what is kept
    "legal_hold",
)
# The facts a flow can ask about (each has its question utter_ask_<slot> in content/responses/questions.yml).
QUESTION_SLOTS = (
    "wellbeing", "safe_now", "age", "platform", "paid", "posted", "deadline", "meeting_proposed",
    "school_involved", "can_login",
)


class Checker:
    """Collects the problems of one file."""

    def __init__(self, file: str, lines: Lines) -> None:
        self.file = file
        self.lines = lines
        self.errors: List[ContentError] = []

    def error(self, path: Tuple[Any, ...], message: str) -> None:
        line = None
        probe = path
        while probe and line is None:
            line = self.lines.get(probe)
            probe = probe[:-1]
        line = line or self.lines.get(())
        field = ".".join(str(p) for p in path)
        self.errors.append(ContentError(self.file, line, field, message))

    def mapping(self, value: Any, path: Tuple[Any, ...], what: str) -> bool:
        if not isinstance(value, dict):
            self.error(path, f"{what} doit être une liste de champs « nom: valeur »")
            return False
        return True

    def text(self, value: Any, path: Tuple[Any, ...], what: str, allow_empty: bool = False) -> bool:
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            self.error(path, f"{what} doit être un texte non vide")
            return False
        return True

    def per_language(self, value: Any, path: Tuple[Any, ...], what: str, allow_empty: bool = False) -> None:
        if not self.mapping(value, path, what):
            return
        for lang in LANGUAGES:
            if lang not in value:
                name = "français" if lang == "fr" else "anglais"
                self.error(path, f"il manque le texte en {name} ({lang}:) pour {what}")
            else:
                self.text(value[lang], path + (lang,), f"{what} ({lang})", allow_empty)

    def provenance(self, data: Dict[str, Any], path: Tuple[Any, ...]) -> None:
        if "source" in data and data["source"] is not None and not isinstance(data["source"], str):
            self.error(path + ("source",), "source doit être un texte (une adresse ou une référence)")
        if "verified_on" in data:
            value = data["verified_on"]
            if value is not None and not isinstance(value, dt.date):
                try:
                    dt.date.fromisoformat(str(value))
                except ValueError:
                    self.error(path + ("verified_on",), "verified_on doit être une date AAAA-MM-JJ ou null")

    def link(self, value: Any, path: Tuple[Any, ...]) -> None:
        if value is not None and (not isinstance(value, str) or not URL.match(value)):
            self.error(path, f"le lien « {value} » n'est pas une adresse web valide (https://...)")


def _placeholders(checker: Checker, text: str, path: Tuple[Any, ...], helplines: Dict[str, Any]) -> None:
    for key in PLACEHOLDER.findall(text):
        if key in PLATFORM_FIELDS or key in RUNTIME_FIELDS or key in SERVICE_FIELDS:
            continue
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "helpline":
            if parts[1] not in helplines:
                checker.error(path, f"le numéro « {parts[1]} » n'existe pas dans helplines.yml ({{{key}}})")
            elif (helplines[parts[1]] or {}).get("retired"):
                replaced = (helplines[parts[1]] or {}).get("replaced_by")
                hint = f" : utilisez {{helpline.{replaced}.{parts[2]}}}" if replaced else ""
                checker.error(path, f"le numéro « {parts[1]} » n'est plus en service (retired dans helplines.yml){hint}")
            elif parts[2] not in HELPLINE_FIELDS:
                checker.error(path, f"« {parts[2]} » n'est pas un champ de numéro (choix : {', '.join(HELPLINE_FIELDS)})")
            continue
        checker.error(path, f"le champ à insérer {{{key}}} n'existe pas (voir content/README.md)")
    stray = PLACEHOLDER.sub("", text)
    if "{" in stray or "}" in stray:
        checker.error(path, "accolade { ou } isolée : n'utilisez les accolades que pour les champs à insérer")


def _when(checker: Checker, when: Any, path: Tuple[Any, ...]) -> Dict[str, Any]:
    if when is None:
        return {}
    if not checker.mapping(when, path, "when"):
        return {}
    for key, value in when.items():
        if key in WHEN_SPECIAL:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                checker.error(path + (key,), f"{key} attend un nombre (par exemple 18)")
        elif key not in KNOWN_SLOTS:
            checker.error(path + (key,), f"« {key} » n'est pas un créneau connu (choix : {', '.join(KNOWN_SLOTS)})")
    return dict(when)


def compile_responses(
    data: Any, checker: Checker, helplines: Dict[str, Any], responses: Dict[str, Response]
) -> None:
    if not checker.mapping(data, (), "un fichier de réponses"):
        return
    for name, definition in data.items():
        path: Tuple[Any, ...] = (name,)
        if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
            checker.error(path, "un nom de réponse s'écrit en minuscules, chiffres et _ (ex. utter_greet)")
            continue
        if name in responses:
            checker.error(path, f"la réponse {name} existe déjà dans {responses[name].file}")
            continue
        source = verified = None
        if isinstance(definition, dict):
            checker.provenance(definition, path)
            source, verified = definition.get("source"), definition.get("verified_on")
            unknown = set(definition) - {"variants", "source", "verified_on", "quote", "unverified"}
            if unknown:
                checker.error(path, f"champ inconnu : {', '.join(sorted(map(str, unknown)))}")
            definition, path = definition.get("variants"), path + ("variants",)
        if not isinstance(definition, list) or not definition:
            checker.error(path, "une réponse est une liste de variantes (chacune avec fr: et en:)")
            continue
        variants = [_variant(checker, v, path + (i,), helplines) for i, v in enumerate(definition)]
        if any(v is None for v in variants):
            continue
        if variants[-1].when:
            checker.error(path + (len(variants) - 1,), "la dernière variante ne doit pas avoir de when (c'est la variante par défaut)")
        responses[name] = Response(name, variants, checker.file, source, str(verified) if verified else None)


def _variant(checker: Checker, data: Any, path: Tuple[Any, ...], helplines: Dict[str, Any]) -> Optional[Variant]:
    if not checker.mapping(data, path, "une variante"):
        return None
    before = len(checker.errors)
    unknown = set(data) - {"when", "fr", "en", "buttons"}
    if unknown:
        checker.error(path, f"champ inconnu : {', '.join(sorted(map(str, unknown)))}")
    texts: Dict[str, Dict[str, str]] = {}
    for lang in LANGUAGES:
        value = data.get(lang)
        name = "français" if lang == "fr" else "anglais"
        if value is None:
            checker.error(path, f"il manque le texte en {name} ({lang}:)")
            continue
        if isinstance(value, str):
            value = {aud: value for aud in AUDIENCES}
        elif isinstance(value, dict):
            unknown_aud = set(value) - set(AUDIENCES)
            if unknown_aud:
                checker.error(path + (lang,), "seuls teen: (tutoiement) et adult: (vouvoiement) sont permis")
            if "teen" not in value:
                checker.error(path + (lang,), f"il manque le texte teen: en {name}")
                continue
            value = {aud: value.get(aud, value["teen"]) for aud in AUDIENCES}
        else:
            checker.error(path + (lang,), f"le texte en {name} doit être un texte, ou teen:/adult:")
            continue
        for aud, text in value.items():
            if checker.text(text, path + (lang, aud) if isinstance(data.get(lang), dict) else path + (lang,), f"le texte {lang}"):
                _placeholders(checker, text, path + (lang,), helplines)
        texts[lang] = value
    buttons: List[Button] = []
    raw_buttons = data.get("buttons") or []
    if not isinstance(raw_buttons, list):
        checker.error(path + ("buttons",), "buttons doit être une liste")
        raw_buttons = []
    for i, button in enumerate(raw_buttons):
        bpath = path + ("buttons", i)
        if not checker.mapping(button, bpath, "un bouton"):
            continue
        payload = button.get("payload")
        if not isinstance(payload, str) or not payload.strip():
            checker.error(bpath, "un bouton a besoin d'un payload")
            continue
        if payload.startswith("/") and not PAYLOAD_INTENT.match(payload):
            checker.error(bpath + ("payload",), "un payload commençant par / est une intention seule, sans {...} (ex. /affirm)")
        titles = {}
        for lang in LANGUAGES:
            if checker.text(button.get(lang), bpath + (lang,), f"le titre du bouton ({lang})"):
                titles[lang] = button[lang]
        buttons.append(Button(payload, titles))
    when = _when(checker, data.get("when"), path + ("when",))
    if len(checker.errors) > before:
        return None
    return Variant(when, texts, buttons)


def compile_flow(data: Any, checker: Checker, flows: Dict[str, Flow]) -> None:
    if not checker.mapping(data, (), "un fichier de parcours"):
        return
    checker.provenance(data, ())
    name = data.get("flow")
    if not checker.text(name, ("flow",), "flow"):
        return
    steps_data = data.get("steps")
    if not isinstance(steps_data, list) or not steps_data:
        checker.error(("steps",), "steps doit être une liste d'étapes (- response: ...)")
        return
    steps = []
    for i, step in enumerate(steps_data):
        if not checker.mapping(step, ("steps", i), "une étape") or not checker.text(step.get("response"), ("steps", i, "response"), "response"):
            continue
        steps.append(FlowStep(step["response"], _when(checker, step.get("when"), ("steps", i, "when"))))
    urgent = data.get("urgent")
    if not checker.text(urgent, ("urgent",), "urgent (la première réponse du parcours, ex. utter_sextortion_urgent)"):
        return
    questions = _questions(checker, data.get("questions"))
    if name in flows:
        checker.error(("flow",), f"le parcours {name} est déjà défini dans {flows[name].file}")
    flows[name] = Flow(name, steps, checker.file, urgent=urgent, questions=questions)


def _questions(checker: Checker, data: Any) -> List[FlowQuestion]:
    if data is None:
        return []
    if not isinstance(data, list):
        checker.error(("questions",), "questions doit être une liste (- ask: age)")
        return []
    questions = []
    for i, item in enumerate(data):
        path = ("questions", i)
        if not checker.mapping(item, path, "une question") or not checker.text(item.get("ask"), path + ("ask",), "ask"):
            continue
        if item["ask"] not in QUESTION_SLOTS:
            checker.error(path + ("ask",), f"« {item['ask']} » n'est pas une question connue (choix : {', '.join(QUESTION_SLOTS)})")
            continue
        questions.append(FlowQuestion(item["ask"], _when(checker, item.get("when"), path + ("when",))))
    return questions


# The one rule for phone numbers (helplines.yml and make check use it): French short numbers
# (emergency and helplines, 3xxx, 116 xxx) or 10 digits, in pairs or as a 0 800 123 456 free number.
SHORT_NUMBERS = frozenset({"15", "17", "18", "112", "114", "115", "119", "191", "196", "197"})
SHORT_3XXX = re.compile(r"^3\d{3}$")
HARMONISED_116 = re.compile(r"^116 ?\d{3}$")
TEN_DIGITS = re.compile(r"^0[1-9](?: \d{2}){4}$|^0[1-9]\d{8}$|^0 [89]\d{2} \d{3} \d{3}$")


def phone_problem(value: Any) -> Optional[str]:
    """None when `value` is a valid French number as editors write it, otherwise what to change."""
    if not isinstance(value, str):
        return "écrivez le numéro entre guillemets, ex. \"3018\" ou \"01 23 45 67 89\""
    if value != value.strip() or "  " in value:
        return f"enlevez les espaces en trop : « {value.strip()} »"
    if value in SHORT_NUMBERS or SHORT_3XXX.match(value) or HARMONISED_116.match(value) or TEN_DIGITS.match(value):
        return None
    digits = re.sub(r"\D", "", value)
    if re.fullmatch(r"[\d .-]+", value) and len(digits) == 10 and digits.startswith("0"):
        pairs = " ".join(digits[i:i + 2] for i in range(0, 10, 2))
        return f"écrivez les 10 chiffres par paires : « {pairs} »"
    if re.fullmatch(r"[\d ]+", value) and ((len(digits) == 4 and digits.startswith("3")) or digits in SHORT_NUMBERS):
        return f"un numéro court s'écrit sans espace : « {digits} »"
    return ("un numéro français a 10 chiffres commençant par 0 (« 01 23 45 67 89 », « 0 800 123 456 ») ou est un numéro court "
            "(3018, 3114, 119, 17, 112, 114, 15, 116 006)")


def check_helplines(data: Any, checker: Checker) -> Dict[str, Any]:
    if not checker.mapping(data, (), "helplines.yml") or not checker.mapping(data.get("helplines"), ("helplines",), "helplines"):
        return {}
    out = {}
    for hid, line in data["helplines"].items():
        path = ("helplines", hid)
        if not checker.mapping(line, path, f"le numéro {hid}"):
            continue
        checker.per_language(line.get("name"), path + ("name",), "name")
        if line.get("hours") is not None:
            checker.per_language(line.get("hours"), path + ("hours",), "hours")
        for key in ("number", "sms"):
            value = line.get(key)
            problem = phone_problem(value) if value is not None else None
            if problem:
                checker.error(path + (key,), f"« {value} » n'est pas un numéro français valide : {problem}")
        if line.get("retired") and line.get("replaced_by") not in (None, *data["helplines"]):
            checker.error(path + ("replaced_by",), f"replaced_by : « {line.get('replaced_by')} » n'existe pas dans helplines.yml")
        checker.link(line.get("link"), path + ("link",))
        checker.provenance(line, path)
        out[hid] = line
    return out


def check_platforms(data: Any, checker: Checker) -> Tuple[Dict[str, Any], Dict[str, str]]:
    if not checker.mapping(data, (), "platforms.yml") or not checker.mapping(data.get("platforms"), ("platforms",), "platforms"):
        return {}, {}
    platforms, aliases = {}, {}
    for pid, guide in data["platforms"].items():
        path = ("platforms", pid)
        if not checker.mapping(guide, path, f"la plateforme {pid}"):
            continue
        if pid != "_default" and not re.match(r"^[a-z0-9_]+$", str(pid)):
            checker.error(path, "un identifiant de plateforme s'écrit en minuscules sans espace (ex. instagram)")
        name = guide.get("name")
        if isinstance(name, dict):
            checker.per_language(name, path + ("name",), "name")
        else:
            checker.text(name, path + ("name",), "name")
        for key in ("report", "block"):
            checker.per_language(guide.get(key), path + (key,), key)
        if guide.get("notes") is not None:
            checker.per_language(guide.get("notes"), path + ("notes",), "notes", allow_empty=True)
        checker.link(guide.get("link"), path + ("link",))
        checker.provenance(guide, path)
        for i, alias in enumerate(guide.get("aliases") or []):
            key = fold(str(alias))
            if not key:
                checker.error(path + ("aliases", i), "alias vide")
            elif key in aliases and aliases[key] != pid:
                checker.error(path + ("aliases", i), f"l'alias « {alias} » est déjà utilisé par {aliases[key]}")
            else:
                aliases[key] = pid
        if pid != "_default":
            aliases.setdefault(fold(str(pid)), pid)
        platforms[pid] = guide
    if "_default" not in platforms:
        checker.error(("platforms",), "il manque _default (les conseils pour une plateforme inconnue)")
    return platforms, aliases


def check_lexicon(data: Any, checker: Checker) -> Optional[Lexicon]:
    if not checker.mapping(data, (), "le lexique"):
        return None
    checker.provenance(data, ())
    before = len(checker.errors)
    sms = data.get("sms") or {}
    if checker.mapping(sms, ("sms",), "sms"):
        for key, value in sms.items():
            if not isinstance(value, str) or not fold(value) or " " in fold(str(key)):
                checker.error(("sms", key), "chaque abréviation SMS est un mot → son développement (ex. jveu: je veux)")

    def patterns(value: Any, path: Tuple[Any, ...]) -> None:
        if not isinstance(value, list) or not value:
            checker.error(path, "une liste de motifs est attendue")
            return
        for i, pattern in enumerate(value):
            try:
                compile_pattern(pattern)
            except PatternError as exc:
                checker.error(path + (i,), f"motif « {pattern} » invalide : {exc}")

    patterns(data.get("idioms"), ("idioms",))
    patterns(data.get("signals"), ("signals",))
    patterns(data.get("check_in"), ("check_in",))
    crisis = data.get("crisis")
    if checker.mapping(crisis, ("crisis",), "crisis"):
        for kind in CRISIS_PRIORITY:
            if kind not in crisis:
                checker.error(("crisis",), f"il manque le type de crise {kind}")
            else:
                patterns(crisis[kind], ("crisis", kind))
        for kind in crisis:
            if kind not in CRISIS_PRIORITY:
                checker.error(("crisis", kind), f"type de crise inconnu (choix : {', '.join(CRISIS_PRIORITY)})")
    if len(checker.errors) > before:
        return None
    return Lexicon.from_dict(data)


def check_settings(data: Any, checker: Checker, helplines: Dict[str, Any]) -> Dict[str, Any]:
    if not checker.mapping(data, (), "settings.yml"):
        return {}
    service = data.get("service")
    if checker.mapping(service, ("service",), "service"):
        checker.per_language(service.get("name"), ("service", "name"), "name")
        default = service.get("default_helpline")
        if default not in helplines:
            checker.error(("service", "default_helpline"), f"« {default} » n'existe pas dans helplines.yml")
    from bot.content_store.hours import check_hours

    data = dict(data)
    data["counsellor_hours"] = check_hours(data.get("counsellors"), checker.error)
    return data


def check_flow_references(flows: Dict[str, Flow], responses: Dict[str, Response], report: Callable[[Flow, int, str], None]) -> None:
    for flow in flows.values():
        for i, step in enumerate(flow.steps):
            if step.response not in responses:
                report(flow, i, f"la réponse {step.response} n'existe dans aucun fichier de content/responses/")
        if flow.urgent and flow.urgent not in responses:
            report(flow, -1, f"la réponse urgent {flow.urgent} n'existe dans aucun fichier de content/responses/")
        for question in flow.questions:
            if f"utter_ask_{question.slot}" not in responses:
                report(flow, -1, f"la question utter_ask_{question.slot} n'existe dans aucun fichier de content/responses/")
