"""The README's Python quickstart runs as written and its claims hold."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_starts_with_the_two_commands():
    lines = [line for line in README.read_text().splitlines() if line.startswith("make ")]
    assert [line.split()[1] for line in lines[:2]] == ["demo", "test"]


def test_python_quickstart_runs(monkeypatch, polyret_cache, fast_encoder, capsys):
    monkeypatch.setenv("POLYRET_CACHE", str(polyret_cache))  # reuse the session's export
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)  # our own README, run as written
    assert namespace["report"].mean["ndcg@10"] > 0.8
    assert "hybrid" in capsys.readouterr().out
