"""Run the built core layer on arm64, under emulation, and compare it with this machine.

``make arm64-check`` (after ``make sam``): the layer `sam build` made for Lambda
(``.aws-sam/build/CoreLayer/python``: arm64 wheels and the engine's cross-compiled module)
validates every file of ``samples/`` with Debian's arm64 CPython 3.13 under
``qemu-aarch64-static``; each summary must equal the one this machine's engine gives.
Lambda's own runtime is not available offline; this is the nearest check that the layer's
binaries load and agree on arm64.

Needs ``qemu-aarch64-static`` and ``dpkg-deb`` (Debian/Ubuntu: ``apt-get install
qemu-user-static``) and the Debian archive (deb.debian.org) to fetch the interpreter once
into ``build/arm64-python``.
"""

from __future__ import annotations

import json
import lzma
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from silent_scalper.engine import SchemaRegistry

from scalper.cli.demo import schema_for_file

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / ".aws-sam" / "build" / "CoreLayer" / "python"
ROOT = REPO / "build" / "arm64-python"
ARCHIVE = "https://deb.debian.org/debian"
SUITE = "trixie"  # Debian 13: CPython 3.13, as Lambda's python3.13 runtime
PACKAGES = (
    "python3.13-minimal",
    "libpython3.13-minimal",
    "libpython3.13-stdlib",
    "libc6",
    "libgcc-s1",
    "libstdc++6",
    "zlib1g",
    "libexpat1",
    "libmpdec4",
    "libssl3t64",
    "libffi8",
    "liblzma5",
    "libbz2-1.0",
    "libzstd1",
    "libuuid1",
    "libsqlite3-0",
    "libcrypt1",
)
# What is compared: everything a summary says, errors included.
PROGRAM = """
import json, sys
from pathlib import Path
from silent_scalper.engine import SchemaRegistry, Limits, validate_stream, _scan
registry = SchemaRegistry.load()
limits = Limits(max_bytes=1 << 30)
out = {"native": _scan.NATIVE}
for arg in sys.argv[1:]:
    name, _, schema_name = arg.partition("=")
    path = Path(name)
    schema = registry.get(schema_name)
    with path.open("rb") as stream:
        summary = validate_stream(stream, key=path.name, schema=schema, limits=limits)
    out[name] = summary.to_dict()
print(json.dumps(out, sort_keys=True, default=str))
"""


def _say(message: str) -> None:
    sys.stdout.write(f"arm64-check: {message}\n")


def _fail(message: str) -> None:
    sys.stderr.write(f"arm64-check: {message}\n")
    raise SystemExit(2)


def _interpreter() -> Path:
    """Debian's arm64 python3.13 and the libraries it loads, fetched once."""
    python = ROOT / "usr" / "bin" / "python3.13"
    if python.is_file():
        return python
    if shutil.which("dpkg-deb") is None:
        _fail("dpkg-deb is needed to unpack Debian's arm64 python3.13 (Debian/Ubuntu: dpkg)")
    index_url = f"{ARCHIVE}/dists/{SUITE}/main/binary-arm64/Packages.xz"
    with urllib.request.urlopen(index_url, timeout=120) as answer:  # noqa: S310 - fixed https
        index = lzma.decompress(answer.read()).decode()
    files: dict[str, str] = {}
    for block in index.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != " "
        )
        if fields.get("Package") in PACKAGES:
            files[fields["Package"]] = fields["Filename"]
    missing = set(PACKAGES) - set(files)
    if missing:
        _fail(f"not in Debian {SUITE}'s arm64 index: {sorted(missing)}")
    debs = ROOT.parent / "arm64-debs"
    debs.mkdir(parents=True, exist_ok=True)
    for name, filename in sorted(files.items()):
        target = debs / Path(filename).name
        if not target.is_file():
            urllib.request.urlretrieve(f"{ARCHIVE}/{filename}", target)  # noqa: S310
        subprocess.run(["dpkg-deb", "-x", str(target), str(ROOT)], check=True)  # noqa: S603,S607
        _say(f"unpacked {name}")
    # The loader is looked up at /lib; Debian keeps it under /usr/lib.
    if not (ROOT / "lib").exists():
        (ROOT / "lib").symlink_to("usr/lib")
    return python


def main() -> int:
    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    if qemu is None:
        _fail("qemu-aarch64-static is needed (Debian/Ubuntu: apt-get install qemu-user-static)")
    if not (LAYER / "silent_scalper" / "engine" / "_native.abi3.so").is_file():
        _fail(f"no built layer at {LAYER}: run `make sam` first")
    samples = sorted(
        str(p.relative_to(REPO))
        for p in (REPO / "samples").rglob("*")
        if p.suffix in {".csv", ".json", ".ndjson", ".jsonl"}
    )
    # Files large enough for the batch paths, 1 % of their records invalid.
    sys.path.insert(0, str(REPO))
    from benchmarks.generate import Format, generate  # noqa: PLC0415 - the repo's generator

    made = ROOT.parent / "arm64-files"
    made.mkdir(parents=True, exist_ok=True)
    for fmt in Format:
        path = generate(made, fmt, 1_000_000, invalid=True).path
        samples.append(str(path.relative_to(REPO)))
    # Each file with the schema `make demo` gives it (a folder named after a schema).
    known = frozenset(SchemaRegistry.load().names)
    files = [f"{name}={schema_for_file(Path(name), known) or 'job.v1'}" for name in samples]
    python = _interpreter()
    emulated = subprocess.run(  # noqa: S603 - fixed programs on the repository's files
        [
            qemu,
            "-L",
            str(ROOT),
            "-E",
            f"PYTHONPATH={LAYER}",
            "-E",
            "PYTHONDONTWRITEBYTECODE=1",
            str(python),
            "-c",
            PROGRAM,
            *files,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if emulated.returncode != 0:
        _fail(f"the layer failed on arm64:\n{emulated.stderr[-2000:]}")
    here = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROGRAM, *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "layers" / "core")},
    )
    arm, host = json.loads(emulated.stdout), json.loads(here.stdout)
    if not arm.pop("native"):
        _fail("the layer's compiled module did not load on arm64")
    host.pop("native")
    differing = [name for name in samples if arm[name] != host[name]]
    if differing:
        _fail(f"arm64 and this machine disagree on {differing}")
    _say(
        f"{len(samples)} files, the same summaries on arm64 (compiled module loaded) as on "
        "this machine"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
