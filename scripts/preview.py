"""`make preview FLOW=sextortion LANGUE=fr`: a flow as the user would see it, with its branches.

Reads the content (content/, or CONTENT_DIR): the flow's definition in content/flows/
(`urgent`, `questions` with their `when`, `steps`), and the rules of bot/data/rules (which
message starts the flow), and renders every message with the assistant's own renderer
(bot.content_store.render), for a teenager and for a parent. No model, no services.

The shape shown is the one the assistant follows (bot/dialogue/planner.py): the urgent
answer at once, then one question per turn, the advice (at most 3 messages), then the
offer of a person when the risk is high, or "anything else?".

    python scripts/preview.py sextortion --langue en
    python scripts/preview.py sextortion --public pro --plateforme instagram
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.content_store.model import Snapshot, Variant  # noqa: E402
from bot.content_store.render import render  # noqa: E402
from bot.content_store.store import ContentLoadFailed, default_content_dir, load_snapshot  # noqa: E402

AUDIENCES = {
    "ado": ("un·e ado (tutoiement)", "teen"),
    "parent": ("un parent (vouvoiement)", "parent"),
    "pro": ("un·e professionnel·le (vouvoiement)", "professional"),
}
YES_NO = {
    "paid": ("la personne a déjà payé", "la personne n'a pas payé", "on ne sait pas si la personne a payé"),
    "posted": ("les images ont déjà été publiées", "les images n'ont pas été publiées", "on ne sait pas si les images ont été publiées"),
    "deadline": ("le maître-chanteur a donné un délai", "il n'y a pas de délai", "on ne sait pas s'il y a un délai"),
    "meeting_proposed": ("un rendez-vous a été proposé", "aucun rendez-vous n'a été proposé", "on ne sait pas si un rendez-vous a été proposé"),
    "school_involved": ("l'établissement scolaire est concerné", "l'établissement n'est pas concerné", "on ne sait pas si l'établissement est concerné"),
    "can_login": ("la personne peut encore se connecter", "la personne ne peut plus se connecter", "on ne sait pas si la personne peut se connecter"),
    "impersonation": ("quelqu'un se fait passer pour la personne", "personne ne se fait passer pour elle", "usurpation inconnue"),
    "hate_motivated": ("c'est de la haine (racisme, homophobie, sexisme…)", "ce n'est pas lié à la haine", "on ne sait pas si c'est de la haine"),
    "safe_now": ("la personne est en sécurité", "la personne n'est pas en sécurité", "la personne n'a pas dit si elle est en sécurité"),
    "safe_at_home": ("la personne est en sécurité chez elle", "la personne n'est pas en sécurité chez elle", "on ne sait pas si elle est en sécurité chez elle"),
}
ROLES = {"teen": "c'est un·e ado", "parent": "c'est un parent", "professional": "c'est un·e professionnel·le"}


def content_dir() -> Path:
    return Path(os.environ.get("CONTENT_DIR") or default_content_dir())


def condition_label(when: Dict[str, Any], snapshot: Snapshot) -> str:
    parts = []
    for key, expected in when.items():
        options = expected if isinstance(expected, list) else [expected]
        if key == "age_below":
            parts.append(f"la personne a moins de {expected} ans (ou l'âge n'est pas connu)")
        elif key == "age_at_least":
            parts.append(f"la personne a {expected} ans ou plus (ou l'âge n'est pas connu)")
        elif key in YES_NO:
            labels = {"yes": YES_NO[key][0], "no": YES_NO[key][1], "unknown": YES_NO[key][2]}
            parts.append(" ou ".join(labels.get(str(o), f"{key} = {o}") for o in options))
        elif key == "user_role":
            parts.append(" ou ".join(ROLES.get(str(o), str(o)) for o in options))
        elif key == "platform":
            names = []
            for o in options:
                name = (snapshot.platforms.get(str(o)) or {}).get("name", o)
                names.append(name.get("fr") if isinstance(name, dict) else str(name))
            parts.append("la plateforme est " + " ou ".join(names))
        elif key == "crisis_type":
            parts.append("type de crise : " + " ou ".join(map(str, options)))
        else:
            parts.append(f"{key} = " + " ou ".join(map(str, options)))
    return "Si " + " et ".join(parts)


def slots_for(when: Dict[str, Any]) -> Dict[str, Any]:
    slots: Dict[str, Any] = {}
    for key, expected in when.items():
        if key == "age_below":
            slots["age"] = float(expected) - 3
        elif key == "age_at_least":
            slots["age"] = float(expected) + 2
        else:
            slots[key] = expected[0] if isinstance(expected, list) else expected
    return slots


def render_variant(snapshot: Snapshot, name: str, variant: Variant, slots: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The real renderer, on this one variant (so that each branch can be shown)."""
    response = snapshot.responses[name]
    only = dataclasses.replace(response, variants=[dataclasses.replace(variant, when={})])
    return render(dataclasses.replace(snapshot, responses={**snapshot.responses, name: only}), name, slots)


def indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines())


def message_lines(message: Optional[Dict[str, Any]], prefix: str) -> List[str]:
    if not message:
        return [prefix + "(aucun texte)"]
    out = [indent(message["text"], prefix)]
    if message.get("buttons"):
        out.append(prefix + "Boutons : " + "  ".join(f"[{b['title']}]" for b in message["buttons"]))
    return out


def show_response(snapshot: Snapshot, name: str, base: Dict[str, Any], who: str, out: List[str], label: str = "") -> None:
    """Every variant that can reach this audience: branches labelled, the default last."""
    response = snapshot.responses.get(name)
    if response is None:
        out.append(f"{who} : (réponse {name} introuvable dans content/responses/)")
        return
    reachable = []
    for variant in response.variants:
        role = variant.when.get("user_role")
        if role is not None and base.get("user_role") not in (role if isinstance(role, list) else [role]):
            continue  # written for another audience
        reachable.append(variant)
    head = f"{who}{label} — {name}"
    branches = [v for v in reachable if {k for k in v.when if k != "user_role"}]
    if not branches:
        variant = reachable[0] if reachable else response.variants[-1]  # the first that matches, as the assistant picks it
        out.append(head + " :")
        out += message_lines(render_variant(snapshot, name, variant, {**base, **slots_for(variant.when)}), "    ")
        return
    out.append(head + " (selon la situation) :")
    for variant in reachable:
        conditions = {k: v for k, v in variant.when.items() if k != "user_role"}
        title = condition_label(conditions, snapshot) if conditions else "Sinon"
        out.append(f"  {title} :")
        out += message_lines(render_variant(snapshot, name, variant, {**base, **slots_for(variant.when)}), "      ")


def flow_intent(urgent: Optional[str], rules_dir: Path) -> Optional[str]:
    """The intent whose rule answers with the flow's urgent response (its first intent if several)."""
    for path in sorted(rules_dir.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in data.get("rules") or []:
            steps = rule.get("steps") or []
            if len(steps) < 2 or steps[1].get("action") != urgent:
                continue
            first = steps[0]
            if first.get("intent"):
                return first["intent"]
            options = [o.get("intent") for o in first.get("or") or [] if o.get("intent")]
            if options:
                return options[0]
    return None


def flow_structure(flow: str, snapshot: Snapshot, rules_dir: Path) -> Tuple[Optional[str], str, List[Tuple[str, Dict[str, Any]]]]:
    """(intent, urgent response, [(question slot, its `when`)...] in the order asked), from content/flows/."""
    definition = snapshot.flows[flow]
    questions = [(q.slot, dict(q.when or {})) for q in definition.questions]
    return flow_intent(definition.urgent, rules_dir), definition.urgent, questions


def first_example(data_dir: Path, intent: Optional[str], language: str) -> Optional[str]:
    for path in sorted((data_dir / "nlu").rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if block.get("intent") != intent:
                continue
            examples = [re.sub(r"^\s*-\s*", "", line) for line in str(block.get("examples", "")).splitlines() if line.strip()]
            english = [e for e in examples if re.search(r"\b(i|my|me|someone|he|she)\b", e, re.I) and not re.search(r"[éèàç]|\b(je|mon|ma|il|elle)\b", e)]
            pool = english if language == "en" and english else examples
            if pool:
                return pool[0]
    return None


# What the assistant does after some answers (bot/dialogue/planner.py, the crisis net).
AFTER_ANSWER = {
    "wellbeing": [("Si la personne ne va pas bien (« bof », « pas trop », « jsp »…)", "utter_wellbeing_support",
                   {"wellbeing": "low"}, "")],
    "safe_now": [
        ("Si la réponse est « oui »", "utter_glad_safe", {"safe_now": "yes"}, ""),
        ("Si la réponse est un « non » tout court (pas en sécurité)", "utter_not_safe", {"safe_now": "no"},
         " (la réponse d'urgence ; puis un·e écoutant·e est demandé·e)"),
    ],
}


def show_reaction(snapshot: Snapshot, name: str, slots: Dict[str, Any], out: List[str], note: str) -> None:
    """The one variant the assistant sends after this answer (rendered with the answer's slots)."""
    if name not in snapshot.responses:
        out.append(f"    Assistant : (réponse {name} introuvable dans content/responses/)")
        return
    out.append(f"    Assistant{note} — {name} :")
    out += message_lines(render(snapshot, name, slots), "      ")


def preview(flow: str, language: str = "fr", audiences: Tuple[str, ...] = ("ado", "parent"), platform: Optional[str] = None,
            content: Optional[Path] = None, data_dir: Optional[Path] = None, domain_file: Optional[Path] = None) -> str:
    snapshot = load_snapshot(content or content_dir())
    data_dir = data_dir or ROOT / "bot" / "data"
    if flow not in snapshot.flows:
        raise KeyError(flow)
    intent, urgent, questions = flow_structure(flow, snapshot, data_dir / "rules")
    example = first_example(data_dir, intent, language)
    out = [f"=== Parcours {flow} — aperçu en {'français' if language == 'fr' else 'anglais'} ===",
           "Chaque message est rendu comme l'assistant l'envoie. « Si … » marque une branche : "
           "une seule est envoyée, selon la situation.", ""]
    for key in audiences:
        title, role = AUDIENCES[key]
        base: Dict[str, Any] = {"language": language, "user_role": role, "flow": flow, "platform": platform}
        out += [f"--- Pour {title} ---", ""]
        out.append(f"Personne : « {example} »" if example else f"Personne : (décrit le problème : intention {intent})")
        out.append("")
        show_response(snapshot, "utter_intro", base, "Assistant", out, " (premier message de la conversation)")
        out.append("")
        if urgent:
            show_response(snapshot, urgent, base, "Assistant", out, " (tout de suite : les premières choses à faire)")
            out.append("")
        if questions:
            out += [
                "Ensuite, une question par message, dans cet ordre, seulement si la réponse n'est pas encore connue",
                "(un message peut répondre à plusieurs questions, dans n'importe quel ordre). Une question pas comprise",
                "est reformulée une fois, avec des boutons, puis l'assistant passe à la suite.",
                "« Je fais quoi ? » donne les conseils tout de suite ; les questions restantes viennent après.",
                "",
            ]
        for number, (slot, when) in enumerate(questions, 1):
            only = f", seulement {condition_label(when, snapshot)[0].lower()}{condition_label(when, snapshot)[1:]}" if when else ""
            show_response(snapshot, f"utter_ask_{slot}", {**base, **slots_for(when)}, "Assistant", out,
                          f" (question {number}/{len(questions)}{only})")
            out.append("Personne : (répond, ou passe la question)")
            for condition, response, answer, note in AFTER_ANSWER.get(slot, []):
                out.append(f"  {condition} :")
                show_reaction(snapshot, response, {**base, **slots_for(when), **answer}, out, note)
            out.append("")
        out += ["Assistant — les conseils, en 3 messages au plus, dès que les questions sont finies (ou demandés) ;",
                "les étapes, dans l'ordre de content/flows/, chacune seulement dans sa situation :"]
        for number, step in enumerate(snapshot.flows[flow].steps, 1):
            label = f" (étape {number})"
            if step.when:
                out.append(f"  {condition_label(step.when, snapshot)} :")
            show_response(snapshot, step.response, {**base, **slots_for(step.when)}, "  Assistant", out, label)
        out.append("")
        show_response(snapshot, "utter_offer_human", base, "Assistant", out,
                      " (après les conseils, seulement si le risque évalué est élevé ; « ok » ouvre une demande pour un·e écoutant·e)")
        out.append("")
        out.append("Sinon, la question suivante encore ouverte, ou pour finir :")
        show_response(snapshot, "utter_anything_else", base, "Assistant", out, " (pour finir)")
        out.append("")
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Aperçu d'un parcours, comme la personne le verrait.")
    parser.add_argument("flow", nargs="?", help="le parcours (ex. sextortion)")
    parser.add_argument("--langue", default="fr", choices=("fr", "en"))
    parser.add_argument("--public", choices=tuple(AUDIENCES), action="append", help="ado, parent ou pro (par défaut : ado et parent)")
    parser.add_argument("--plateforme", default=None, help="montrer le guide d'une plateforme (ex. instagram)")
    args = parser.parse_args(argv)
    try:
        snapshot = load_snapshot(content_dir())
    except ContentLoadFailed as exc:
        print("Le contenu a des erreurs, corrigez-les d'abord (make check) :\n" + str(exc))
        return 1
    if not args.flow or args.flow not in snapshot.flows:
        if args.flow:
            print(f"Parcours inconnu : « {args.flow} ».")
        print("Parcours disponibles : " + ", ".join(sorted(snapshot.flows)))
        print("Exemple : make preview FLOW=sextortion LANGUE=fr")
        return 2
    if args.plateforme and args.plateforme not in snapshot.platforms:
        print(f"Plateforme inconnue : « {args.plateforme} ». Choix : " + ", ".join(sorted(p for p in snapshot.platforms if p != "_default")))
        return 2
    print(preview(args.flow, args.langue, tuple(args.public or ("ado", "parent")), args.plateforme))
    return 0


if __name__ == "__main__":
    sys.exit(main())
