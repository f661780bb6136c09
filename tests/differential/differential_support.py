"""The oracle, the mutations and the deliberate differences of the differential suite.

The oracle is ``jsonschema`` Draft 2020-12 with real format checks: ``date-time`` by
``rfc3339-validator`` (what jsonschema's FormatChecker uses when it is installed) and
``email`` by ``email-validator`` (no DNS). Instances are read with numbers as ``Decimal``
(JSON numbers are decimal values: comparing them as floats is a Python artefact), and
``integer`` is JSON Schema's: any number with a zero fractional part.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

import jsonschema
from email_validator import EmailNotValidError, validate_email
from silent_scalper.engine import CompiledSchema, Limits, ValidationSummary, validate_stream

REPO = Path(__file__).resolve().parents[2]
#: Every bundled schema: a schema added to schemas/ is picked up without a change here.
SCHEMA_FILES = sorted((REPO / "schemas").glob("*.json"))


# -- records as written ----------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One record as (key, JSON text of the value) pairs, and what was mutated."""

    pairs: tuple[tuple[str, str], ...]
    kind: str  # "none", "set", "remove", "repeat" (a repeated key) or "extra"
    prop: str | None = None
    value: str | None = None  # the JSON text set (kind "set" / "repeat")

    def json_text(self) -> str:
        """The record as one line of JSON, values exactly as written."""
        return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in self.pairs) + "}"

    def describe(self) -> str:
        """What the case is, for a failure message."""
        what = {"none": "unmutated", "remove": f"without {self.prop}"}.get(
            self.kind, f"{self.kind} {self.prop} = {self.value}"
        )
        return f"{what}: {self.json_text()}"


def json_value(value: Any) -> str:
    """A Python value as JSON text (non-ASCII kept as UTF-8, as files usually have it)."""
    return json.dumps(value, ensure_ascii=False)


def _props(document: dict[str, Any]) -> dict[str, Any]:
    props = document.get("properties", {})
    return props if isinstance(props, dict) else {}


def _kind(sub: Any) -> str | None:
    """The non-null JSON type of a property schema (a string property if only an enum)."""
    if not isinstance(sub, dict):
        return None
    kind = sub.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "enum" in sub:
        return "string"
    return kind if isinstance(kind, str) else None


_GENERIC = ["null", "true", "false", '"x"', '""', "0", "-1", "1.5", "[]", "{}", '"\\ud800x"']
_DATE_TIMES = [
    "2026-01-05T09:30:00Z",
    "2026-01-05t09:30:00.5z",
    "2026-01-05 09:30:00Z",
    "2026-01-05T09:30:00+0530",
    "2026-01-05T09:30:00+05:30",
    "2026-01-05T09:30:00-00:00",
    "2026-01-05T09:30:00",
    "2026-01-05",
    "2024-02-29T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-12-31T23:59:60Z",
    "2026-01-05T24:00:00Z",
    "2026-01-05T09:60:00Z",
    "2026-01-05T09:30:00+24:00",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-01-05T09:30:00.123456789Z",
    "2026-01-05T09:30:00Z\n",
    "2026-01-05T09:30:00.Z",
    "1767605400",
]
_EMAILS = [
    "a@b.co",
    "first.last+tag@mail.example.org",
    "a@bücher.example",
    "ü@b.co",
    ".a@b.co",
    "a.@b.co",
    "a..b@c.de",
    "a@-b.co",
    "a@b-.co",
    "a@b..co",
    "a@b",
    "a@b.co.",
    "a" * 64 + "@b.co",
    "a" * 65 + "@b.co",
    "a@" + "b" * 63 + ".co",
    "a@" + "b" * 64 + ".co",
    # The whole address at 254 and 255 characters (each part within its own limit).
    "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".cccccc",
    "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".ccccccc",
    "a\u200bb@c.de",
    "a@b\u200b.de",
    "a b@c.de",
    '"a"@b.co',
    "a@[127.0.0.1]",
    "a@b_c.de",
    "A!#$%&'*+/=?^_`{|}~-@b.co",
    "a@b.co\n",
    "@b.co",
    "a@",
]


def number_edges(sub: dict[str, Any], kind: str) -> list[str]:
    out = [
        "1e400",
        "-1e400",
        "-1e-400",
        "1e-400",
        "1e2",
        "1E+2",
        "-0",
        "-0.0",
        "9" * 30,
        "9" * 4301,
    ]
    for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = sub.get(keyword)
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            continue
        b = Decimal(repr(bound)) if isinstance(bound, float) else Decimal(bound)
        for text in (
            str(b),
            f"{b}.0" if isinstance(bound, int) else str(b),
            str(b - 1),
            str(b + 1),
            str(b - Decimal("1e-17")),
            str(b + Decimal("1e-17")),
            str(b - Decimal("1e-400")),
            str(b + Decimal("0.5")),
        ):
            out.append(text)
    if kind == "number":
        out += ["0.1", "1.7976931348623157e308", "1.7976931348623159e308", "2.5e-324"]
    return out


def _string_edges(sub: dict[str, Any], current: Any) -> list[str]:
    base = current if isinstance(current, str) else "x"
    out = [base + "\n", base.lower(), base.upper(), base[:-1], base + "x", " " + base, base * 40]
    if "maxLength" in sub:
        out += [
            "x" * sub["maxLength"],
            "x" * (sub["maxLength"] + 1),
            "\U0001f600" * sub["maxLength"],
        ]
    if "minLength" in sub:
        out += ["x" * max(0, sub["minLength"] - 1)]
    for value in sub.get("enum", []):
        if isinstance(value, str):
            out += [value, value.upper(), value + " "]
    if sub.get("format") == "date-time":
        out += _DATE_TIMES
    if sub.get("format") == "email":
        out += _EMAILS
    return [json_value(v) for v in out]


def mutations(document: dict[str, Any], record: dict[str, Any]) -> list[Case]:
    """Every mutation of ``record`` (one field at a time) the suite can draw."""
    base = tuple((k, json_value(v)) for k, v in record.items())
    cases = [Case(base, "none")]
    for prop, sub in _props(document).items():
        kind = _kind(sub)
        values = list(_GENERIC)
        if kind in ("integer", "number"):
            values += number_edges(sub, kind)
        elif kind == "string" and isinstance(sub, dict):
            values += _string_edges(sub, record.get(prop))
        rest = tuple(p for p in base if p[0] != prop)
        cases.append(Case(rest, "remove", prop))
        cases += [Case((*rest, (prop, v)), "set", prop, v) for v in dict.fromkeys(values)]
        if prop in record:
            first = json_value(record[prop])
            for v in dict.fromkeys([first, *values[:6]]):
                cases.append(Case((*base, (prop, v)), "repeat", prop, v))
    cases.append(Case((*base, ("zz_extra", "1")), "extra", "zz_extra", "1"))
    return cases


# -- running the engine ------------------------------------------------------------------
#: Room for every error of the suite's small files.
LIMITS = Limits(max_bytes=1 << 30, max_errors=10_000)
#: No error kept: every invalid record is past the kept errors, so counted, not worded.
COUNTED = Limits(max_bytes=1 << 30, max_errors=0)


def validate(
    schema: CompiledSchema, text: str, key: str, limits: Limits = LIMITS
) -> ValidationSummary:
    """The engine's summary of ``text`` as the file ``key``."""
    return validate_stream(io.BytesIO(text.encode()), key=key, schema=schema, limits=limits)


def valid_at(summary: ValidationSummary, record: int) -> bool:
    """Whether record ``record`` (1-based) of a file got no error (nor the whole file)."""
    return not any(e.record in (None, record) for e in summary.errors)


def one_property_document(prop: str, sub: dict[str, Any]) -> dict[str, Any]:
    """A closed record schema of a required string ``k`` (the fillers' only value) and
    ``prop`` ruled by ``sub``, optional."""
    return {
        "type": "object",
        "properties": {"k": {"type": "string"}, prop: sub},
        "required": ["k"],
        "additionalProperties": False,
    }


#: Where the record under test sits among its fillers (1-based): past the first windows a
#: refused block is sifted in, and not last.
AMID = 71


def every_format_verdicts(
    schema: CompiledSchema,
    document: dict[str, Any],
    case: Case,
    fillers: Sequence[Case] = (Case((("k", '"a"'),), "none"),),
) -> dict[str, bool]:
    """The engine's verdict on the case's record alone (NDJSON) and as record ``AMID`` of
    77 (NDJSON, a JSON array, and CSV when a row can say the same), the others taken in
    turn from ``fillers``, which must be valid: an error on any of them fails the test,
    so a batch path that refuses a neighbour of the record is caught too."""
    text = case.json_text()
    around = [fillers[i % len(fillers)].json_text() for i in range(76)]
    lines = [*around[: AMID - 1], text, *around[AMID - 1 :]]
    files = {
        "ndjson line 71": ("\n".join(lines) + "\n", "r.ndjson"),
        "json array at 70": ("[" + ",".join(lines) + "]", "r.json"),
    }
    header, row = csv_header(document), csv_row(document, case)
    rows = [csv_row(document, f) for f in fillers]
    if header is not None and row is not None and None not in rows:
        cells = [rows[i % len(rows)] for i in range(76)]
        cells.insert(AMID - 1, row)
        files["csv row 71"] = (",".join(header) + "\n" + "\n".join(cells) + "\n", "r.csv")
    out = {"ndjson": validate(schema, text, "r.ndjson").valid}
    for name, (content, key) in files.items():
        summary = validate(schema, content, key)
        strays = [e for e in summary.errors if e.record not in (None, AMID)]
        assert not strays, f"{name}: a filler record was refused: {strays[0]}"
        out[name] = valid_at(summary, AMID)
    return out


def assert_the_oracles_verdict(
    schema: CompiledSchema,
    document: dict[str, Any],
    case: Case,
    verdict: Callable[[str], bool | None],
    fillers: Sequence[Case] = (Case((("k", '"a"'),), "none"),),
) -> None:
    """Every format gives the case's record one verdict (:func:`every_format_verdicts`),
    and it is the oracle's (``verdict``: :func:`oracle` of ``document``, built once per
    document) unless a deliberate difference explains it."""
    expected = verdict(case.json_text())
    verdicts = every_format_verdicts(schema, document, case, fillers)
    assert len(set(verdicts.values())) == 1, f"formats disagree on {case.value}: {verdicts}"
    engine = next(iter(verdicts.values()))
    if expected is not None and engine != expected:
        assert explained(case, document) is not None, (
            f"engine says {'valid' if engine else 'invalid'}, JSON Schema says {expected}: "
            f"{case.prop} = {case.value} under {_props(document).get(case.prop or '')}"
        )


# -- CSV: only what a row can spell ----------------------------------------------------
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")


def csv_header(document: dict[str, Any]) -> list[str] | None:
    """The CSV columns of a flat object schema, or None if its records are not CSV."""
    props = _props(document)
    if document.get("type") != "object" or not props:
        return None
    if any(_kind(sub) not in ("string", "integer", "number", "boolean") for sub in props.values()):
        return None
    return list(props)


def csv_row(document: dict[str, Any], case: Case) -> str | None:
    """The record as a CSV row under :func:`csv_header`, or None when a row cannot say the
    same thing as the JSON text: a repeated or unknown key, a null, an object or an array,
    an empty string (an empty cell is an absent value), a value whose JSON type is not
    its column's (a cell is read by its column's type), a NUL or a lone surrogate."""
    header = csv_header(document)
    if header is None or case.kind == "repeat":
        return None
    props = _props(document)
    cells = dict.fromkeys(header, "")
    for key, text in case.pairs:
        if key not in props:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None  # beyond Python's integer digits: not the point of a CSV case
        kind = _kind(props[key])
        if kind == "string" and isinstance(value, str) and value:
            if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
                return None
            cells[key] = value
        elif _spells(kind, text, value):
            cells[key] = text
        else:
            return None
    return ",".join(_quoted(cells[c]) for c in header)


def _spells(kind: str | None, text: str, value: Any) -> bool:
    """Whether a non-string column's cell can be the value's JSON text as written."""
    if kind in ("integer", "number"):
        return _NUMBER.match(text) is not None
    return kind == "boolean" and isinstance(value, bool)


def _quoted(cell: str) -> str:
    if any(c in cell for c in ',"\r\n') or cell != cell.strip(" "):
        return '"' + cell.replace('"', '""') + '"'
    return cell


# -- the oracle ------------------------------------------------------------------------
def _is_integer(_checker: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()


def _email(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        validate_email(
            value,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError:
        return False
    return True


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()  # date-time: rfc3339-validator, as installed
    checker.checks("email")(_email)
    return checker


_ORACLE = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def oracle(document: dict[str, Any]) -> Callable[[str], bool | None]:
    """The oracle's verdict on a record's JSON text; None when Python cannot read it."""
    validator = _ORACLE(document, format_checker=_format_checker())

    def verdict(text: str) -> bool | None:
        try:
            instance = json.loads(text, parse_float=Decimal)
        except ValueError:
            return None
        # Decimal's default context rounds to 28 digits and cannot take the remainder of
        # 1e400 by 10**30: multipleOf is computed exactly.
        with localcontext(_EXACT):
            return bool(validator.is_valid(instance))

    return verdict


def email_refusal(value: str) -> str:
    """email-validator's reason for refusing ``value`` ("" if it accepts it)."""
    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return str(exc)
    return ""


# -- deliberate differences ------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    """A place where the engine deliberately disagrees with the oracle, and why."""

    name: str
    engine: str
    reason: str
    applies: Callable[[Case, dict[str, Any]], bool]


def _value(case: Case) -> Any:
    try:
        return json.loads(case.value) if case.value is not None else None
    except ValueError:
        return None


def _sub(case: Case, document: dict[str, Any]) -> dict[str, Any]:
    sub = _props(document).get(case.prop or "", {})
    return sub if isinstance(sub, dict) else {}


def _integral_spelling(case: Case, document: dict[str, Any]) -> bool:
    if case.kind != "set" or _kind(_sub(case, document)) != "integer" or case.value is None:
        return False
    try:
        value = Decimal(case.value)
    except InvalidOperation:
        return False
    return _NUMBER.match(case.value) is not None and value == value.to_integral_value()


def _beyond_number_limits(case: Case, _document: dict[str, Any]) -> bool:
    text = case.value or ""
    if not _NUMBER.match(text):
        return False
    digits = text.lstrip("-")
    return (digits.isdigit() and len(digits) > 4300) or abs(float(text)) == float("inf")


def _leap_second(case: Case, document: dict[str, Any]) -> bool:
    value = _value(case)
    return (
        _sub(case, document).get("format") == "date-time"
        and isinstance(value, str)
        and re.search(r"T\d\d:\d\d:60", value.upper()) is not None
    )


def _final_newline(case: Case, document: dict[str, Any]) -> bool:
    value = _value(case)
    sub = _sub(case, document)
    anchored = str(sub.get("pattern", "")).endswith("$") or sub.get("format") == "date-time"
    return isinstance(value, str) and value.endswith("\n") and anchored


def _undeliverable_host(case: Case, document: dict[str, Any]) -> bool:
    value = _value(case)
    if _sub(case, document).get("format") != "email" or not isinstance(value, str):
        return False
    refusal = email_refusal(value)
    return "special-use or reserved" in refusal or "valid top-level domain" in refusal


def _long_local_part(case: Case, document: dict[str, Any]) -> bool:
    value = _value(case)
    return (
        _sub(case, document).get("format") == "email"
        and isinstance(value, str)
        and len(value.rpartition("@")[0].encode()) > 64
    )


def _lone_surrogate(case: Case, _document: dict[str, Any]) -> bool:
    return re.search(r"\\u[dD][89a-fA-F]", case.value or "") is not None


#: The short, written list of deliberate differences (mirrored in docs/testing.md).
DELIBERATE_DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "repeated key",
        "refuses an object that repeats a key, located at the repetition",
        "JSON leaves a repeated key's meaning open (RFC 8259 section 4): Python keeps the "
        "last value, other readers the first, so the record checked might not be the one "
        "consumed downstream.",
        lambda case, _document: case.kind == "repeat",
    ),
    Difference(
        "integer spelling",
        "an integer is written -?(0|[1-9][0-9]*): 5.0 and 1e2 are not integers",
        "JSON Schema counts any number with a zero fraction as an integer; a reader that "
        "parses 5.0 as a float would hand a float to a consumer expecting an integer, and "
        "one grammar keeps CSV and JSON verdicts equal.",
        _integral_spelling,
    ),
    Difference(
        "number limits",
        "a number must round to a finite double; an integer has at most 4,300 digits",
        "JSON Schema has no limits; downstream readers (and Python's int parsing) do. "
        "1e400 would become infinity in most readers.",
        _beyond_number_limits,
    ),
    Difference(
        "leap second",
        "accepts second 60, as the RFC 3339 section 5.6 grammar does",
        "rfc3339-validator refuses leap seconds; the grammar allows them.",
        _leap_second,
    ),
    Difference(
        "final newline",
        "a pattern's $ (and date-time's end) is the end of the string, as in ECMA-262",
        "jsonschema matches with Python's re, whose $ also matches before a final newline.",
        _final_newline,
    ),
    Difference(
        "undeliverable host",
        "accepts any syntactically valid host name (special-use names, numeric TLDs)",
        "email-validator also refuses names that cannot receive mail on the public "
        "internet (.local, .test, all-numeric TLDs); whether a host exists is not a "
        "question for a file check, which uses no DNS.",
        _undeliverable_host,
    ),
    Difference(
        "long local part",
        "refuses a local part over 64 octets",
        "RFC 5321 section 4.5.3.1.1 limits the local part to 64 octets; email-validator "
        "does not enforce it with these options.",
        _long_local_part,
    ),
    Difference(
        "lone surrogate",
        "refuses a string with a lone UTF-16 surrogate escape (MALFORMED)",
        "Such an escape names no Unicode character (RFC 8259 section 8.2); Python's json "
        "module reads it into an unencodable string.",
        _lone_surrogate,
    ),
)


def explained(case: Case, document: dict[str, Any]) -> Difference | None:
    """The deliberate difference that explains a disagreement on ``case``, if any."""
    return next((d for d in DELIBERATE_DIFFERENCES if d.applies(case, document)), None)
