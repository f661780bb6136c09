"""``scalper sfn-mock``: Step Functions Local mock configurations (MockConfigFile.json).

``scalper sfn-mock check [FILE]`` checks a mock file against the state machine: the file's
format and ranges, its state machine name, that every mocked state is a Task of the
definition (Step Functions Local silently calls the real service for any other name), and
that every mocked response is used.

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
import sys
from pathlib import Path
from typing import Any

from scalper.cli import EXIT_OK, EXIT_PROBLEM, UsageError
from scalper.local.template import TemplateError
from scalper.sfn_mock.asl import Definition, PathError
from scalper.sfn_mock.definition import load_definition
from scalper.sfn_mock.model import MockConfig, MockConfigError, problems_against
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
    source = scaffold.add_mutually_exclusive_group()
    source.add_argument(
        "--template",
        type=Path,
        default=Path("template.yaml"),
        help="SAM template whose state machine to use (default: template.yaml)",
    )
    source.add_argument(
        "--definition", type=Path, help="an ASL file instead (then --state-machine is needed)"
    )
    scaffold.add_argument(
        "--state-machine",
        help="state machine name in the mock file (default: its deployed name from the template)",
    )
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
    check.add_argument(
        "mock_file",
        type=Path,
        nargs="?",
        default=Path("tests/statemachine/MockConfigFile.json"),
        help="the mock file (default: tests/statemachine/MockConfigFile.json)",
    )
    check_source = check.add_mutually_exclusive_group()
    check_source.add_argument(
        "--template",
        type=Path,
        default=Path("template.yaml"),
        help="SAM template whose state machine to use (default: template.yaml)",
    )
    check_source.add_argument(
        "--definition", type=Path, help="an ASL file instead (then --state-machine is needed)"
    )
    check.add_argument(
        "--state-machine",
        help="state machine name in the mock file (default: its deployed name from the template)",
    )
    check.set_defaults(func=run_check)


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
