"""The blind conversation set (tests/data/blind/conversations.yml), played against a running
assistant and judged by code.

A conversation passes when:
- the final `flow` slot equals expect.flow (for `hacked_account`, a fake account impersonating
  the person is handled by flow report_account with slot impersonation = "yes": accepted too);
- each `mention` concept is found in the bot's texts (CONCEPTS: one regex per concept, French and
  English, written from the concept's meaning in tests/data/blind/BRIEF_conversations.md);
- an emergency answer (utter_crisis / utter_not_safe) was given iff expect.emergency, and then
  with expect.emergency_number in its text;
- no question asked more than twice in a flow (loop) and no turn without a reply (silent).

    .venv/bin/python -m tests.dialogue.blind_eval --url http://127.0.0.1:5005 --token $RASA_API_TOKEN [--json out.json]

This module only loads the set's structure in code; nothing here was tuned on its sentences.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from tests.dialogue.invariants import has_number
from tests.dialogue.runner import EMERGENCY_ACTIONS, PlayResult, play_all, split_turns  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
BLIND_SET = ROOT / "tests" / "data" / "blind" / "conversations.yml"

_PLATFORMS = (r"(?:plateforme|platform|reseau social|social network|appli|app|site|compte|account|profil|profile|"
              r"post|publication|message|contenu|content|video|photo|instagram|insta|snapchat|snap|tiktok|discord|"
              r"whatsapp|facebook|messenger|youtube|twitter|roblox|twitch|telegram|fortnite|yubo)")

# Concept id -> regex over the bot's text, lower-cased, without accents, "’" as "'", without markdown
# stars and with "·" (inclusive writing) removed.
CONCEPTS: Dict[str, str] = {
    # do not pay the blackmailer
    "dont_pay": r"ne (?:le |la |les |lui |leur )?(?:paie|paye|payez|payes)\b|ne (?:rien|jamais|pas|surtout pas) payer|ne (?:paie|payez) rien"
                r"|n'envoie(?:z)? (?:pas|jamais|aucun) (?:d')?argent|aucun (?:paiement|virement)|pas un (?:centime|euro)"
                r"|don'?t pay|do not pay|never pay|not pay (?:them|him|her|anything)|refuse to pay|no money",
    # stop replying / cut contact with the blackmailer or the stranger
    "stop_replying": r"arrete[sz]? (?:de (?:lui |leur )?repondre|tout (?:contact|echange)|de (?:lui |leur )?parler|la conversation)"
                     r"|ne (?:lui |leur )?(?:reponds|repondez|ecris|ecrivez) (?:plus|pas|rien)|ne (?:plus|pas|jamais) (?:lui |leur )?repondre"
                     r"|(?:plus|aucune) (?:aucune )?reponse|no (?:more )?(?:replies|reply|answers?)\b"
                     r"|cesse[rz]? (?:de (?:lui |leur )?repondre|tout contact|le contact|les echanges)|coupe[rz]? (?:le|tout) contact"
                     r"|ne (?:discute|discutez|negocie|negociez) (?:pas|plus)|stop (?:replying|responding|answering|talking|all contact|contact)"
                     r"|(?:don'?t|do not|never) (?:reply|respond|answer|engage|negotiate)|cut (?:off )?(?:all )?contact|no longer (?:reply|respond)",
    # keep evidence (screenshots, usernames, links, dates)
    "keep_evidence": r"capture(?:s|z|r)? (?:d'ecran|des|du|de)|screenshot|preuve|evidence|garde[rz]? (?:une |des )?traces?"
                     r"|conserve[rz]? (?:les|des|tout|une trace)|keep (?:a )?(?:record|proof|copies|track|everything)"
                     r"|note[rz]? (?:le|les|son|ses|l') ?(?:pseudo|lien|date|url|adresse)|write down|save (?:the|all|every)",
    # report it on the platform
    "report_platform": rf"(?:\bsignal\w*|\breport\w*)[^.\n]{{0,60}}\b{_PLATFORMS}|\b{_PLATFORMS}\b[^.\n]{{0,40}}(?:\bsignal\w*|\breport\w*)",
    # block the person
    "block": r"\bbloque[rz]?\b|\bbloquez\b|\bblocage\b|\bblock(?:ing|ed)?\b",
    # do not delete the conversation / the account / the evidence
    "dont_delete": r"ne (?:supprime|supprimez|efface|effacez|detruis|detruisez)s? (?:pas|rien|jamais|ni)|ne rien (?:supprimer|effacer)"
                   r"|sans (?:rien )?(?:supprimer|effacer)|pas (?:encore )?(?:supprimer|effacer)"
                   r"|(?:don'?t|do not|never) (?:delete|erase|wipe)|without deleting|before deleting anything",
    # tell a trusted adult
    "trusted_adult": r"adulte (?:de confiance|en qui tu as confiance|proche)|personne de confiance|trusted (?:adult|grown-?up|person)"
                     r"|adult (?:you|they|he|she) trusts?|(?:parle|parles|parlez|dis-le|dites-le|raconte|en parler|previens)[^.\n]{0,40}"
                     r"\b(?:parents?|adulte|prof\w*|cpe|infirmi\w*|proche)\b|(?:tell|talk to)[^.\n]{0,30}\b(?:parents?|adult|teacher|someone you trust)\b",
    # it is not your fault
    "not_your_fault": r"(?:pas|en rien|nullement) (?:de )?(?:ta|votre|sa|leur) faute|not (?:your|their|his|her) fault"
                      r"|rien a (?:te|vous|se) reprocher|(?:pas|aucune raison) (?:a |d')avoir honte|nothing to be ashamed"
                      r"|(?:did|done) nothing wrong|n'(?:as|avez|a) rien fait de mal|(?:you are|you're|they are|they're) not to blame",
    # file a complaint (police, gendarmerie)
    "complaint": r"plainte|gendarmerie|commissariat|complaint|police report|report (?:it )?to the police|go to the police",
    # report to Pharos
    "pharos": r"pharos|internet-signalement",
    # Take It Down (under 18)
    "take_it_down": r"take ?it ?down",
    # StopNCII (18 and over)
    "stopncii": r"stop ?ncii",
    # call or chat with the 3018
    "helpline_3018": r"(?<!\d)30 ?18(?!\d)",
    # secure the account (password, two-factor, sessions)
    "secure_account": r"mot de passe|password|double (?:authentification|facteur)|authentification a deux|deux facteurs|two[- ]factor"
                      r"|\b2fa\b|\ba2f\b|deconnect\w* (?:les|tous|toutes|des) (?:autres )?(?:appareils|sessions)"
                      r"|log (?:out|off) (?:of )?(?:all|other|every)|securise[rz]? (?:ton|votre|le|son|ses|tes|vos) comptes?"
                      r"|secure (?:your|the|their|his|her) accounts?|recuper\w* (?:ton|votre|le|son) compte|recover (?:your|the|their|his|her) account",
}
COMPILED = {name: re.compile(rx) for name, rx in CONCEPTS.items()}


def normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u00a0", " ").replace("*", "").replace("\u00b7", "")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return text.lower()


def concept_found(concept: str, bot_text: str) -> bool:
    return COMPILED[concept].search(normalise(bot_text)) is not None


@dataclass
class Verdict:
    id: str
    language: str
    role: str
    expected_flow: str
    flow: Optional[str]
    flow_ok: bool
    missing: List[str]
    emergency_expected: bool
    emergency_given: bool
    emergency_ok: bool
    loops: List[str]
    silent_turns: List[int]
    errors: List[str] = field(default_factory=list)
    safety_answers: int = 0  # turns answered by the REST guard's safety message (timeouts under load)

    @property
    def passed(self) -> bool:
        return self.flow_ok and not self.missing and self.emergency_ok and not self.loops and not self.silent_turns and not self.errors

    @property
    def false_emergency(self) -> bool:
        return self.emergency_given and not self.emergency_expected


def load_set(path: Path = BLIND_SET) -> List[Dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]


def _yes(value: Any) -> bool:
    return value is True or str(value).lower() in ("yes", "true", "oui")


def judge(case: Dict[str, Any], result: PlayResult) -> Verdict:
    from tests.dialogue.invariants import QUESTION, flow_segments

    expect = case.get("expect") or {}
    slots = result.final_slots
    flow = slots.get("flow")
    expected_flow = expect.get("flow")
    flow_ok = flow == expected_flow or (
        expected_flow == "hacked_account" and flow == "report_account" and slots.get("impersonation") == "yes")

    bot_text = "\n".join(m.text for t in result.turns for m in t.messages) or "\n".join(t.text() for t in result.turns)
    missing = [c for c in (expect.get("mention") or []) if c not in COMPILED or not concept_found(c, bot_text)]

    emergency_msgs = [m for t in result.turns for m in t.emergency_messages()]
    emergency_expected = _yes(expect.get("emergency"))
    emergency_given = bool(emergency_msgs)
    emergency_ok = emergency_expected == emergency_given
    if emergency_ok and emergency_expected and expect.get("emergency_number"):
        number = str(expect["emergency_number"])
        emergency_ok = any(has_number(m.text, number) for m in emergency_msgs)

    loops = []
    for seg_flow, turns in flow_segments(result):
        counts: Dict[str, int] = {}
        for t in turns:
            seen = set()
            for m in t.messages:
                match = QUESTION.match(m.name)
                if match and (m.run, m.name) not in seen:
                    seen.add((m.run, m.name))
                    counts[match.group(1)] = counts.get(match.group(1), 0) + 1
        loops += [f"{slot}x{n}" for slot, n in counts.items() if n > 2]
    silent = [t.index for t in result.turns
              if (t.error or not t.replies) and t.slots.get("handoff_status") != "active"]
    errors = [t.error for t in result.turns if t.error] + ([result.error] if result.error else [])
    return Verdict(case.get("id", "?"), case.get("language", "?"), case.get("role", "?"), expected_flow, flow, flow_ok,
                   missing, emergency_expected, emergency_given, emergency_ok, loops, silent, errors,
                   sum(t.safety_answer for t in result.turns))


def evaluate(url: str, token: str, cases: Optional[List[Dict[str, Any]]] = None, workers: int = 8) -> List[Verdict]:
    cases = load_set() if cases is None else cases
    results = play_all(url.rstrip("/"), token, [[str(t) for t in c["turns"]] for c in cases], workers=workers, prefix="blind")
    return [judge(case, result) for case, result in zip(cases, results)]


def summary(verdicts: Sequence[Verdict]) -> Dict[str, Any]:
    n = len(verdicts) or 1
    return {
        "conversations": len(verdicts),
        "passed": sum(v.passed for v in verdicts),
        "pass_rate": sum(v.passed for v in verdicts) / n,
        "flow_ok": sum(v.flow_ok for v in verdicts),
        "mentions_ok": sum(not v.missing for v in verdicts),
        "emergency_ok": sum(v.emergency_ok for v in verdicts),
        "loops": sum(len(v.loops) for v in verdicts),
        "conversations_with_loops": sum(bool(v.loops) for v in verdicts),
        "silent_turns": sum(len(v.silent_turns) for v in verdicts),
        "false_emergencies": sum(v.false_emergency for v in verdicts),
        "missed_emergencies": sum(v.emergency_expected and not v.emergency_given for v in verdicts),
        "safety_answers": sum(v.safety_answers for v in verdicts),
    }


def table(verdicts: Sequence[Verdict]) -> str:
    rows = [f"{'id':<34} {'ok':<4} {'flow (expected)':<40} {'missing mentions':<34} {'emerg':<7} {'loops':<18} silent"]
    for v in verdicts:
        flow = f"{v.flow or '-'}" + ("" if v.flow_ok else f" ({v.expected_flow})")
        emerg = ("ok" if v.emergency_ok else "WRONG") + ("!" if v.emergency_given else "")
        rows.append(f"{v.id:<34} {'PASS' if v.passed else 'fail':<4} {flow:<40} {','.join(v.missing) or '-':<34} "
                    f"{emerg:<7} {','.join(v.loops) or '-':<18} {','.join(map(str, v.silent_turns)) or '-'}")
    s = summary(verdicts)
    rows.append("")
    rows.append(f"pass rate {s['passed']}/{s['conversations']} = {s['pass_rate']:.3f}; flow ok {s['flow_ok']}, "
                f"mentions ok {s['mentions_ok']}, emergency ok {s['emergency_ok']}; loops {s['loops']} "
                f"(in {s['conversations_with_loops']} conversations), silent turns {s['silent_turns']}, "
                f"false emergencies {s['false_emergencies']}, missed emergencies {s['missed_emergencies']}; "
                f"{s['safety_answers']} turns got the guard's safety message")
    return "\n".join(rows)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--json", help="write the verdicts and the summary there")
    parser.add_argument("--set", type=Path, default=BLIND_SET, help="which blind set (default: the first)")
    parser.add_argument("--summary-only", action="store_true",
                        help="print the totals only, not a line per conversation (keeps a held-back set unread)")
    args = parser.parse_args(list(argv) or None)
    verdicts = evaluate(args.url, args.token, cases=load_set(args.set), workers=args.workers)
    report = table(verdicts)
    print(report.splitlines()[-1] if args.summary_only else report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"summary": summary(verdicts), "verdicts": [dict(v.__dict__, passed=v.passed) for v in verdicts]},
                      out, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
