"""Evaluate the trained NLU on the held-out sets (used by the tests and by hand:
`python tests/model/nlu_eval.py MODEL` prints every miss)."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
NUMBERS = {"suicide": "3114", "self_harm": "3114", "friend": "3114", "overdose": "15", "danger": "17",
           "abuse": "119", "silent": "114", "unknown": "3114"}


def crisis_cases() -> Dict[str, List[Dict[str, Any]]]:
    return yaml.safe_load((DATA / "crisis_cases.yml").read_text(encoding="utf-8"))


HELDOUT_FILES = ("nlu_heldout.yml", "nlu_heldout_extra.yml")


def heldout() -> List[Tuple[str, str]]:
    blocks = []
    for name in HELDOUT_FILES:
        blocks += yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["nlu"]
    out = []
    for block in blocks:
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append((line[2:].strip(), block["intent"]))
    return out


def parse_all(agent: Any, texts: List[str]) -> List[Dict[str, Any]]:
    async def run() -> List[Dict[str, Any]]:
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(run())


def crisis_type(parse: Dict[str, Any]) -> str:
    return next((e["value"] for e in parse.get("entities", []) if e["entity"] == "crisis_type"), "")


if __name__ == "__main__":
    from rasa.core.agent import Agent

    agent = Agent.load(sys.argv[1])
    cases = crisis_cases()
    parses = parse_all(agent, [c["text"] for c in cases["crisis"]])
    for c, p in zip(cases["crisis"], parses):
        if p["intent"]["name"] != "crisis":
            print("MISSED   ", c["type"], "|", c["text"], "->", p["intent"])
        elif NUMBERS[crisis_type(p)] != NUMBERS[c["type"]]:
            print("NUMBER   ", c["type"], crisis_type(p), "|", c["text"])
    for c, p in zip(cases["negatives"], parse_all(agent, [c["text"] for c in cases["negatives"]])):
        if p["intent"]["name"] in ("crisis", "crisis_check"):
            print("ALARM    ", p["intent"]["name"], "|", c["text"])
    for c, p in zip(cases["check_in"], parse_all(agent, [c["text"] for c in cases["check_in"]])):
        if p["intent"]["name"] not in ("crisis_check", "crisis"):
            print("NO CHECK ", "|", c["text"], "->", p["intent"]["name"])
    examples = heldout()
    parses = parse_all(agent, [t for t, _ in examples])
    good = 0
    for (text, intent), p in zip(examples, parses):
        if p["intent"]["name"] == intent:
            good += 1
        else:
            print("INTENT   ", intent, "->", p["intent"]["name"], "|", text)
    print(f"held-out accuracy {good}/{len(examples)} = {good / len(examples):.3f}")
