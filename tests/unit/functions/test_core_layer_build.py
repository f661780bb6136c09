"""What `sam build` made of the core layer (`make test` builds it before the tests):
Lambda's arm64 code only, the engine's compiled module among it."""

from __future__ import annotations

import importlib.util
import json
import marshal
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from silent_scalper.engine.schemas import CHECKED_FILE, document_digest

REPO = Path(__file__).resolve().parents[3]
LAYER = REPO / ".aws-sam" / "build" / "CoreLayer" / "python"
MODULE = LAYER / "silent_scalper" / "engine" / "_native.abi3.so"
_EM_AARCH64 = 183
_ET_DYN = 3


@pytest.fixture(scope="module")
def layer() -> Path:
    if not LAYER.is_dir():
        pytest.skip(f"no built layer at {LAYER}: `make sam` (or `make test`) builds it")
    return LAYER


def _elf_machine(path: Path) -> tuple[int, int] | None:
    """(e_type, e_machine) of a 64-bit little-endian ELF file, else None."""
    head = path.read_bytes()[:20]
    if head[:6] != b"\x7fELF\x02\x01":
        return None
    e_type, e_machine = struct.unpack_from("<HH", head, 16)
    return e_type, e_machine


def test_given_the_built_layer_then_the_engine_module_is_an_arm64_shared_object(
    layer: Path,
) -> None:
    assert _elf_machine(MODULE) == (_ET_DYN, _EM_AARCH64)
    assert (layer / "silent_scalper" / "engine" / "_scan.py").is_file()
    assert not (layer / "silent_scalper" / "engine" / "_native.c").exists()


def test_given_the_built_layer_then_every_shared_object_in_it_is_for_arm64(layer: Path) -> None:
    machines = {p.relative_to(layer): _elf_machine(p) for p in layer.rglob("*.so*") if p.is_file()}
    assert machines
    assert {m for _, m in filter(None, machines.values())} == {_EM_AARCH64}


def test_given_the_built_module_then_it_needs_only_the_stable_abi_and_an_old_glibc(
    layer: Path,
) -> None:
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) is not installed")
    listing = subprocess.run(
        [readelf, "--dyn-syms", "--wide", str(MODULE)], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in listing.splitlines() if " UND " in line]
    undefined = [row[7] for row in rows if len(row) > 7]
    python = [s for s in undefined if "@" not in s]
    libc = [s for s in undefined if "@" in s]
    assert python
    # Every Python symbol must be in the stable ABI: CPython's own list when its test
    # package is installed, else its public names (Py*) and the two refcount functions
    # the limited API's Py_INCREF/Py_DECREF call from 3.12 on (Include/object.h).
    try:
        from test import test_stable_abi_ctypes
    except ImportError:
        pass
    else:
        stable_abi = set(test_stable_abi_ctypes.SYMBOL_NAMES)
        assert set(python) <= stable_abi, set(python) - stable_abi
    refcounts = {"_Py_IncRef", "_Py_DecRef"}
    assert all(s.startswith("Py") or s in refcounts for s in python), python
    # Lambda's python3.13 runtime is Amazon Linux 2023 (glibc 2.34).
    versions = {tuple(map(int, re.findall(r"\d+", s.split("@")[-1]))) for s in libc}
    assert all(v <= (2, 28) for v in versions), versions


def test_given_the_built_layer_then_its_schemas_were_checked_at_build(layer: Path) -> None:
    """The layer's schema folder holds the checked list naming every bundled schema by
    its digest, so the functions' cold starts skip the meta-schema check."""
    folder = layer / "silent_scalper" / "schemas"
    listed = (folder / CHECKED_FILE).read_text(encoding="utf-8").splitlines()
    bundled = sorted((REPO / "schemas").glob("*.json"))
    assert bundled
    assert sorted(listed) == sorted(
        f"{document_digest(json.loads(p.read_text(encoding='utf-8')))}  {p.name}" for p in bundled
    )


def _is_test_module(path: Path) -> bool:
    return any(part in ("test", "tests") for part in path.parts)


def test_given_the_built_layer_then_every_module_is_compiled_for_a_read_only_file_system(
    layer: Path,
) -> None:
    """Lambda's file system is read-only but for /tmp, so the layer ships its bytecode:
    every module (test folders aside) has a CPython 3.13 .pyc beside it, hash-based and
    unchecked, whose hash is that of the source shipped, naming its /opt/python path."""
    sources = [p for p in layer.rglob("*.py") if not _is_test_module(p.relative_to(layer))]
    assert len(sources) > 500
    for source in sources:
        pyc = Path(importlib.util.cache_from_source(str(source)))
        data = pyc.read_bytes()
        assert data[:4] == importlib.util.MAGIC_NUMBER, source
        assert int.from_bytes(data[4:8], "little") == 0b01, source  # hash-based, unchecked
        assert data[8:16] == importlib.util.source_hash(source.read_bytes()), source
    engine = layer / "silent_scalper" / "engine" / "schemas.py"
    pyc = Path(importlib.util.cache_from_source(str(engine)))
    code = marshal.loads(pyc.read_bytes()[16:])
    assert code.co_filename == f"/opt/python/{engine.relative_to(layer)}"


def test_given_the_build_then_a_function_with_the_layer_fits_lambdas_unzipped_limit(
    layer: Path,
) -> None:
    """A function's code and its layers together are at most 250 MB unzipped (read as
    10**6 bytes, the stricter reading), bytecode included."""

    def size(folder: Path) -> int:
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

    functions = [p for p in (REPO / ".aws-sam" / "build").iterdir() if p.name.endswith("Function")]
    assert functions
    assert size(layer.parent) + max(map(size, functions)) <= 250 * 10**6
