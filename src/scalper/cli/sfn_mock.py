"""``scalper sfn-mock``: Step Functions Local mock configurations (MockConfigFile.json).

``scalper sfn-mock check [FILE]`` checks a mock file against the state machine: the file's
format and ranges, its state machine name, that every mocked state is a Task of the
definition (Step Functions Local silently calls the real service for any other name), and
that every mocked response is used.

``scalper sfn-mock run [FILE] [--test-case NAME]`` runs test cases as
``stateMachineArn#TestCase`` executions -- on moto's engine in this process, or on Step
Functions Local with ``--endpoint`` -- and prints the states each one entered, its retries
and how it ended (exit 1 when one did not succeed).

``scalper sfn-mock scaffold --test-case NAME`` writes a starting test case for one path
through the state machine: the Tasks on the path with ``Return`` placeholders shaped like
each integration's result (or a ``Throw`` where the path leaves through a Catch), merged
into an existing mock file when ``--output`` names one. Choose the path with ``--choice
STATE=TARGET`` (the branch each Choice takes; default the first rule), or list it in full
with ``--states A,B,C``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

from scalper.cli import EXIT_OK, EXIT_PROBLEM, UsageError
from scalper.local import moto_internals
from scalper.local.template import TemplateError
from scalper.sfn_mock.asl import Definition, PathError
from scalper.sfn_mock.definition import load_definition
from scalper.sfn_mock.model import MockConfig, MockConfigError, problems_against
from scalper.sfn_mock.moto_hook import mock_config_installed
from scalper.sfn_mock.runner import ExecutionTrace, deploy_state_machine, run_test_case
from scalper.sfn_mock.scaffold import merge_test_case, scaffold_test_case


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sfn-mock`` and its ``scaffold`` sub-command."""
    parser = subparsers.add_parser(
        "sfn-mock",
        help="Step Functions Local mock configurations (MockConfigFile.json)",
        description=(__doc__ or "").replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    scaffold = actions.add_parser(
        "scaffold",
        help="write a starting test case for a path through the state machine",
        description="Write a mock-config test case for one path through the state machine.",
    )
    _add_definition_arguments(scaffold)
    scaffold.add_argument("--test-case", required=True, help="name of the test case to write")
    path = scaffold.add_mutually_exclusive_group()
    path.add_argument(
        "--choice",
        action="append",
        default=[],
        metavar="STATE=TARGET",
        help="at Choice STATE take the branch to TARGET (repeatable; default: first rule)",
    )
    path.add_argument("--states", help="the whole path, comma-separated, from StartAt to an end")
    scaffold.add_argument(
        "-o", "--output", type=Path, help="mock file to merge into (created if absent)"
    )
    scaffold.add_argument(
        "--replace", action="store_true", help="overwrite a test case of the same name"
    )
    scaffold.set_defaults(func=run_scaffold)

    check = actions.add_parser(
        "check",
        help="check a mock file against the state machine (names, states, unused responses)",
        description="Check a MockConfigFile.json against the state machine it tests.",
    )
    _add_mock_file_argument(check)
    _add_definition_arguments(check)
    check.set_defaults(func=run_check)

    run = actions.add_parser(
        "run",
        help="run test cases of a mock file and show the states each one entered",
        description=(
            "Run test cases of a mock file as stateMachineArn#TestCase executions: on moto's "
            "engine in this process (no Docker), or on Step Functions Local with --endpoint."
        ),
    )
    _add_mock_file_argument(run)
    run.add_argument(
        "--template",
        type=Path,
        default=Path("template.yaml"),
        help="SAM template whose state machine to run (default: template.yaml)",
    )
    run.add_argument(
        "--test-case",
        action="append",
        default=[],
        dest="test_cases",
        help="a test case to run (repeatable; default: every test case of the file)",
    )
    run.add_argument(
        "--input",
        type=Path,
        default=Path("events/eventbridge/object-created.json"),
        help="execution input (default: events/eventbridge/object-created.json)",
    )
    run.add_argument(
        "--endpoint",
        help="a Step Functions Local URL (e.g. http://localhost:8083) instead of moto",
    )
    run.add_argument("--timeout", type=float, default=60.0, help="seconds each execution may take")
    run.set_defaults(func=run_run)


def _add_mock_file_argument(parser: argparse.ArgumentParser) -> None:
    """The optional MOCK_FILE positional of ``check`` and ``run``."""
    parser.add_argument(
        "mock_file",
        type=Path,
        nargs="?",
        default=Path("tests/statemachine/MockConfigFile.json"),
        help="the mock file (default: tests/statemachine/MockConfigFile.json)",
    )


def _add_definition_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the definition comes from, as `_definition` reads it: ``--template`` or
    ``--definition`` (with ``--state-machine``)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--template",
        type=Path,
        default=Path("template.yaml"),
        help="SAM template whose state machine to use (default: template.yaml)",
    )
    source.add_argument(
        "--definition", type=Path, help="an ASL file instead (then --state-machine is needed)"
    )
    parser.add_argument(
        "--state-machine",
        help="state machine name in the mock file (default: its deployed name from the template)",
    )


def _definition(args: argparse.Namespace) -> tuple[Definition, str]:
    if args.definition is not None:
        if not args.state_machine:
            raise UsageError("--definition needs --state-machine (the name in the mock file)")
        try:
            text = Path(args.definition).read_text(encoding="utf-8")
            return Definition.from_json(text), str(args.state_machine)
        except OSError as exc:
            raise UsageError(f"{args.definition}: cannot read: {exc.strerror}") from None
        except (json.JSONDecodeError, ValueError) as exc:
            raise UsageError(f"{args.definition}: not an ASL definition: {exc}") from None
    try:
        rendered = load_definition(Path(args.template))
    except TemplateError as exc:
        raise UsageError(str(exc)) from None
    return Definition.from_json(rendered.definition), str(args.state_machine or rendered.name)


def _choices(pairs: list[str]) -> dict[str, str]:
    choices: dict[str, str] = {}
    for pair in pairs:
        state, sep, target = pair.partition("=")
        if not sep or not state or not target:
            raise UsageError(f"--choice {pair!r}: expected STATE=TARGET")
        choices[state.strip()] = target.strip()
    return choices


def run_scaffold(args: argparse.Namespace) -> int:
    """Build the test case, then print it or merge it into ``--output``."""
    definition, machine = _definition(args)
    try:
        if args.states:
            path = [s.strip() for s in str(args.states).split(",") if s.strip()]
        else:
            path = definition.path_by_choices(_choices(args.choice))
        mapping, responses = scaffold_test_case(definition, path, test_case=args.test_case)
        output: Path | None = args.output
        existing = MockConfig.load(output) if output is not None and output.exists() else None
        merged = merge_test_case(
            existing,
            state_machine=machine,
            test_case=args.test_case,
            mapping=mapping,
            responses=responses,
            replace=args.replace,
        )
    except (PathError, MockConfigError) as exc:
        raise UsageError(str(exc)) from None
    document: dict[str, Any] = merged.to_json()
    text = json.dumps(document, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return EXIT_OK
    output.write_text(text, encoding="utf-8")
    sys.stderr.write(
        f"{output}: test case {args.test_case!r} of {machine!r}: "
        f"{' -> '.join(path)} ({len(mapping)} mocked states)\n"
    )
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    """Report every problem of the mock file, one a line; exit 1 when there is any."""
    definition, machine = _definition(args)
    try:
        config = MockConfig.load(args.mock_file)
    except MockConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_PROBLEM
    tasks = {name for name in definition.states if definition.is_task(name)}
    problems = problems_against(config, machine, tasks)
    for problem in problems:
        sys.stderr.write(f"{args.mock_file}: {problem}\n")
    if problems:
        return EXIT_PROBLEM
    cases = config.StateMachines[machine].TestCases
    sys.stdout.write(f"{args.mock_file}: {len(cases)} test cases of {machine!r}, no problems\n")
    return EXIT_OK


def _errors(errors: tuple[str, ...]) -> str:
    """``A, A, B`` as ``A x2, B``: a retried state fails the same way many times."""
    groups: list[tuple[str, int]] = []
    for error in errors:
        if groups and groups[-1][0] == error:
            groups[-1] = (error, groups[-1][1] + 1)
        else:
            groups.append((error, 1))
    return ", ".join(error if n == 1 else f"{error} x{n}" for error, n in groups)


def _describe(trace: ExecutionTrace) -> str:
    """One line: each state entered, its attempts and errors, then how the execution ended."""
    steps = []
    for visit in trace.visits:
        if visit.attempts > 1:
            steps.append(f"{visit.name} ({visit.attempts} attempts: {_errors(visit.errors)})")
        elif visit.errors:
            steps.append(f"{visit.name} ({visit.errors[0]})")
        else:
            steps.append(visit.name)
    ending = trace.status if trace.error is None else f"{trace.status} {trace.error}"
    return f"{' -> '.join(steps)}: {ending}"


def run_run(args: argparse.Namespace) -> int:
    """Run the chosen test cases; exit 1 when any execution did not succeed."""
    try:
        rendered = load_definition(Path(args.template))
        config = MockConfig.load(args.mock_file)
        execution_input = json.loads(Path(args.input).read_text(encoding="utf-8"))
    except (TemplateError, MockConfigError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{args.input}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{args.input}: not JSON: {exc}") from None
    cases = config.StateMachines.get(rendered.name)
    if cases is None:
        raise UsageError(f"{args.mock_file}: no test cases for state machine {rendered.name!r}")
    names = list(args.test_cases) or list(cases.TestCases)
    unknown = [name for name in names if name not in cases.TestCases]
    if unknown:
        raise UsageError(f"{args.mock_file}: no test case {', '.join(map(repr, unknown))}")
    with _backend(args.endpoint, Path(args.mock_file)) as client:
        arn = deploy_state_machine(client, rendered.name, rendered.definition)
        failed = 0
        for name in names:
            trace = run_test_case(client, arn, name, execution_input, deadline_seconds=args.timeout)
            failed += trace.status != "SUCCEEDED"
            sys.stdout.write(f"{name}: {_describe(trace)}\n")
    return EXIT_PROBLEM if failed else EXIT_OK


@contextmanager
def _backend(endpoint: str | None, mock_file: Path) -> Iterator[Any]:
    """A Step Functions client: Step Functions Local at ``endpoint``, or moto with the hook."""
    if endpoint:
        yield boto3.client(
            "stepfunctions",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 -- Step Functions Local ignores it
        )
        return
    from moto import mock_aws  # noqa: PLC0415 -- moto only for the in-process engine

    # The interpreter logs every failure it handles (a Catch, a Fail state) at ERROR with
    # its whole state tree; here those are expected outcomes, summarised per test case.
    interpreter_log = logging.getLogger(moto_internals.STEPFUNCTIONS_LOGGER)
    level = interpreter_log.level
    interpreter_log.setLevel(logging.CRITICAL)
    try:
        with (
            mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
            mock_config_installed(mock_file, wait_scale=0.001),
        ):
            yield boto3.client("stepfunctions", region_name="us-east-1")
    finally:
        interpreter_log.setLevel(level)
