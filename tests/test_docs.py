"""The documentation: the generated references match the code, the site builds with `mkdocs build --strict`
(no broken link, anchor or page), and the README stays short and quotes the results page."""

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_and_config_references_match_the_code():
    gen = _gen_docs()
    for path, text in gen.pages().items():
        assert path.exists(), f"{path.relative_to(ROOT)} is missing: run python scripts/gen_docs.py"
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is out of date: run python scripts/gen_docs.py"


def test_every_config_key_has_a_meaning():
    assert _gen_docs().missing_meanings() == [], "add a comment above each such field in src/infogan/config.py"


def test_references_cover_every_subcommand_and_key():
    from infogan.cli import build_parser
    from infogan.config import Config

    cli = (ROOT / "docs" / "reference" / "cli.md").read_text()
    gen = _gen_docs()
    for name, _, parser in gen._subcommands(build_parser()):
        assert f"## infogan {name}\n" in cli, name
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in cli.split(f"## infogan {name}\n", 1)[1], (name, option)
    config = (ROOT / "docs" / "reference" / "config.md").read_text()
    for section, value in vars(Config()).items():
        for key in vars(value):
            assert f"| `{section}.{key}` |" in config, f"{section}.{key}"


def test_gen_docs_check_fails_on_a_stale_page(tmp_path, monkeypatch):
    gen = _gen_docs()
    stale = tmp_path / "cli.md"
    stale.write_text("# CLI reference\n\nhand-written\n")
    monkeypatch.setattr(gen, "CLI_MD", stale)
    monkeypatch.setattr(gen, "CONFIG_MD", tmp_path / "config.md")
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    assert gen.main(["--check"]) == 1
    assert stale.read_text() == "# CLI reference\n\nhand-written\n"  # --check never writes
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0
    assert stale.read_text() == gen.cli_markdown()


def test_mkdocs_build_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs or mkdocs-material is not installed (pip install -e '.[test]' installs both)")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "reference" / "cli" / "index.html").exists()


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    assert [p for p in pages if f": {p}" not in nav] == []


def test_design_page_names_code_that_exists():
    names = set(re.findall(r"`(infogan(?:\.\w+)+)`", (ROOT / "docs" / "design.md").read_text()))
    assert len(names) >= 8
    for name in sorted(names):
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
                break
            except ModuleNotFoundError:
                continue
        for attr in parts[cut:]:
            assert hasattr(obj, attr), f"docs/design.md names {name}, which no longer exists"
            obj = getattr(obj, attr)


def test_readme_is_at_most_200_lines():
    assert len(README.read_text().splitlines()) <= 200


def test_readme_links_to_files_that_exist():
    for target in re.findall(r"\]\(((?:docs|src|scripts|benchmarks)/[^)#\s]+)", README.read_text()):
        assert (ROOT / target).exists(), target


def _results_table(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| seed | "))  # the first: the default's
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return lines[start:end]


def test_readme_results_table_is_the_results_page_table():
    results = (ROOT / "docs" / "results.md").read_text()
    table = _results_table(README.read_text())
    assert len(table) >= 7
    assert table == _results_table(results)
