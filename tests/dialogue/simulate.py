"""Generate a seeded batch of conversations, play it against a running assistant, check the
invariants, print the violation counts.

    .venv/bin/python -m tests.dialogue.simulate --url http://127.0.0.1:5005 --token $RASA_API_TOKEN \
        [--seed 1234] [--count 300] [--workers 8] [--show 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Dict, List, Sequence, Tuple

from tests.dialogue.generator import Conversation, generate
from tests.dialogue.invariants import INVARIANTS, Pair, Violation, report
from tests.dialogue.runner import play_all

DEFAULT_SEED = 20261129
DEFAULT_COUNT = 300


def seed_from_env() -> int:
    return int(os.environ.get("DIALOGUE_SEED", DEFAULT_SEED))


def run_batch(url: str, token: str, seed: int, count: int = DEFAULT_COUNT, workers: int = 8) -> List[Pair]:
    conversations = generate(seed, count)
    results = play_all(url, token, [c.texts for c in conversations], workers=workers, prefix=f"sim{seed}")
    return list(zip(conversations, results))


def check_all(pairs: Sequence[Pair]) -> Dict[str, List[Violation]]:
    return {name: check(pairs) for name, check in INVARIANTS.items()}


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seed", type=int, default=seed_from_env())
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--show", type=int, default=2, help="violations shown per invariant")
    parser.add_argument("--json", help="write every violation there")
    args = parser.parse_args(list(argv) or None)

    started = time.monotonic()
    pairs = run_batch(args.url.rstrip("/"), args.token, args.seed, args.count, args.workers)
    played = time.monotonic() - started
    found = check_all(pairs)
    turns = sum(len(c.turns) for c, _ in pairs)
    print(f"seed {args.seed}: {len(pairs)} conversations, {turns} user turns, "
          f"{sum(1 for c, _ in pairs if c.crisis_turns)} with a crisis turn, played in {played:.0f} s; "
          f"{sum(t.safety_answer for _, r in pairs for t in r.turns)} turns got the guard's safety message")
    print(f"{'invariant':<22} {'violations':>10} {'conversations':>14}")
    for name, violations in found.items():
        print(f"{name:<22} {len(violations):>10} {len({v.conversation for v in violations}):>14}")
    if args.show:
        for name, violations in found.items():
            if violations:
                print(f"\n== {name}\n" + report(violations, pairs, limit=args.show))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({name: [v.__dict__ for v in vs] for name, vs in found.items()}, out, ensure_ascii=False, indent=1)
    return 0 if not any(found.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
