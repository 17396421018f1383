"""`make check`: one realistic editor mistake per check, with the French message, file and line."""
from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

from tests.editors.conftest import ROOT, Workspace


def told(report, file: str, line, *words: str) -> None:
    """Some error names `file` (and `line`) and contains all `words`."""
    for problem in report.errors:
        text = problem.render(details=False)
        if problem.file == file and (line is None or problem.line == line) and all(w in text for w in words):
            return
    listing = "\n".join(p.render() for p in report.errors) or "(aucune erreur)"
    raise AssertionError(f"expected {file}:{line} {words} in:\n{listing}")


def test_make_check_on_the_real_repository_passes_in_under_30_seconds() -> None:
    started = time.monotonic()
    result = subprocess.run(["make", "--no-print-directory", "check"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Tout est bon" in result.stdout
    assert "Provenance" in result.stdout  # the never-verified items are listed, without failing
    assert elapsed < 30, f"make check took {elapsed:.1f} s"


def test_a_failing_check_exits_non_zero(ws: Workspace, check_content) -> None:
    ws.append("content/responses/extra.yml", 'utter_extra:\n  - fr: "Bonjour"\n')
    code = check_content.main(["--content", str(ws.content), "--data", str(ws.data), "--domain", str(ws.domain),
                               "--repo", str(ws.root), "--no-rasa"])
    assert code == 1


# ---- YAML syntax

def test_indentation_error_names_file_line_and_column(ws: Workspace) -> None:
    ws.edit("content/responses/service.yml", "  verified_on:", "   verified_on:")
    line = ws.line_of("content/responses/service.yml", "   verified_on:")
    report = ws.check()
    told(report, "content/responses/service.yml", line, "indentation", "colonne", "même colonne")


def test_a_tab_is_refused_with_its_line(ws: Workspace) -> None:
    ws.edit("content/flows/grooming.yml", "  - response:", "\t- response:")
    line = ws.line_of("content/flows/grooming.yml", "\t- response:")
    told(ws.check(), "content/flows/grooming.yml", line, "tabulation", "espaces")


def test_unclosed_quote_in_training_data(ws: Workspace) -> None:
    ws.edit("data/rules/service.yml", "- rule: opening hours", '- rule: "opening hours')
    report = ws.check(rasa=True)
    told(report, "data/rules/service.yml", None, "guillemet")
    assert any("validation Rasa non faite" in s for s in report.skipped)


def test_a_broken_helplines_file_is_told_once(ws: Workspace) -> None:
    ws.edit("content/helplines.yml", 'hours: {fr: "24h/24, 7j/7", en: "24/7"}', 'hours: {fr: "24h/24, 7j/7", en: "24/7"')
    report = ws.check()
    told(report, "content/helplines.yml", None, "accolade")
    assert not any("n'existe pas dans helplines.yml" in p.message for p in report.errors)  # no cascade over every text


def test_a_colon_inside_an_unquoted_text(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml", "utter_extra:\n  - fr: Attention: ne paie pas\n    en: Careful\n")
    told(ws.check(), "content/responses/extra.yml", 2, "deux-points", "guillemets")


# ---- content schema

def test_missing_english_text(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml", 'utter_extra:\n  - fr: "Bonjour"\n')
    told(ws.check(), "content/responses/extra.yml", 2, "il manque le texte en anglais (en:)")


def test_missing_adult_variant_language_of_a_teen_text(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml", 'utter_extra:\n  - fr:\n      adult: "Bonjour"\n    en: "Hello"\n')
    told(ws.check(), "content/responses/extra.yml", 3, "il manque le texte teen: en français")


def test_unknown_placeholder_field(ws: Workspace) -> None:
    ws.edit("content/responses/service.yml", "{helpline.e_enfance.number}", "{helpline.e_enfance.numero}")
    report = ws.check()
    told(report, "content/responses/service.yml", None, "« numero » n'est pas un champ de numéro", "number")


def test_unknown_helpline_in_placeholder(ws: Workspace) -> None:
    ws.edit("content/responses/service.yml", "{helpline.e_enfance.number}", "{helpline.enfance.number}")
    told(ws.check(), "content/responses/service.yml", None, "« enfance » n'existe pas dans helplines.yml")


def test_flow_step_that_does_not_exist(ws: Workspace) -> None:
    ws.edit("content/flows/sextortion.yml", "response: step_sextortion_block", "response: step_sextorsion_block")
    line = ws.line_of("content/flows/sextortion.yml", "step_sextorsion_block")
    told(ws.check(), "content/flows/sextortion.yml", line, "step_sextorsion_block n'existe dans aucun fichier")


# ---- cross-references

def test_response_used_in_a_rule_but_missing_from_content(ws: Workspace) -> None:
    ws.edit("data/rules/service.yml", "action: utter_hours", "action: utter_horaires")
    line = ws.line_of("data/rules/service.yml", "utter_horaires")
    told(ws.check(), "data/rules/service.yml", line, "la réponse utter_horaires est utilisée par une règle ou une story",
         "content/responses/")


def test_flow_question_that_does_not_exist(ws: Workspace) -> None:
    ws.edit("content/flows/hacked_account.yml", "  - ask: can_login", "  - ask: recovery_email")
    line = ws.line_of("content/flows/hacked_account.yml", "recovery_email")
    told(ws.check(), "content/flows/hacked_account.yml", line, "« recovery_email » n'est pas une question connue", "can_login")


def test_platform_typo_in_a_when_condition(ws: Workspace) -> None:
    ws.edit("content/responses/sextortion.yml", '- when: {platform: "snapchat"}', '- when: {platform: "snapshat"}')
    line = ws.line_of("content/responses/sextortion.yml", "snapshat")
    told(ws.check(), "content/responses/sextortion.yml", line, "la plateforme « snapshat » n'existe pas dans platforms.yml",
         "snapchat")


def test_unknown_slot_value_in_a_flow_step(ws: Workspace) -> None:
    ws.edit("content/flows/sextortion.yml", 'when: {paid: "yes"}', 'when: {paid: "oui"}')
    line = ws.line_of("content/flows/sextortion.yml", '"oui"')
    told(ws.check(), "content/flows/sextortion.yml", line, "« oui » n'est pas une valeur possible de paid", "yes, no, unknown")


def test_http_link_is_refused(ws: Workspace) -> None:
    ws.edit("content/helplines.yml", 'link: "https://3018.fr"', 'link: "http://3018.fr"')
    line = ws.line_of("content/helplines.yml", "http://3018.fr")
    told(ws.check(), "content/helplines.yml", line, "n'est pas sécurisé", "https://3018.fr")


def test_link_without_scheme_is_refused(ws: Workspace) -> None:
    ws.edit("content/helplines.yml", 'link: "https://3114.fr"', 'link: "www.3114.fr"')
    line = ws.line_of("content/helplines.yml", "www.3114.fr")
    told(ws.check(), "content/helplines.yml", line, "« www.3114.fr » n'est pas une adresse web valide", "https://")


def test_http_link_inside_a_text(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  - fr: "Voir http://www.internet-signalement.gouv.fr"\n    en: "See the site"\n')
    told(ws.check(), "content/responses/extra.yml", 2, "http://www.internet-signalement.gouv.fr", "n'est pas sécurisé")


def test_short_number_with_spaces(ws: Workspace) -> None:
    ws.edit("content/helplines.yml", 'number: "3018"', 'number: "30 18 "')
    line = ws.line_of("content/helplines.yml", '"30 18 "')
    told(ws.check(), "content/helplines.yml", line, "n'est pas un numéro français valide")


def test_ten_digit_number_badly_grouped(ws: Workspace) -> None:
    ws.edit("content/helplines.yml", 'number: "3018"', 'number: "0800 20 00 00"')
    line = ws.line_of("content/helplines.yml", "0800 20 00 00")
    told(ws.check(), "content/helplines.yml", line, "« 0800 20 00 00 » de e_enfance", "« 08 00 20 00 00 »")


def test_number_with_letters(ws: Workspace) -> None:
    ws.edit("content/helplines.yml", 'number: "3114"', 'number: "31l4"')
    told(ws.check(), "content/helplines.yml", ws.line_of("content/helplines.yml", "31l4"), "n'est pas un numéro français valide")


# ---- Rasa's validation of training data, in French

def test_intent_without_examples(ws: Workspace) -> None:
    ws.edit("data/nlu/service.yml", "- intent: ask_hours", "- intent: ask_hour")
    report = ws.check(rasa=True)
    told(report, "domain.yml", ws.line_of("domain.yml", "- ask_hours"), "l'intention ask_hours", "aucun exemple")
    told(report, "data/nlu/service.yml", ws.line_of("data/nlu/service.yml", "intent: ask_hour"),
         "l'intention ask_hour a des exemples mais n'est pas déclarée")
    assert any("is not found in the NLU training data" in p.details for p in report.errors)  # --details keeps Rasa's text


def test_same_example_in_two_intents(ws: Workspace) -> None:
    ws.edit("data/nlu/service.yml", "    - quels sont vos horaires\n", "    - quels sont vos horaires\n    - chantage a la webcam aidez moi\n")
    report = ws.check(rasa=True)
    told(report, "data/nlu/service.yml", None, "« chantage a la webcam aidez moi » est rangé dans plusieurs intentions",
         "ask_hours", "sextortion", "une seule intention")


def test_story_that_contradicts_a_rule(ws: Workspace) -> None:
    ws.append("data/stories.yml", 'version: "3.1"\nstories:\n- story: horaires puis merci\n  steps:\n'
              "  - intent: ask_hours\n  - action: utter_anything_else\n")
    report = ws.check(rasa=True)
    told(report, "data/stories.yml", 3, "la story « horaires puis merci » répond utter_anything_else à l'intention ask_hours",
         "règle « opening hours »", "utter_hours")


def test_rule_using_an_unknown_action(ws: Workspace) -> None:
    ws.edit("data/rules/service.yml", "action: utter_hours", "action: action_hours")
    report = ws.check(rasa=True)
    told(report, "data/rules/service.yml", ws.line_of("data/rules/service.yml", "action_hours"),
         "l'action action_hours", "n'existe pas dans bot/domain.yml")


# ---- provenance

def test_provenance_lists_missing_and_stale(ws: Workspace) -> None:
    ws.edit("content/helplines.yml", '    source: "https://www.cybermalveillance.gouv.fr"\n', "")
    report = ws.check(today=dt.date(2028, 1, 15))
    listed = "\n".join(f"{p.where()} : {p.message}" for p in report.provenance)
    line = ws.line_of("content/helplines.yml", "cybermalveillance:")
    assert f"content/helplines.yml, ligne {line} : le numéro cybermalveillance : aucune source" in listed
    assert "le numéro e_enfance : vérifié le 2026-11-29, il y a plus de 12 mois" in listed
    assert "le guide instagram : jamais vérifié" in listed
    assert "le parcours sextortion : jamais vérifié" in listed
    assert not report.errors  # a warning list: it does not fail by default


def test_strict_provenance_fails(ws: Workspace, check_content, capsys) -> None:
    code = check_content.main(["--content", str(ws.content), "--data", str(ws.data), "--domain", str(ws.domain),
                               "--repo", str(ws.root), "--no-rasa", "--strict-provenance"])
    assert code == 1
    assert "Provenance (à corriger)" in capsys.readouterr().out


# ---- sensitive files

def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=repo, check=True, capture_output=True)


def test_sensitive_files_touched_are_named(ws: Workspace, check_content) -> None:
    repo = ws.root
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    (repo / "content" / "crisis").rename(repo / "content" / "crisis_tmp")  # the repository layout: content/ at the root
    (repo / "content" / "crisis_tmp").rename(repo / "content" / "crisis")
    ws.edit("content/helplines.yml", 'hours: {fr: "24h/24, 7j/7", en: "24/7"}', 'hours: {fr: "24h/24", en: "24/7"}')
    ws.append("content/crisis/lexicon.yml", "\n")
    report = check_content.run_checks(ws.paths(), rasa=False, sensitive=True)
    text = "\n".join(report.sensitive)
    assert "Fichiers sensibles touchés" in text and "deuxième personne doit relire" in text
    assert "content/helplines.yml" in text and "content/crisis/lexicon.yml" in text
    assert "content/responses/service.yml" not in text


def test_codeowners_requires_safeguarding_review_of_every_sensitive_path(check_content) -> None:
    owners = {}
    for line in (ROOT / ".github" / "CODEOWNERS").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            path, *teams = line.split()
            owners[path.lstrip("/")] = teams
    for sensitive in check_content.SENSITIVE:
        assert owners.get(sensitive) == ["@net-ecoute/safeguarding-reviewers"], sensitive
    assert owners["content/"] == ["@net-ecoute/content-editors"]


def test_the_check_leaves_the_environment_as_it_found_it(ws: Workspace) -> None:
    import os

    before = os.environ.get("CONTENT_DIR")
    ws.check(rasa=True)
    assert os.environ.get("CONTENT_DIR") == before


# ---- issue 11: the classes of mistake that can come back (one editor mistake each)

def test_retired_number_as_a_placeholder(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  - fr: "Appelle le {helpline.school_3020.number}."\n    en: "Call {helpline.school_3020.number}."\n')
    told(ws.check(), "content/responses/extra.yml", 2, "school_3020", "n'est plus en service", "{helpline.e_enfance.number}")


def test_retired_number_as_digits(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  - fr: "Tu peux aussi appeler le 3020 (harcèlement scolaire)."\n    en: "You can also call 3020."\n')
    told(ws.check(), "content/responses/extra.yml", 2, "le numéro 3020 (school_3020) n'est plus en service", "{helpline.e_enfance.number}")


def test_number_not_in_helplines(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  - fr: "Appelle le 0 800 200 000 ou envoie un SMS au 3919."\n    en: "Call {helpline.e_enfance.number}."\n')
    report = ws.check()
    told(report, "content/responses/extra.yml", 2, "le numéro 0 800 200 000 n'est pas dans helplines.yml")
    told(report, "content/responses/extra.yml", 2, "le numéro 3919 n'est pas dans helplines.yml")


def test_ages_amounts_durations_and_articles_are_not_numbers(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  - fr: "Tu as 15 ans, il demande 200 € en 15 min (article 312-10) ; appelle le 3018, 7j/7 de 9h à 23h."\n'
              '    en: "You are 15, he wants 200 € within 15 min; call 3018."\n')
    assert not [p for p in ws.check().errors if p.check == "numbers"]


def test_one_phone_rule_for_the_schema_and_make_check(ws: Workspace) -> None:
    from bot.content_store.schema import phone_problem

    assert phone_problem("999") and phone_problem("0800 20 00 00")
    assert phone_problem("0 800 123 456") is None and phone_problem("01 23 45 67 89") is None and phone_problem("116 006") is None
    ws.edit("content/helplines.yml", 'number: "116 006"', 'number: "999"')
    told(ws.check(), "content/helplines.yml", ws.line_of("content/helplines.yml", '"999"'), "« 999 » n'est pas un numéro français valide")
    ws.edit("content/helplines.yml", 'number: "999"', 'number: "0 800 123 456"')
    assert not ws.check().errors  # a free number written the usual way is accepted by both


def test_vous_in_a_teen_text(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  - fr:\n      teen: "Vous pouvez nous écrire."\n      adult: "Vous pouvez nous écrire."\n    en: "You can write to us."\n')
    told(ws.check(), "content/responses/extra.yml", 3, "le texte teen: vouvoie (« Vous »)")


def test_tu_in_a_parent_text(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  - fr:\n      teen: "Tu peux m\'écrire."\n      adult: "Tu peux m\'écrire quand ton enfant dort."\n    en: "You can write to me."\n')
    told(ws.check(), "content/responses/extra.yml", 4, "le texte adult: tutoie (« Tu »)")


def test_english_with_other_placeholders(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  - fr: "Appelle le {helpline.e_enfance.number}."\n    en: "Call {helpline.child_119.number}."\n')
    told(ws.check(), "content/responses/extra.yml", 3, "le texte anglais (teen) n'a pas les mêmes champs à insérer",
         "il manque {helpline.e_enfance.number}", "en trop {helpline.child_119.number}")


def test_english_text_missing_in_a_teen_adult_text(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml", 'utter_extra:\n  - fr:\n      teen: "Salut."\n      adult: "Bonjour."\n')
    told(ws.check(), "content/responses/extra.yml", 2, "il manque le texte en anglais (en:)")


def test_article_number_in_a_teen_text(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  - fr:\n      teen: "C\'est un délit (article 312-10 du Code pénal)."\n      adult: "C\'est un délit (article 312-10 du Code pénal)."\n'
              '    en: "It is an offence."\n')
    told(ws.check(), "content/responses/extra.yml", 3, "un numéro d'article de loi dans un texte pour les ados", "312-10")


def test_a_checked_fact_without_a_quote(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  source: "https://www.service-public.gouv.fr/particuliers/vosdroits/F1567"\n  verified_on: "2026-11-30"\n'
              '  variants:\n    - fr: "Texte."\n      en: "Text."\n')
    told(ws.check(), "content/responses/extra.yml", 1, "le conseil utter_extra : il manque quote:")


def test_a_checked_fact_without_a_source(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  verified_on: "2026-11-30"\n  quote: "Un mineur peut porter plainte."\n'
              '  variants:\n    - fr: "Texte."\n      en: "Text."\n')
    told(ws.check(), "content/responses/extra.yml", 1, "le conseil utter_extra : il manque source:")


def test_a_quote_without_verified_on(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  source: "https://www.service-public.gouv.fr/particuliers/vosdroits/F1567"\n  quote: "Un mineur peut porter plainte."\n'
              '  variants:\n    - fr: "Texte."\n      en: "Text."\n')
    told(ws.check(), "content/responses/extra.yml", 1, "le conseil utter_extra : il manque verified_on:")


def test_a_file_path_or_http_as_the_source_of_a_fact(ws: Workspace) -> None:
    ws.edit("content/helplines.yml", 'source: "https://3114.fr/que-se-passe-t-il-quand-je-contacte-le-3114/"',
            'source: "docs/dialogue-design.md ; http://3114.fr/que-se-passe-t-il-quand-je-contacte-le-3114/"')
    told(ws.check(), "content/helplines.yml", ws.line_of("content/helplines.yml", "suicide_3114:"),
         "le numéro suicide_3114 : source: doit être une adresse https://")


def test_unverified_is_a_warning_not_an_error(ws: Workspace) -> None:
    ws.append("content/responses/extra.yml",
              'utter_extra:\n  source: "https://example.org/un-article"\n  verified_on: "2026-11-30"\n  unverified: true\n'
              '  variants:\n    - fr: "Texte."\n      en: "Text."\n')
    report = ws.check()
    assert not report.errors
    assert any("utter_extra : à vérifier par une personne (unverified: true)" in p.message for p in report.provenance)


def test_staleness_is_never_an_error(ws: Workspace) -> None:
    report = ws.check(today=dt.date(2031, 1, 1))
    assert not report.errors and any("il y a plus de 12 mois" in p.message for p in report.provenance)
