"""The cold-start benchmark measures handler imports from a layer it finishes step by step."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report
from benchmarks.cold_start import FIRST_FILES, HANDLERS, VARIANTS, cold_start_section

REPO = Path(__file__).resolve().parents[3]
# A handler that imports a module only the layer holds: found, the measurement saw the
# layer (and not the environment's packages).
_APP = "import stubdep\n"


def _stub_layer(python_dir: Path) -> None:
    """A layer of one module and the bundled job schema, copied (the real one is a pip
    install of the requirements and the core package: too slow for a unit test)."""
    schemas = python_dir / "silent_scalper" / "schemas"
    schemas.mkdir(parents=True)
    (python_dir / "stubdep.py").write_text("VALUE = 1\n")
    (schemas / "job.v1.json").write_bytes((REPO / "schemas" / "job.v1.json").read_bytes())


def _measured(
    tmp_path: Path, layer: Callable[[Path], None], first_files: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """The section for one stub handler (``_APP``) in two rounds."""
    functions = tmp_path / "functions"
    (functions / "stub").mkdir(parents=True)
    (functions / "stub" / "app.py").write_text(_APP)
    return cold_start_section(
        tmp_path / "work",
        repeats=2,
        handlers=("stub",),
        layer=layer,
        functions_dir=functions,
        first_files=first_files,
    )


def test_given_a_layer_then_each_step_is_measured_and_applied(tmp_path: Path) -> None:
    """Given a layer and a handler, when the benchmark runs, then the handler is imported
    in every round from each step's own copy of the layer, in processes that see that
    layer: as installed, with the schemas' checked list, and with the bytecode too, as
    the build finishes it."""
    section = _measured(tmp_path, _stub_layer, {})

    assert [r["layer"] for r in section["rows"]] == [name for name, _ in VARIANTS]
    assert all(len(r["runs"]) == 2 and r["cpu_seconds"] > 0 for r in section["rows"])
    steps = [tmp_path / "work" / name.replace(" ", "-") / "python" for name, _ in VARIANTS]
    listed = [(d / "silent_scalper" / "schemas" / "checked.sha256").is_file() for d in steps]
    compiled = [
        Path(importlib.util.cache_from_source(str(d / "stubdep.py"))).is_file() for d in steps
    ]
    assert (listed, compiled) == ([False, True, True], [False, False, True])
    checked = (steps[-1] / "silent_scalper" / "schemas" / "checked.sha256").read_text()
    assert checked.endswith("  job.v1.json\n")
    assert "| stub |" in report.cold_start_md(section)
    json.dumps(section)  # saved with the results


def test_given_a_first_file_of_a_kind_then_its_imports_are_measured_on_the_shipped_layer(
    tmp_path: Path,
) -> None:
    """Given a handler whose first file of a kind imports more (the ValidateSchema
    function's first CSV file: pyarrow), when the benchmark runs, then that import is
    measured once, after the handler's, on the layer as shipped; a first file of a
    handler not measured is left out."""
    # Holds only after the handler's import, in the shipped layer (the one whose modules
    # come with their bytecode: the interpreter runs with -B and writes none).
    then = (
        "import importlib.util, os, app, stubdep\n"
        "assert app.stubdep is stubdep\n"
        "assert os.path.isfile(importlib.util.cache_from_source(stubdep.__file__))\n"
        "import stubdep_later\n"
    )

    def layer(python_dir: Path) -> None:
        _stub_layer(python_dir)
        (python_dir / "stubdep_later.py").write_text("VALUE = 2\n")

    first_files = {"stub, then its first file": ("stub", then), "other": ("absent", then)}
    section = _measured(tmp_path, layer, first_files)

    rows = section["rows"]
    assert len(rows) == len(VARIANTS) + 1
    # Measured right after its handler on the shipped layer, round by round.
    handler, first = rows[-2], rows[-1]
    assert (handler["layer"], handler["handler"]) == (VARIANTS[-1][0], "stub")
    assert (first["layer"], first["handler"]) == (VARIANTS[-1][0], "stub, then its first file")
    assert len(first["runs"]) == 2
    assert first["cpu_seconds"] > 0
    # What it adds: the median of each round's difference from its handler's run.
    differences = [a - b for a, b in zip(first["runs"], handler["runs"], strict=True)]
    assert first["extra_cpu_seconds"] == pytest.approx(sum(differences) / 2)
    assert "extra_cpu_seconds" not in handler
    table = report.cold_start_md(section)
    assert f"| stub, then its first file | {first['cpu_seconds']:.3f} | " in table
    assert f"{first['extra_cpu_seconds']:+.3f} |" in table


def test_given_the_shipped_first_files_then_each_names_a_measured_handler() -> None:
    """The first files measured by default belong to handlers the benchmark imports, and
    their code loads the readers through the engine's public call."""
    assert FIRST_FILES
    for handler, then in FIRST_FILES.values():
        assert handler in HANDLERS
        assert "load_readers(" in then


def test_given_a_handler_the_layer_cannot_import_then_the_measurement_fails(
    tmp_path: Path,
) -> None:
    functions = tmp_path / "functions"
    (functions / "stub").mkdir(parents=True)
    (functions / "stub" / "app.py").write_text("import msgspec\n")  # in the venv only

    with pytest.raises(RuntimeError, match="importing stub: ModuleNotFoundError"):
        cold_start_section(
            tmp_path / "work",
            repeats=1,
            handlers=("stub",),
            layer=_stub_layer,
            functions_dir=functions,
        )
