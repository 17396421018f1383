"""Facts the assistant can read from a message without asking: who is writing,
how old, on which platform, in which language, already paid, already posted, a
deadline, a meeting proposed, still able to log in, a fake account, the school.

Deterministic rules over normalised text (see normalize.py), so that they behave
the same on words no training example contained. Kept free of Rasa imports.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from bot.safety.normalize import fold, normalize

# --- who is writing ---------------------------------------------------------------
_CHILD = r"(?:fils|fille|enfant|enfants|ado|gamin|gamine|garcon|petit|petite|bebe|fiston)"
# "mon petit copain", "ma petite soeur": a teen's boyfriend or sibling, not a parent's child.
_NOT_A_CHILD_AFTER = r"(?! (?:copain|copine|ami|amie|frere|soeur|cousin|cousine|pote|neveu|niece)\b)"
PARENT_CUES = [
    rf"\b(?:mon|ma|mes|notre|nos) (?:\w+ )?{_CHILD}\b{_NOT_A_CHILD_AFTER}",
    r"\bje suis (?:sa|son|la|le) (?:mere|pere|maman|papa|parent|tante|oncle|grand mere|grand pere)\b",
    r"\ben tant que (?:parent|mere|pere|maman|papa)\b",
    r"\bmy (?:\d+ (?:year old |yo )?)?(?:son|daughter|child|kid|kids|children|teen|teenager|stepson|stepdaughter|sons|daughters|childs|stepsons|stepdaughters)\b",
    r"\bmy (?:\d{1,2}|\w+) (?:year old|yo|y o)\b",  # "my 12 year old is being blackmailed"
    r"\bi m (?:a|his|her|their) (?:parent|mother|father|mom|mum|dad|guardian)\b",
    r"\bas a (?:parent|mother|father|mom|mum|dad)\b",
]
PROFESSIONAL_CUES = [
    r"\b(?:mon|ma|mes|un de mes|une de mes|nos) (?:\w+ )?eleves?\b",
    r"\bje suis (?:un |une )?(?:prof|professeur|professeure|enseignant|enseignante|cpe|infirmiere|infirmier|educateur|educatrice|"
    r"assistante? sociale?|directeur|directrice|principal|principale|animateur|animatrice|psychologue scolaire|surveillant|surveillante)\b",
    # Teens say "dans ma classe", "in my school" too; only a staff member says these.
    r"\bdans (?:mon|notre) etablissement\b",
    r"\b(?:un|une|des|deux|trois|plusieurs) eleves? de (?:ma|mon|notre) (?:classe|college|lycee|etablissement|ecole)\b",
    r"\bmy (?:students?|pupils?)\b",
    r"\bi m (?:a |an )?(?:teacher|school nurse|counsellor|counselor|social worker|youth worker|headteacher|principal|educator)\b",
    r"\b(?:a|one|some|two|several) (?:of my )?(?:students?|pupils?) (?:in|at|from) my (?:class|school)\b",
    # A professional introducing themselves: "animateur jeunesse ici", "teacher here", "je travaille en foyer".
    r"\b(?:prof|professeur|professeure|enseignante?|cpe|infirmiere?|educat(?:eur|rice)|animat(?:eur|rice)(?: jeunesse)?|"
    r"assistante? sociale?|surveillante?|teacher|school nurse|social worker|youth worker|educator) (?:ici|here)\b",
    r"\b(?:un|une) (?:jeune|ado|adolescente?|enfant|gamine?) (?:que j accompagne|dont je m occupe|de mon groupe|du foyer)\b",
]
TEEN_CUES = [
    r"\bj ?ai (?:1[0-7]|[89]) (?:ans?|piges?)\b",
    r"\bj ?ai (?:1[0-7]|[89])$",  # "jai 14" as the whole message
    r"\bje suis (?:un |une )?(?:\w+ )?de (?:1[0-7]|[89]) ans\b",
    r"\bi ?m (?:1[0-7]|[89])(?: years old| yo| y o)?\b",
    r"\bi am (?:1[0-7]|[89])(?: years old)?\b",
    r"\bje suis (?:en|au) (?:\d+e|\d+ e|\d+eme|\d+ eme|sixieme|cinquieme|quatrieme|troisieme|seconde|premiere|terminale|college|lycee)\b",
]
# Someone telling their OWN story as the target ("il me menace", "my account got hacked"):
# without a parent or professional cue, that is the young person the helpline is for
# (an adult victim is rare here, and unknown is treated as a teen anyway).
_HARM_VERBS_FR = (
    r"(?:menac\w*|harcel\w*|fait chanter|font chanter|fait du chantage|font du chantage|insult\w*|pirat\w*|hack\w*|"
    r"rackett?\w*|humili\w*|affich\w*|balanc(?:e|ee|ent)\b|suit partout|traqu\w*|demand\w* (?:des|mes|une|de|d) (?:photos?|nudes?|videos?|pics?|argent))"
)
_MY_IMAGES_FR = r"(?:mes|ma|mon) (?:nudes?|photos?|videos?|pics?|snaps?|sextape|photos intimes|video intime|compte|insta|snap|mot de passe|mdp)"
_MY_IMAGES_EN = r"my (?:nudes?|pics?|photos?|pictures?|videos?|video|account|insta|snap|snapchat|password|private pics)"
TEEN_OWN_SITUATION_CUES = [
    rf"\b(?:me|m) (?:a |ont |avait |a ete |a fait |ont fait |est |sont )?{_HARM_VERBS_FR}",  # "il me menace", "on m'a piraté", "elle me fait chanter"
    r"\b(?:se moqu\w*|rumeurs?|ragots?|balance\w*|parl\w* mal) (?:de|sur) moi\b",  # "au collège on se moque de moi"
    rf"\bje (?:me )?(?:suis|fais|fait) (?:fait |faite |\w+ )?(?:harcel\w*|menac\w*|pirat\w*|hack\w*|insult\w*|avoir|chanter|racketter)\b",
    rf"\b(?:a|ont|avait|poss\w+|garde|gardé) {_MY_IMAGES_FR}\b",  # "il a mes nudes"
    rf"\b{_MY_IMAGES_FR} (?:tourne\w*|circul\w*|est partout|sont partout|a ete pirate|ont ete|a ete)",
    r"\b(?:blackmail\w*|threaten\w*|harass\w*|bull(?:y|ies|ying|ied)|extort\w*|stalk\w*|hack\w*|sextort\w*) me\b",
    r"\bi (?:m|am|was|ve been|have been|got|get) (?:being )?(?:blackmailed|threatened|harassed|bullied|hacked|extorted|stalked|sextorted)\b",
    rf"\b(?:has|have|got|took|posted|shared|leaked|stole) {_MY_IMAGES_EN}\b",
    rf"\b{_MY_IMAGES_EN} (?:got|was|were|has been|have been|is|are|been) (?:\w+ )?(?:hacked|stolen|leaked|posted|shared|going around)\b",
]

# --- age ---------------------------------------------------------------------------
_NUMBER_WORDS = {
    "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16, "dix sept": 17, "dix huit": 18, "dix neuf": 19, "vingt": 20,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
_NUM = r"(\d{1,2}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_YEARS = r"(?:ans?|piges?|balais)"  # "14an" (a dropped s), "14 piges" (slang)
_YEARS_EN = r"(?:years? old|yrs? old|yo|y o)"  # "14yo", "14 y/o"
# Named with a possessive: "une fille de 15 ans" alone may be the profile a groomer pretends to be.
_YOUNG_FR = rf"(?:(?:mon|ma|mes|notre|nos) (?:\w+ )?{_CHILD}|(?:mon|ma|mes|nos|un|une|l) (?:\w+ )?eleves?)"
_YOUNG_EN = r"(?:my|our) (?:\w+ )?(?:son|daughter|child|kid|boy|girl|teen|stepson|stepdaughter|student|pupil)"
# What follows a bare "jai 14": the end of the message or the next clause, never a noun
# ("j'ai 14 messages de lui" is not an age).
_CLAUSE_AFTER = r"(?= (?:et|mais|je|il|elle|on|un|une|quelqu|ca|c|pis|donc|car|and|but|someone|a)\b|$)"

# The young person's age, named with the young person: true whoever writes.
YOUNG_PERSON_AGE_PATTERNS = [
    rf"\b{_YOUNG_FR} (?:de |a |qui a |qui va avoir |qui a bientot )?{_NUM} {_YEARS}\b",  # "ma fille de 13 ans", "mon fils, 14 ans"
    rf"\b{_YOUNG_FR} en a {_NUM}\b",  # "j'ai 42 ans et mon fils en a 14"
    rf"\b{_YOUNG_EN}s? (?:is|aged|of|who is|who s|just turned|turned) {_NUM}\b",
    rf"\bmy {_NUM} {_YEARS_EN}\b",  # "my 12 year old (son)"
]
# The writer's own age: a teen's, never a parent's or professional's ("j'ai 42 ans et mon fils...").
FIRST_PERSON_AGE_PATTERNS = [
    rf"\bj ?ai {_NUM} {_YEARS}\b",
    rf"\bj ?ai {_NUM}{_CLAUSE_AFTER}",  # "jai 14 et il me menace"
    rf"\b(?:je suis|jsuis|jsui|chui|chuis) (?:un |une )?(?:\w+ )?de {_NUM} {_YEARS}\b",  # "je suis un gars de 14 ans" (first person only)
    rf"\bi ?m {_NUM}(?: {_YEARS_EN})?\b",
    rf"\bi am {_NUM}(?: {_YEARS_EN})?\b",
    rf"^{_NUM} (?:{_YEARS}|{_YEARS_EN})\b",  # a message that opens with an age: "14yo, someone has my pics"
    rf"\bj ?ai (?:que|seulement|juste|presque|bientot|deja|meme pas) {_NUM} {_YEARS}\b",  # "j'ai que 14 ans"
    # An age added at the end: "nothing is online yet, 17 yo btw", "14 ans au fait" (not "un mec de 19 ans").
    rf"(?<!\bde )(?<!\ba )(?<!\bof )\b{_NUM} (?:yo|y o)(?: btw| by the way)?$",
    rf"(?<!\bde )(?<!\ba )\b{_NUM} {_YEARS} (?:au fait|btw|d ailleurs)$",
]
# He/she: the child for a parent or professional; for a teen most often the adult who
# contacts them ("il a 25 ans", "un mec de 19 ans"), so only read for parents and pros.
THIRD_PERSON_AGE_PATTERNS = [
    rf"\b(?:il|elle) a {_NUM} {_YEARS}\b",
    rf"\b(?:il|elle) a {_NUM}$",
    rf"\b(?:he|she) (?:s|is|just turned|turned) {_NUM}\b",
]
# The whole message is an age: an answer to "how old?".
BARE_AGE_PATTERN = rf"^(?:j ?ai |i ?m |i am )?{_NUM}(?: {_YEARS}| {_YEARS_EN}| years)?$"
# "il a 14 ans" alone answers "how old is your child?"; from a teen it is as likely the
# other person, so an adult's age is not taken from it.
BARE_THIRD_PERSON_AGE_PATTERN = rf"^(?:il a|elle a|he s|she s|he is|she is) {_NUM}(?: {_YEARS}| {_YEARS_EN}| years)?$"
ADULTS = ("parent", "professional")
AGE_RANGE = (5, 25)

# --- already paid / already posted -----------------------------------------------
PAID_CUES = [
    r"\b(?:j ?ai|je lui ai|je leur ai|on a|il a) (?:deja )?(?:paye|payer|envoye \d+|verse|donne \d+|achete (?:une|des) cartes?)\b",
    r"\bdeja paye\b",
    r"\bi (?:already )?(?:paid|sent (?:him|her|them) (?:\d+|money|the money))\b",
    r"\b(?:already|have) paid\b",
    # The young person paid, told by a parent or a professional.
    r"\b(?:he|she|they) (?:already |has already |has |have already |have )?(?:paid|sent (?:him|her|them) \d+)\b",
    r"\b(?:il|elle) (?:lui|leur) a (?:deja )?(?:envoye|verse|donne) \d+\b",
]
_NOTHING = r"(?:pas|rien|jamais|toujours pas|pas encore|encore rien|rien du tout|pas du tout|jamais rien)"
_MONEY = r"(?:argent|thune|tune|fric|sous|euros?|centimes?|balles|carte|cartes|paysafecard|money|cash)"
PAID_NO_CUES = [
    rf"\b{_NOTHING} (?:encore |du tout |toujours )?(?:paye|verse|raque)\b",  # "j'ai rien payé", "non j'ai pas encore payé"
    rf"\b{_NOTHING} (?:\w+ )?(?:envoye|donne|transfere)\b(?: \w+){{0,3}} (?:d |de |comme |en )?{_MONEY}\b",  # "je lui ai rien envoyé comme argent"
    rf"\b(?:pas|jamais) (?:envoye|donne|verse) (?:d |de |un |une )?{_MONEY}\b",
    r"\b(?:didn t|didnt|did not|haven t|havent|have not|hasn t|has not|never|not) (?:yet |actually |even )?(?:paid|pay)\b",
    rf"\b(?:didn t|didnt|did not|haven t|havent|have not|never) (?:sent|send|given|give|gave) (?:him |her |them )?(?:any |a )?(?:money|cash|penny|cent|gift cards?)\b",
    r"\bnot (?:paid|paying) (?:yet|anything)\b",
]
POSTED_CUES = [
    r"\b(?:il|elle|ils|elles) (?:l a|les a|la a|a) (?:deja )?(?:poste|postee|publie|publiee|partage|partagee|diffuse|diffusee|envoye a)\b",
    r"\bdeja (?:poste|postee|publie|publiee|partage|partagee|diffuse|diffusee|en ligne)\b",
    r"\b(?:tourne|circule) (?:au|dans|sur|partout)\b",
    r"\b(?:already )?(?:posted|shared|leaked|sent) (?:it|them|the video|the pics|my pics) (?:to|on|online|everywhere)\b",
    r"\b(?:already|has|have|he s|she s|they ve|they have|he has|she has) (?:posted|shared|leaked|published) (?:it|them|the video|the pics|the photos|my pics)\b",
    r"\b(?:it s|its) (?:already )?(?:online|out there|going around)\b",  # "it's online", "its already online"
    r"\b(?:is|are) already (?:online|out there|going around|posted|shared)\b",  # "the video is already online"
    r"\b(?:they|he|she) (?:already )?(?:posted|shared|leaked|published) (?:a|an|one|some|two|the|my|her|his) \w+",
    r"\b(?:ils|elles|il|elle) ont (?:deja )?(?:poste|publie|partage|diffuse|balance)\b",  # "ils ont deja publie une photo"
    # Passive: "elle a été postée hier", "la photo a deja ete publiee sur un compte", "it's been posted".
    r"(?<!\bn )(?<!\brien )\b(?:a|ont) (?:deja )?ete (?:postee?s?|publiee?s?|partagee?s?|diffusee?s?|mise? en ligne)\b",
    r"(?<!\bnothing )(?<!\bnot )\b(?:has|have|s) (?:already )?been (?:posted|shared|leaked|published|put online)\b",
    r"\b(?:is|are) (?:already )?up (?:on|online)\b",  # "the video is already up on some account"
]
_PUBLISHED_FR = r"(?:postee?s?|publiee?s?|partagee?s?|diffusee?s?|balancee?s?|envoyee?s? a (?:qui que ce soit|personne|quelqu un)|mise? en ligne|en ligne)"
POSTED_NO_CUES = [
    rf"\b(?:rien|pas|jamais|toujours pas|pas encore|encore rien|rien du tout) (?:encore |ete |encore ete |du tout |toujours )?{_PUBLISHED_FR}\b",  # "il a rien posté"
    rf"\brien n a (?:encore |jamais )?ete {_PUBLISHED_FR}\b",  # "rien n'a été publié"
    r"\b(?:hasn t|hasnt|has not|haven t|havent|have not|didn t|didnt|did not|never|not|nothing s|nothing has|nothing s been|nothing) "
    r"(?:yet |actually |even |been |yet been )?(?:posted|shared|leaked|published|post|share|leak|publish|put (?:it |them )?online)\b",
    r"\b(?:it s|its|it is|they re|they are) not (?:yet )?(?:online|out there|posted)\b",
    r"\brien (?:n )?(?:est|a ete) (?:encore )?(?:en ligne|poste|publie|sorti)\b",  # "pour l'instant rien n'est en ligne"
    r"\bnothing (?:is|s) (?:online|up|out)\b",  # "nothing is online yet"
]

# --- a deadline set by the blackmailer -------------------------------------------
_WEEKDAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_TIME_POINT_FR = (
    rf"(?:ce soir|cette nuit|demain(?: soir| matin| midi)?|minuit|midi|ce midi|{_WEEKDAYS}(?: soir| matin)?|ce week end|"
    r"la fin de (?:la journee|la semaine|la soiree|la nuit)|aujourd hui|cet aprem|cet apres midi|\d{1,2} h(?: \d{2})?|\d{1,2} heures?)"
)
_DURATION_FR = (
    r"(?:\d{1,3}|une?|deux|trois|quatre|cinq|six|dix|douze|quinze|trente|vingt quatre|quarante huit|quelques|une demi|1 2) "
    r"(?:h|heures?|min|mins|minutes?|jours?|j|secondes?)"
)
_TIME_POINT_EN = (
    rf"(?:tonight|tomorrow(?: morning| night| evening)?|midnight|noon|{_WEEKDAYS}|the weekend|this weekend|today|"
    r"the end of (?:the day|today|the week|tonight)|end of (?:the )?day|\d{1,2} (?:am|pm|o clock|h))"
)
_DURATION_EN = r"(?:\d{1,3}|an?|one|two|three|four|five|ten|few|a few|a couple of|twenty four|forty eight) (?:h|hrs?|hours?|mins?|minutes?|days?|seconds?)"
# A limit is explicit: "avant minuit", "dans 1h", "sous 24h", "gave me until friday".
DEADLINE_CUES = [
    rf"\b(?:avant|d ici|jusqu ?a|pour) {_TIME_POINT_FR}\b",
    rf"\b(?:dans|sous|d ici|en moins de|moins de) {_DURATION_FR}\b",
    rf"\b(?:me laisse|m a laisse|me donne|m a donne|me reste|me restent|j ?ai|t as|tu as|t a) (?:que |seulement |plus que |encore |juste )?(?:jusqu ?a|{_DURATION_FR})\b",
    rf"\b{_DURATION_FR} pour (?:payer|paye|envoyer|lui|le|la|tout|trouver|repondre)\b",
    r"\b(?:un|une|son) (?:delai|date limite|deadline|ultimatum|compte a rebours|heure limite)\b",
    rf"\b(?:by|before) {_TIME_POINT_EN}\b",
    rf"\b(?:gave|give|gives|given|giving) me (?:only |just )?(?:until|till|til|{_DURATION_EN})\b",
    rf"\bi (?:have|ve got|got|only have|have only|ve only got) (?:only |just )?(?:until|till|{_DURATION_EN})\b",
    rf"\b(?:within|in|under|in less than|in the next) {_DURATION_EN}\b",
    rf"\b{_DURATION_EN} to (?:pay|send|give|respond|answer|get)\b",
    r"\b(?:a|an|his|her) (?:deadline|ultimatum|countdown|time limit)\b",
]
# A moment ("ce soir", "tomorrow") is a limit only next to a demand or a threat, or as
# the whole answer to "did he give you a deadline?".
DEADLINE_MOMENTS = r"\b(?:ce soir|cette nuit|(?<!\ba )demain|aujourd hui|a minuit|tout de suite|immediatement|ce week end|tonight|tomorrow|today|at midnight|right away|immediately|asap|this weekend)\b"
DEMAND_CUES = [
    r"\b(?:sinon|or else|otherwise|unless)\b",
    r"\b(?:si je|if i) (?:\w+ )?(?:\w+ )?(?:pas|don t|dont|do not)\b",
    r"\b(?:payer|paye|paie|paies|payes|pay|argent|thune|fric|money|cash|euros?|balles|dollars)\b",
    r"\b(?:veut|veulent|exige|demande|wants|demands|asks for|asking for) (?:\w+ )?\d+",  # "he wants 500 tonight"
    r"\b(?:publier|publie|poster|balancer|diffuser|envoyer a tout|leak\w*|posts?|posting|shares?|send (?:it|them) to)\b",
]
# "ce soir il m'a écrit": the moment tells when something happened, not a limit.
_PAST_AFTER_MOMENT = re.compile(
    r"^ (?:\S+ ){0,2}?(?:m a|m ont|a|ont|l a|les a|j ai|on a|m avait)(?! pas\b) \w+|"
    r"^ (?:he|she|they|someone|this guy|a guy|i) (?:\w+ed|sent|said|told|wrote|made|got|took)\b"
)
_MOMENT_FILLERS = r"(?:euh|bah|ben|genre|normalement|je crois|je pense|il a dit|il m a dit|elle a dit|he said|she said|i think|lol|mdr|jsp|je sais pas)"
DEADLINE_NO_CUES = [
    r"\b(?:pas|aucun|aucune|jamais) (?:de |d |vraiment de |encore de )?(?:delai|date limite|deadline|ultimatum|limite de temps|heure limite)\b",
    r"\b(?:il|elle|ils) (?:m )?a (?:pas|jamais|rien) (?:donne|fixe|dit|precise|mis) (?:de |d |un |une )?(?:quand|pour quand|delai|date|limite|heure)\b",
    r"\bno (?:deadline|time limit|ultimatum|countdown)\b",
    r"\b(?:didn t|didnt|did not|hasn t|hasnt|has not|never) (?:give|gave|given|set|say|said|mention|mentioned|tell|told) (?:me )?(?:a |any )?(?:deadline|time limit|date|when)\b",
]

# --- a meeting proposed ----------------------------------------------------------
_WANTS = r"(?:veux|veut|voudrais|voudrait|aimerait|aimerais|propose|proposer|demande|demander|insiste pour|envie de|vient|venir|passer)"
MEETING_CUES = [
    r"\bse (?:voir|voie|voit|voient|rencontrer|rencontre|retrouver|retrouve|capter|capte)\b",  # "veut qu'on se voie"
    rf"(?<!\bje ){_WANTS} (?:\w+ )?(?:de |a )?(?:me|te) (?:voir|rencontrer|retrouver|capter)\b",  # "il veut me voir", not "je veux..."
    # A parent about the child: "il veut la voir samedi", "elle veut le rencontrer" (the adult wants to see them).
    rf"\b(?:il|elle|ils) (?:\w+ )?{_WANTS} (?:de |a )?(?:le|la|les) (?:voir|rencontrer|retrouver)\b",
    r"(?<!\bje )(?<!\bj )\b(?:veut|voudrait|propose de|insiste pour) (?:le|la|les) (?:voir|rencontrer|retrouver)\b",  # "qui ... veut le voir samedi"
    r"\b(?:he|she|they) (?:wants?|asked|keeps asking|is asking|suggested|offered) (?:to )?(?:see|meet) (?:him|her|them)\b",
    r"\b(?:me|te|le|la|nous) (?:rencontrer|retrouver|rejoindre)\b",  # "il m'a proposé de le rejoindre au parc"
    # A parent: "il veut rencontrer ma fille", "il veut voir mon fils en vrai".
    rf"(?<!\bje ){_WANTS} (?:\w+ )?(?:de |a )?(?:voir|rencontrer|retrouver) (?:mon|ma|mes|notre|nos) (?:\w+ )?{_CHILD}\b",
    rf"\b(?:voir|rencontrer|retrouver) (?:mon|ma|mes|notre|nos) (?:\w+ )?{_CHILD}\b(?:\s+\S+){{0,4}} (?:en vrai|irl|en personne)\b",
    r"\b(?:meet|see) (?:my|our) (?:son|daughter|child|kid|boy|girl)\b",
    r"\b(?:rdv|rendez vous|rencard|rancard)\b(?!(?: \w+){0,3} (?:commissariat|gendarmerie|police|medecin|docteur|psy|infirm\w*|cpe|avocat|conseill\w*|dentiste))",
    r"\b(?:venir|viens|vienne|passer|passe) (?:me |te )?(?:chez (?:moi|toi|lui|elle|eux)|chercher|prendre)\b",
    r"\b(?:me|te) (?:chercher|prendre) (?:a|au|apres|devant|en)\b",
    r"\b(?:aller|alle|aille) chez (?:lui|elle|eux)\b",
    r"\b(?:meet|meets|meet up|meetup|meeting up)\b(?! (?:with )?(?:a |the )?(?:counsellor|counselor|police|someone from))",
    r"\bmeeting (?:him|her|them|up|in person|irl)\b",  # "he suggested meeting him at the mall"
    r"\bcome (?:over|to (?:my|his|her|their) (?:house|place|home|flat|apartment))\b",
    r"\b(?:pick|picking) (?:me|you) up\b",
    r"\b(?:see|hang out|hangout) (?:me |you )?(?:in person|irl|in real life)\b",
]
_NOT_A_MEETING = r"\b(?:nice|pleased|good|glad) to meet\b"

# --- still able to log in --------------------------------------------------------
_LOGIN_FR = r"(?:me connecter|me co|me reconnecter|acceder a mon compte|acceder|aller sur mon compte|rentrer dans mon compte|ouvrir mon compte)"
_LOGIN_EN = r"(?:log ?in|login|log back in|sign in|get in|get into|get back into|access)"
# The person changing their own password is a step taken, not a lock-out.
_OWN_PASSWORD_CHANGE = r"\b(?:j ?ai|i ve|i have|i) (?:deja )?(?:change|modifie|changed) (?:mon|le|my|the) (?:mot de passe|mdp|password)\b"
CAN_LOGIN_CUES = [
    rf"\b(?:je peux|j ?arrive a|je sais|on peut) (?:encore |toujours |quand meme )?{_LOGIN_FR}\b",  # "je peux encore me connecter"
    r"\bj ?ai (?:encore|toujours) acces\b",
    rf"\bi (?:can|could) (?:still )?{_LOGIN_EN}\b",
    r"\bi (?:still )?(?:have|ve got|got) (?:still )?access\b",
]
CANNOT_LOGIN_CUES = [
    rf"\b(?:je peux|j ?arrive|j y arrive|je parviens|je peut|on peut) (?:plus|pas|jamais|toujours pas)(?: a)? (?:\w+ )?{_LOGIN_FR}\b",  # "j'arrive plus à me connecter"
    rf"\b(?:je ne peux|je n arrive) (?:plus|pas) (?:a )?{_LOGIN_FR}\b",
    r"\b(?:j ?ai|je n ai) (?:plus|pas) acces\b",
    rf"\bimpossible (?:de )?{_LOGIN_FR}\b",
    r"\b(?:mot de passe|mdp|password|email|e mail|mail|adresse mail|numero) (?:a ete |a |ont ete |est |was |has been |got |been )?(?:change|changes|modifie|changed)\b",
    r"\b(?:change|modifie|changed) (?:mon|mes|le|my|the) (?:mot de passe|mdp|password|email|mail|adresse mail)\b",
    r"\b(?:bloquee?|enfermee?) (?:hors|en dehors) de mon compte\b",
    rf"\b(?:can t|cant|cannot|can not|unable to|couldn t|could not|can no longer|no longer able to) (?:\w+ )?{_LOGIN_EN}\b",
    r"\blocked (?:me )?out\b",
    r"\b(?:lost|no longer have|don t have|dont have) (?:any )?access\b",
]

# --- a fake account in the person's name -----------------------------------------
_SOMEONE_KNOWN = r"(?:moi|lui|elle|eux|mon fils|ma fille|mon enfant|mon eleve|mon ado|me|him|her|them|my son|my daughter|my child|my kid|my student)"
IMPERSONATION_CUES = [
    # A "faux compte" that writes to or insults the person is an anonymous harasser, not a copy of them.
    r"\b(?:faux|fake) (?:compte|profil|account|profile|insta|snap)s?\b"
    r"(?!(?: \w+){0,3} (?:me |m )?(?:insult|harcel|menac|ecri|envoi|envoy|contact|parl|spam|messag|harass|threat|text|dm|follow|send|sent|writ|wrote|bull|stalk)\w*)",
    r"\b(?:compte|profil|account|profile)s? (?:\w+ )?(?:fake|faux)\b",
    rf"\b(?:se|se fait|se faire|se font|se fais) (?:\w+ )?passer pour {_SOMEONE_KNOWN}\b",
    r"\b(?:compte|profil)s? (?:\w+ ){0,2}(?:avec|a partir de|avec toutes) (?:mes|ses|leurs|nos) (?:photos|pics|videos|selfies|photos de profil)\b",
    r"\b(?:compte|profil)s? (?:a|sous|avec) (?:mon|son|leur) (?:nom|identite|prenom)\b",
    r"\busurp\w*\b",  # "usurpation d'identité", "il a usurpé mon identité"
    r"\b(?:copie|clone|copy) (?:de |of )?(?:mon|son|my|his|her) (?:compte|profil|account|profile)\b",
    rf"\b(?:pretending|pretends|pretend|posing|poses|pretended) (?:to be|as) {_SOMEONE_KNOWN}\b",
    r"\bimpersonat\w*\b",
    r"\b(?:account|profile)s? (?:\w+ ){0,2}(?:with|using|in) (?:my|his|her|their) (?:photos|pics|pictures|name|face|selfies)\b",
]

# --- the school ---------------------------------------------------------------------
# "je suis en 4e au collège" says the writer's grade, not that the school is part of the story.
_GRADE_STATEMENT = r"\b(?:je suis|i m|i am) (?:en (?:\S+ ){1,2})?(?:au|en|in) (?:college|lycee|\S+ grade|year \d+)\b"
SCHOOL_CUES = [
    r"\b(?:au|du|de mon|dans mon|dans le|devant le) (?:lycee|college|bahut)\b",
    r"\b(?:a l|de l|de mon|dans mon) ecole\b",
    r"\b(?:dans|de) (?:ma|la|notre) classe\b",
    r"\b(?:groupe|conv|conversation|groupe snap|groupe whatsapp) (?:de (?:la |ma )?)?classe\b",
    r"\b(?:camarades?|gens|eleves|filles|garcons|mecs) de (?:ma |la )?classe\b",
    r"\b(?:a la recre|en recre|en cours|en classe|en permanence|en perm|a la cantine|au self)\b",
    r"\b(?:at|from|in|to) (?:my |our |the )?(?:school|class)\b",
    r"\b(?:classmates?|class group|class chat|school group|school chat)\b",
]

# --- an adult of the child's home behind the approach (grooming) -------------------------
# The mother's partner, a stepfather, an uncle... who sends the child strange messages or
# asks for photos, or "he lives with us": abuse at home, whatever the app (119). The adult
# must be the one acting, with a sexual or strange request: "j'en ai parlé au copain de ma
# mère" is a trusted adult. Fathers are left out: a father helping ("mon père veut voir les
# photos pour porter plainte") is far more common here than one abusing, which the crisis
# lexicon's abuse patterns and the check-in cover.
_HOUSEHOLD_FR = (
    r"(?:(?:le |l )?(?:copain|mec|compagnon|cheri|petit ami|conjoint|mari|amoureux) de (?:ma mere|maman)"
    r"|mon (?:beau pere|beaupere|oncle|parrain|demi frere|tonton)|le mari de ma (?:tante|soeur))"
)
_HOUSEHOLD_EN = (
    r"(?:my )?(?:step ?dad|step ?father|mom s boyfriend|moms boyfriend|mum s boyfriend|mums boyfriend|"
    r"mother s boyfriend|mom s partner|mum s partner|uncle|step brother)"
)
_ACTS_FR = (
    r"(?:m ?envoie|m ?a envoye|m ?ecrit|m ?a ecrit|me demande|m ?a demande|me parle|me touche|m ?a touche"
    r"|me prend en photo|me filme)"
)
_ACTS_EN = r"(?:sends|sent|keeps sending|texts|texted|keeps texting|messages|asks|asked|keeps asking|touches|touched|films|filmed|dms)"
_SEXUAL_OR_STRANGE = (
    r"(?:photos?|selfies?|pyjama|nudes?|snaps?|videos?|sous vetements|culotte|nue?s?|sein|seins|trucs? genants?|trucs? sexuels?|messages? bizarres?|trucs? bizarres?|trucs? chelou|"
    r"messages? chelou|sa preferee|son prefere|notre secret|un secret|pics?|pictures?|underwear|naked|weird (?:stuff|messages?|things)|"
    r"creepy|secret)"
)
HOUSEHOLD_ADULT_CUES = [
    rf"\b{_HOUSEHOLD_FR} (?:\w+ ){{0,2}}{_ACTS_FR}\b(?: \w+){{0,6}} {_SEXUAL_OR_STRANGE}\b",
    rf"\b{_HOUSEHOLD_EN} (?:\w+ ){{0,2}}{_ACTS_EN}\b(?: \w+){{0,6}} {_SEXUAL_OR_STRANGE}\b",
    r"\b(?:il|elle) (?:vit|habite|dort) (?:avec nous|chez nous|a la maison|avec ma mere|avec maman)\b",
    r"\b(?:he|she) (?:lives|is living|stays) (?:with us|at our house|in our house|with my mom|with my mum)\b",
]

# --- language -----------------------------------------------------------------------
FRENCH_WORDS = set(
    "je j tu il elle nous vous ils elles le la les un une des du et est c pas ne que qui mon ma mes ton ta tes son sa ses "
    "sur avec pour dans moi toi suis ai sont fait veux peux quoi comment pourquoi bonjour salut merci oui non ouais nan "
    "jsp mdr stp svp enfant fils fille aide etre avoir tout tres bien aussi mais ou donc car ca cette ce ces leur y au aux "
    "qu quand parce m t s l d n sais peur faire dit veut mais menace photo video gens quelqu quelqu un chez apres avant "
    "cest jai jsuis chui wsh tkt pk bcp ptn truc mec meuf daron darons parler personne".split()
)
ENGLISH_WORDS = set(
    "i you he she we they the an and is are was my your his her with for to of it this that what how why hello hi hey "
    "thanks thank yes no please child son daughter help be have not don t can cant im i m want someone because "
    "about from will would just know ok okay guy girl pics pic video threatened threatening send sent money he s she s "
    "they re do does did am at if or so me him them who where when there their "
    # everyday words of a first message ("my sons account got hacked on tiktok")
    "got get account accounts hacked sons daughters kids has had been being keeps kept asked asking told "
    "says said school people our out all one into over".split()
)
_AMBIGUOUS = {"a", "on", "me", "en", "t", "s", "d", "l", "m", "n", "video", "ok", "i"}
FRENCH_WORDS -= _AMBIGUOUS
ENGLISH_WORDS -= _AMBIGUOUS


def _any(patterns: Iterable[str], text: str) -> bool:
    return any(re.search(p, text) for p in patterns)


def detect_role(normalised: str) -> Optional[str]:
    if _any(PROFESSIONAL_CUES, normalised):
        return "professional"
    if _any(PARENT_CUES, normalised):
        return "parent"
    if _any(TEEN_CUES, normalised) or _any(TEEN_OWN_SITUATION_CUES, normalised):
        return "teen"
    return None


def _to_int(token: str) -> Optional[int]:
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


def _first_age(patterns: Iterable[str], normalised: str, below: int = AGE_RANGE[1] + 1) -> Optional[int]:
    for pattern in patterns:
        for match in re.finditer(pattern, normalised):
            age = _to_int(match.group(1))
            if age is not None and AGE_RANGE[0] <= age <= AGE_RANGE[1] and age < below:
                return age
    return None


def extract_age(normalised: str, role: Optional[str]) -> Optional[int]:
    """The young person's age: the teen's own, or the child's when an adult writes."""
    adult = role in ADULTS
    # The writer's own age is the young person's only when the writer is the young person;
    # he/she is the child only when a parent or professional writes.
    personal = THIRD_PERSON_AGE_PATTERNS if adult else FIRST_PERSON_AGE_PATTERNS
    for patterns, below in (
        (YOUNG_PERSON_AGE_PATTERNS, AGE_RANGE[1] + 1),
        (personal, AGE_RANGE[1] + 1),
        ([BARE_AGE_PATTERN], AGE_RANGE[1] + 1),
        ([BARE_THIRD_PERSON_AGE_PATTERN], AGE_RANGE[1] + 1 if adult else 18),
    ):
        age = _first_age(patterns, normalised, below)
        if age is not None:
            return age
    return None


def detect_platform(normalised: str, aliases: Mapping[str, str]) -> Optional[str]:
    """The platform named last (where the threat is now, when contact moved apps)."""
    best: Tuple[int, Optional[str]] = (-1, None)
    padded = f" {normalised} "
    for alias, pid in aliases.items():
        if len(alias) <= 2:
            # One- or two-letter names ("x", "fb") only count in an obvious context.
            rx = rf"(?:^|\b(?:sur|on|de|from|via|dans|in|compte|account|app|appli)) {re.escape(alias)}(?= |$)"
            m = None
            for m in re.finditer(rx, normalised):
                pass
            if m is None and normalised == alias:
                return pid
            if m is not None and m.end() > best[0]:
                best = (m.end(), pid)
            continue
        start = padded.rfind(f" {alias} ")
        if start >= 0 and start + len(alias) > best[0]:
            best = (start + len(alias), pid)
    return best[1]


def detect_language(text: str) -> Optional[str]:
    """'fr' or 'en' when the message clearly is; None for short or mixed messages."""
    tokens = fold(text).split()
    if len(tokens) < 2:
        return None  # "ok", "merci": a one-word message never switches the language
    fr = sum(1 for t in tokens if t in FRENCH_WORDS)
    en = sum(1 for t in tokens if t in ENGLISH_WORDS)
    if any(ch in text.lower() for ch in "éèêàçùâîôœ"):
        fr += 2
    if fr >= 2 and fr >= 2 * en + 1:
        return "fr"
    if en >= 2 and en >= 2 * fr + 1:
        return "en"
    return None


# "hasn't" folds to "hasn t": the "t" must not count as one of the words allowed between.
# A new subject or "et"/"mais" starts another clause: "tant que je paie pas, il veut me voir"
# is not a denial of the meeting.
_NEGATION = (
    r"(?:pas|jamais|not|never|no|(?:hasn|haven|didn|don|doesn|isn|wasn|weren|won|can|couldn|wouldn|aren) t|"
    r"hasnt|havent|didnt|dont|doesnt|cant|n)"
)
_SAME_CLAUSE_WORD = r"\s+(?!(?:il|elle|ils|elles|je|j|et|mais|si|sinon|he|she|they|i|and|but|if)\b)\S+"
NEGATION_BEFORE = re.compile(rf"\b{_NEGATION}\b(?:{_SAME_CLAUSE_WORD}){{0,3}}\s*$")
NEGATION_AFTER = re.compile(r"\s*(?:pas|not)\b")
NEGATION_INSIDE = re.compile(r"\b(?:pas|jamais|plus|not|never)\b")


def _is_negated(match: "re.Match[str]", text: str) -> bool:
    return bool(
        NEGATION_BEFORE.search(text[: match.start()])
        or NEGATION_AFTER.match(text[match.end():])
        or NEGATION_INSIDE.search(match.group(0))  # "il veut pas me voir": a cue with a free word
    )


def _affirmed(patterns: Iterable[str], text: str) -> bool:
    """A cue that is not negated just before ("he hasn't posted it", "il l'a pas publiée")."""
    return any(not _is_negated(m, text) for pattern in patterns for m in re.finditer(pattern, text))


def _denied(patterns: Iterable[str], text: str) -> bool:
    """A cue that is negated ("il a jamais proposé de se voir", "he never asked to meet")."""
    return any(_is_negated(m, text) for pattern in patterns for m in re.finditer(pattern, text))


def _without(pattern: str, text: str) -> str:
    return re.sub(pattern, " ", text)


def _yes_no(yes: bool, no: bool) -> Optional[str]:
    """'yes' wins: an explicit fact outweighs a denial elsewhere in the same message."""
    return "yes" if yes else "no" if no else None


def read_paid(normalised: str) -> Optional[str]:
    return _yes_no(_affirmed(PAID_CUES, normalised), _any(PAID_NO_CUES, normalised))


def read_posted(normalised: str) -> Optional[str]:
    return _yes_no(_affirmed(POSTED_CUES, normalised), _any(POSTED_NO_CUES, normalised))


def _moment_is_a_limit(normalised: str) -> bool:
    """"ce soir" / "tomorrow" next to a demand or threat, or as the whole answer."""
    bare = re.sub(rf"\b{_MOMENT_FILLERS}\b", " ", normalised)
    if re.fullmatch(rf"\s*(?:{DEADLINE_MOMENTS}\s*)+", bare):
        return True
    if not _any(DEMAND_CUES, normalised):
        return False
    return any(
        not _PAST_AFTER_MOMENT.search(normalised[m.end():]) for m in re.finditer(DEADLINE_MOMENTS, normalised)
    )


def read_deadline(normalised: str) -> Optional[str]:
    yes = _affirmed(DEADLINE_CUES, normalised) or _moment_is_a_limit(normalised)
    return _yes_no(yes, _any(DEADLINE_NO_CUES, normalised))


def read_meeting(normalised: str) -> Optional[str]:
    text = _without(_NOT_A_MEETING, normalised)
    return _yes_no(_affirmed(MEETING_CUES, text), _denied(MEETING_CUES, text))


def read_can_login(normalised: str) -> Optional[str]:
    text = _without(_OWN_PASSWORD_CHANGE, normalised)
    # "encore" / "still" says more than a changed password: a session may still be open.
    return _yes_no(_affirmed(CAN_LOGIN_CUES, text), _any(CANNOT_LOGIN_CUES, text))


def read_impersonation(normalised: str) -> Optional[str]:
    return "yes" if _affirmed(IMPERSONATION_CUES, normalised) else None


def read_household_adult(normalised: str) -> Optional[str]:
    return "yes" if _affirmed(HOUSEHOLD_ADULT_CUES, normalised) else None


def read_school(normalised: str) -> Optional[str]:
    return "yes" if _affirmed(SCHOOL_CUES, _without(_GRADE_STATEMENT, normalised)) else None


FLAG_READERS = {
    "paid": read_paid,
    "posted": read_posted,
    "deadline": read_deadline,
    "meeting_proposed": read_meeting,
    "can_login": read_can_login,
    "impersonation": read_impersonation,
    "school_involved": read_school,
    "household_adult": read_household_adult,
}


def detect_flags(normalised: str) -> Dict[str, str]:
    flags = {}
    for name, reader in FLAG_READERS.items():
        value = reader(normalised)
        if value:
            flags[name] = value
    return flags


def read_context(text: str, aliases: Mapping[str, str], sms: Optional[Mapping[str, str]] = None) -> Dict[str, object]:
    normalised = normalize(text, sms)
    found: Dict[str, object] = {}
    role = detect_role(normalised)
    if role:
        found["user_role"] = role
    age = extract_age(normalised, role)
    if age is not None:
        found["age"] = age
    platform = detect_platform(normalised, aliases) if aliases else None
    if platform:
        found["platform"] = platform
    language = detect_language(text)
    if language:
        found["language"] = language
    found.update(detect_flags(normalised))
    return found


def entity_list(found: Mapping[str, object], text: str, extractor: str) -> List[Dict[str, object]]:
    return [
        {"entity": key, "value": value, "start": 0, "end": len(text), "confidence_entity": 1.0, "extractor": extractor}
        for key, value in found.items()
    ]
