"""The widget's texts (content/widget/texts.yml) as the widget server reads them."""
from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("widget_server", ROOT / "widget" / "server.py")
server = importlib.util.module_from_spec(spec)
spec.loader.exec_module(server)  # type: ignore[union-attr]


def test_the_shipped_texts_are_complete_and_short() -> None:
    texts = server.check_texts(yaml.safe_load((ROOT / "content" / "widget" / "texts.yml").read_text(encoding="utf-8")))
    for lang, must in (("fr", ["automatique", "gratuit et anonyme", "danger"]), ("en", ["automated", "free and anonymous", "danger"])):
        prechat = " ".join(texts[lang]["prechat"])
        assert all(word in prechat for word in must), lang
        assert "17" in prechat and "112" in prechat
        assert "n'est pas effacé" in texts[lang]["quick_exit_note"] or "is not cleared" in texts[lang]["quick_exit_note"]
        assert "{name}" in texts[lang]["counsellor"]
    assert "nom" not in texts["fr"]["placeholder"]  # never asks for a name


def test_a_broken_edit_keeps_the_last_good_texts(tmp_path: Path) -> None:
    path = tmp_path / "texts.yml"
    good = (ROOT / "content" / "widget" / "texts.yml").read_text(encoding="utf-8")
    path.write_text(good, encoding="utf-8")
    texts = server.Texts(path)
    assert texts.get()["fr"]["quick_exit"] == "Quitter vite"
    path.write_text(good.replace("quick_exit: \"Quitter vite\"", "quick_exit: \"Partir vite\""), encoding="utf-8")
    os.utime(path, (time.time() + 2, time.time() + 2))
    assert texts.get()["fr"]["quick_exit"] == "Partir vite"  # an edit is live
    path.write_text(good.replace("en:\n", "en: [\n"), encoding="utf-8")
    os.utime(path, (time.time() + 4, time.time() + 4))
    assert texts.get()["fr"]["quick_exit"] == "Partir vite"  # broken: the last good texts


def test_both_languages_need_the_same_keys() -> None:
    with pytest.raises(ValueError, match="same keys"):
        server.check_texts({"fr": {"a": "x", "prechat": ["1", "2"]}, "en": {"prechat": ["1", "2"]}})
    with pytest.raises(ValueError, match="2 or 3 lines"):
        server.check_texts({"fr": {"prechat": ["1"]}, "en": {"prechat": ["1"]}})
