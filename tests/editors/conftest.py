"""Editors' tooling tests: every check gets a realistic editor mistake, on a private copy."""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def check_content() -> ModuleType:
    return load_script("check_content")


@pytest.fixture(scope="session")
def preview() -> ModuleType:
    return load_script("preview")


class Workspace:
    """A copy of content/, bot/data/ and the domain that a test may break."""

    def __init__(self, root: Path, module: ModuleType) -> None:
        self.root = root
        self.module = module
        self.content = root / "content"
        self.data = root / "data"
        self.domain = root / "domain.yml"
        shutil.copytree(ROOT / "content", self.content)
        shutil.copytree(ROOT / "bot" / "data", self.data)
        shutil.copy(ROOT / "bot" / "domain.yml", self.domain)

    def edit(self, relative: str, old: str, new: str, count: int = 1) -> None:
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    def append(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(before + text, encoding="utf-8")

    def line_of(self, relative: str, needle: str) -> int:
        for number, line in enumerate((self.root / relative).read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return number
        raise AssertionError(f"{needle!r} not in {relative}")

    def paths(self):
        m = self.module
        return m.Paths(self.content, self.data, self.domain, ROOT / "config.yml",
                       [ROOT / "bot" / "actions", ROOT / "bot" / "rasa_addons"], self.root)

    def check(self, rasa: bool = False, today=None):
        return self.module.run_checks(self.paths(), rasa=rasa, sensitive=False, today=today)


@pytest.fixture
def ws(tmp_path: Path, check_content: ModuleType) -> Workspace:
    return Workspace(tmp_path, check_content)
