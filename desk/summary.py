"""One sentence that tells a counsellor who is waiting and why, from the case fields."""
from __future__ import annotations

from typing import Any, Dict, List

ROLE = {
    "fr": {"teen": "Adolescent·e", "parent": "Parent", "professional": "Professionnel·le", None: "Personne (rôle non précisé)"},
    "en": {"teen": "Teenager", "parent": "Parent", "professional": "Professional", None: "Person (role unknown)"},
}
FLOW = {
    "fr": {
        "sextortion": "chantage à la vidéo intime",
        "nonconsensual_sharing": "diffusion d'images intimes sans accord",
        "grooming": "mise en confiance par un adulte (grooming)",
        "report_account": "compte à signaler",
        "cyberbullying": "cyberharcèlement",
        "hacked_account": "compte piraté ou usurpé",
    },
    "en": {
        "sextortion": "sextortion (intimate video blackmail)",
        "nonconsensual_sharing": "intimate images shared without consent",
        "grooming": "grooming by an adult",
        "report_account": "account to report",
        "cyberbullying": "cyberbullying",
        "hacked_account": "hacked or impersonated account",
    },
}
RISK = {
    "fr": {"low": "risque faible", "medium": "risque moyen", "high": "risque élevé", "critical": "risque critique"},
    "en": {"low": "low risk", "medium": "medium risk", "high": "high risk", "critical": "critical risk"},
}
# (slot, value) -> phrase; "posted: no" in a sextortion means the threat is still a threat.
ANSWERS = {
    "fr": {
        ("paid", "yes"): "a déjà payé", ("paid", "no"): "n'a pas payé",
        ("posted", "yes"): "images déjà diffusées", ("posted", "no"): "menace de publication",
        ("deadline", "yes"): "ultimatum en cours",
        ("meeting_proposed", "yes"): "rencontre proposée",
        ("school_involved", "yes"): "établissement scolaire concerné",
        ("can_login", "no"): "ne peut plus se connecter",
        ("safe_now", "no"): "pas en sécurité en ce moment",
    },
    "en": {
        ("paid", "yes"): "has already paid", ("paid", "no"): "has not paid",
        ("posted", "yes"): "images already shared", ("posted", "no"): "threatened with publication",
        ("deadline", "yes"): "deadline set",
        ("meeting_proposed", "yes"): "meeting proposed",
        ("school_involved", "yes"): "school involved",
        ("can_login", "no"): "cannot log in any more",
        ("safe_now", "no"): "not safe right now",
    },
}
ORDER = ("safe_now", "paid", "posted", "deadline", "meeting_proposed", "school_involved", "can_login")
PLATFORMS = {"snapchat": "Snapchat", "instagram": "Instagram", "tiktok": "TikTok", "whatsapp": "WhatsApp",
             "discord": "Discord", "facebook": "Facebook", "youtube": "YouTube", "telegram": "Telegram",
             "twitter": "X (Twitter)", "x": "X", "roblox": "Roblox", "fortnite": "Fortnite", "twitch": "Twitch"}


def _who(role: Any, age: Any, lang: str) -> str:
    label = ROLE[lang].get(role, ROLE[lang][None])
    if age is None:
        return label
    if lang == "fr":
        return f"{label} de {age} ans" if role in ("teen", None) else f"{label} (enfant de {age} ans)"
    return f"{label}, {age}" if role in ("teen", None) else f"{label} (child aged {age})"


def summarise(case: Dict[str, Any], lang: str = "fr") -> str:
    lang = lang if lang in ("fr", "en") else "fr"
    parts: List[str] = [_who(case.get("user_role"), case.get("age"), lang)]
    flow = case.get("flow")
    if flow:
        topic = FLOW[lang].get(flow, flow)
        platform = case.get("platform")
        if platform:
            name = PLATFORMS.get(str(platform).lower(), str(platform))
            topic += f" sur {name}" if lang == "fr" else f" on {name}"
        parts.append(topic)
    answers = case.get("answers") or {}
    for slot in ORDER:
        phrase = ANSWERS[lang].get((slot, answers.get(slot)))
        if phrase and not (slot == "posted" and answers.get(slot) == "no" and flow != "sextortion"):
            parts.append(phrase)
    risk = RISK[lang].get(case.get("risk_level") or "low", RISK[lang]["low"])
    why = case.get("risk_reasons") or ([case["crisis_type"]] if case.get("crisis_type") else [])
    if why:
        risk += f" ({', '.join(str(w) for w in why)})"
    parts.append(risk)
    return ", ".join(parts) + "."
