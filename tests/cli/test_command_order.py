"""``polyret --help`` lists every command once, in the order of the work (COMMAND_ORDER)."""

from __future__ import annotations

import re

import typer
from typer.testing import CliRunner

from polyret.cli import app
from polyret.cli.app import COMMAND_ORDER


def test_command_order_names_every_command_once() -> None:
    registered = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert len(COMMAND_ORDER) == len(set(COMMAND_ORDER))
    assert set(COMMAND_ORDER) == registered


def test_help_lists_the_commands_in_work_order() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    listed = re.findall(r"^│ ([a-z][a-z-]*)\s", result.output, flags=re.MULTILINE)
    assert listed == list(COMMAND_ORDER)
    # the stages in the order a collection goes through them
    for earlier, later in [
        ("datasets", "index"),
        ("search", "fuse"),
        ("rerank", "generate"),
        ("mine", "train"),
        ("train", "run"),
        ("run", "serve"),
    ]:
        assert listed.index(earlier) < listed.index(later)
