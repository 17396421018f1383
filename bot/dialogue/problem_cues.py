"""What makes a problem that problem, read in the words of a message.

The intent classifier names a problem for every message that sounds like one, and in the
middle of a conversation most such messages are details of the problem already being
discussed: an ex who filmed the video, a blackmailer who also sent a gift card, classmates
who keep making new accounts. So a different problem named mid-flow switches flows only
when the message holds what DEFINES that problem (a threat or a demand for sextortion,
images going around for sharing without consent, an adult or a proposed meeting for
grooming...). And when the first problem message is read as one problem but only holds the
defining words of exactly one other, the words win (the classifier over-reads "video" and
"photos" as sextortion).

The texts given here are normalised (bot/safety/normalize.py): lower case, no accents,
apostrophes as spaces, SMS spelling expanded.
"""
from __future__ import annotations

import re
from typing import Dict, List, Pattern

_IMAGES = (r"(?:photos?|videos?|vids?|nudes?|images?|pics?|pictures?|snaps?|story|stories|sextapes?|intimes?"
           r"|montages?|deepfakes?|clips?|seins|nue?s?|naked|topless)")
_MONEY = (r"(?:\d+ ?(?:e|eur|euros?|balles|dollars?|bucks)\b|\$ ?\d+|euros?|balles|argent|thunes?|fric|sous|paysafe\w*"
          r"|cartes? cadeaux?|gift ?cards?|bitcoins?|crypto|money|cash|virement|paypal|lydia|pcs|transcash|neosurf)")
_THREAT = (r"(?:menac\w*|sinon|threat\w*|unless|or else|si (?:je|j|tu|il|elle|on) (?:ne )?(?:lui )?"
           r"(?:paie|paye|payes|paies|envoie|envoies|donne|donnes|fais|fait) (?:\w+ )?pas"
           r"|if (?:i|you|he|she) (?:don t|do not|doesn t|does not|won t) (?:pay|send|give))")
_DEMAND = r"(?:veut|veulent|voulait|demande\w*|exige\w*|reclame\w*|wants?|wanted|asks? for|asking for|asked for|demand\w*)"

CUES: Dict[str, Pattern[str]] = {
    # A threat or a demand: money, more images, or else.
    "sextortion": re.compile(
        rf"\b(?:chantag\w*|sextor\w*|blackmail\w*|extor\w*|rancon\w*|ransom)\b"
        rf"|\b{_THREAT}\b.{{0,80}}\b(?:{_IMAGES}|{_MONEY}|publi\w*|poste\w*|balanc\w*|envoy\w*|diffus\w*|post|send|share|leak\w*)"
        rf"|\b(?:{_IMAGES}|{_MONEY})\b.{{0,80}}\b{_THREAT}\b"
        rf"|\b{_DEMAND}\b.{{0,40}}\b{_MONEY}"
        rf"|\b(?:j ai|i) (?:deja |already )?(?:paye|paid)\b"
    ),
    # Images already going around, or sexual images made of the person.
    "nonconsensual_sharing": re.compile(
        rf"\b{_IMAGES}\b.{{0,60}}\b(?:tourne\w*|circul\w*|partag\w*|publi\w*|poste\w*|posted|balanc\w*|diffus\w*|leak\w*"
        rf"|shared|sharing|spread\w*|going around|sent (?:it|them) to|envoy\w* a (?:tout|toute|tous)|mis\w* en story|en story)"
        rf"|\b(?:tourne\w*|circul\w*|partag\w*|publi\w*|poste\w*|posted|balanc\w*|diffus\w*|leak\w*|shared|sharing|spread\w*)"
        rf"\b.{{0,40}}\b{_IMAGES}\b"
        r"|\bfisha\b|\bdeep ?fakes?\b|\b(?:montages?|truqu\w*|photoshop\w*|edited|fake) (?:\w+ ){0,3}(?:nue?s?|nudes?|naked|porn\w*|sexu\w*)"
        r"|\bsans (?:son|mon|leur|ton) (?:accord|consentement)\b|\bwithout (?:my|her|his|their|your) (?:consent|permission)\b"
    ),
    # An adult or a stranger getting close to a child: age, secrecy, gifts, a meeting.
    "grooming": re.compile(
        r"\b(?:adultes?|majeure?s?|adults?|grown ?(?:man|men|up|woman)|older (?:man|guy|woman)|old man|vieux|pedo\w*|predat\w*)\b"
        r"|\b(?:1[89]|[2-9]\d) ?(?:ans|an|yo|y o|years? old|yrs?)\b|\b(?:in (?:his|her) (?:20|30|40|50)s)\b|\bsounds? like (?:\d\d|an adult)"
        r"|\b(?:veut|voudrait|propose\w*|wants?|wanted|asked|asks|invite\w*)\b.{0,30}\b(?:voir|voie|voient|rencontrer|rejoindre|rdv|rendez vous"
        r"|meet|hang out|come over|monte\w* dans (?:sa|ca) voiture|get in (?:his|her) car)\b"
        r"|\b(?:garder le secret|notre secret|(?:rien )?dire a (?:personne|tes parents|mes parents|ses parents)"
        r"|keep (?:it|this) (?:a )?secret|our (?:little )?secret|don t tell (?:your|my|her|his) parents)\b"
        r"|\b(?:cadeaux?|robux|v ?bucks|gifts?)\b"
    ),
    # Harassment, insults, mockery, exclusion, hate.
    "cyberbullying": re.compile(
        r"\b(?:insult\w*|harcel\w*|harass\w*|bully\w*|bullied|moqu\w*|mock\w*|make fun|making fun|made fun|humili\w*"
        r"|rumeurs?|rumou?rs?|exclu\w*|vire\w* du groupe|kicked (?:me |her |him )?out|traite\w* de|haine|hate\w*|racis\w*"
        r"|homophob\w*|sexis\w*|grosse|moche|pute|salope|connasse|ugly|slut|whore|loser|sondages?|polls?"
        r"|(?:vont|va|veulent) (?:me |la |le )?(?:taper|frapper|defoncer|tabasser))\b"
    ),
    # An account taken over, or its password or access lost.
    "hacked_account": re.compile(
        r"\b(?:pirat\w*|hack\w*|mot de passe|mdp|passwords?|plus acces|plus d acces|locked out|stolen|took over|a2f|2fa"
        r"|double authentification|code de (?:verification|connexion)"
        r"|(?:peux|peut|peu|arrive|arrives|arrivons|arrivent) (?:plus|pas) a (?:me|m|se|te|le|la) (?:connecter|co|reconnecter)"
        r"|(?:can t|cannot|can not|couldn t|can no longer) (?:log|sign|get) (?:in|into|back)"
        r"|vol\w* (?:mon|son|ma|sa|leur) compte|changed (?:my|the|his|her) (?:email|password))\b"
    ),
    # A fake account, or someone pretending to be the person.
    "report_account": re.compile(
        r"\b(?:faux (?:compte|profil)s?|fake (?:account|profile|page)s?|se (?:fait|faire|font) passer|pretend\w* to be"
        r"|impersonat\w*|usurp\w*|cop\w* (?:mon|son|ma|sa) (?:compte|profil)|(?:compte|account|profile) (?:a|avec|with|in|using) (?:mon|son|ma|my|his|her) nom"
        r"|with my name|signaler (?:un|ce|le|son) compte|report (?:an|this|the|a|his|her) (?:account|profile))\b"
    ),
}


def names(normalised: str, flow: str) -> bool:
    """Does the text hold what defines this problem? (A flow without cues: always.)"""
    cue = CUES.get(flow)
    if cue is None:
        return True
    if flow == "nonconsensual_sharing" and CUES["sextortion"].search(normalised):
        return False  # a threat to publish is blackmail: nothing is out yet
    return bool(cue.search(normalised))


def problems_named(normalised: str) -> List[str]:
    return [flow for flow in CUES if names(normalised, flow)]


def first_flow(classified: str, normalised: str) -> str:
    """The flow a conversation starts with: the classifier's, unless the words name one other problem only."""
    if names(normalised, classified):
        return classified
    others = [flow for flow in problems_named(normalised) if flow != classified]
    return others[0] if len(others) == 1 else classified
