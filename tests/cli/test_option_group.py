"""``option_group``: options several commands share, declared once as a dataclass."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from typer.testing import CliRunner

from polyret.cli import app
from polyret.cli.options import option_group
from polyret.cli.train_cmd import TrainRun, distill_command


@dataclass(frozen=True, kw_only=True)
class Where:
    out: Annotated[Path, typer.Option("--out", "-o")]
    overwrite: Annotated[bool, typer.Option()] = False


def _app(seen: list[Where]) -> typer.Typer:
    demo = typer.Typer()

    @demo.command()
    @option_group(Where, param="where")
    def write(*, where: Where, times: Annotated[int, typer.Option()] = 1) -> None:
        seen.extend([where] * times)

    return demo


def test_the_fields_become_options_and_one_instance():
    seen: list[Where] = []
    result = CliRunner().invoke(_app(seen), ["-o", "x", "--overwrite", "--times", "2"])
    assert result.exit_code == 0, result.output
    assert seen == [Where(out=Path("x"), overwrite=True)] * 2


def test_a_field_without_default_is_a_required_option():
    result = CliRunner().invoke(_app([]), ["--overwrite"])
    assert result.exit_code == 2 and "--out" in result.output


def test_train_commands_take_the_shared_options_in_place_of_run():
    parameters = list(inspect.signature(distill_command).parameters)
    shared = [field for field in TrainRun.__dataclass_fields__]
    assert parameters[: len(shared)] == shared and "teacher" in parameters
    result = CliRunner().invoke(app, ["train", "cross-encoder", "--out", "x"])
    assert result.exit_code == 2 and "--data" in result.output
