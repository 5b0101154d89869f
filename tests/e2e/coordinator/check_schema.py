#!/usr/bin/python3
"""check_schema.py SCHEMA REPORT.json...: validates each report against SCHEMA
(docs/report.schema.json, JSON Schema draft-07) and says what is wrong where.

One line per report: "ok: REPORT" or, per error (at most 20 a report),
"REPORT: at steps/0/load/1: Additional properties are not allowed ('x' was
unexpected)". Exit 0 if every report is valid, 1 if any is not, 2 for bad
usage or unreadable files, 77 without the jsonschema module (Debian's
python3-jsonschema, which scripts/deps installs for the tests).
"""
import json
import sys

MAX_ERRORS = 20


def where(error):
    path = "/".join(str(p) for p in error.absolute_path)
    return path or "(top level)"


def leaves(error):
    """The errors that say what is wrong: a value that matched none of a oneOf
    (an object or null) is reported by its object branch's own errors."""
    if not error.context:
        yield error
        return
    inner = [e for e in error.context
             if not (e.validator == "type" and e.validator_value == "null")]
    if not inner:
        yield error
        return
    for e in inner:
        yield from leaves(e)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"{path}: cannot read it as JSON: {e}", file=sys.stderr)
        sys.exit(2)


def main(argv):
    if len(argv) < 3:
        print("usage: check_schema.py SCHEMA REPORT.json...", file=sys.stderr)
        return 2
    try:
        import jsonschema
    except ImportError:
        print("check_schema.py: no jsonschema module for /usr/bin/python3 "
              "(apt-get install python3-jsonschema, or scripts/deps)", file=sys.stderr)
        return 77
    schema = load(argv[1])
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"{argv[1]}: not a valid draft-07 schema: {e.message}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft7Validator(schema)
    bad = 0
    for path in argv[2:]:
        found = [leaf for e in validator.iter_errors(load(path)) for leaf in leaves(e)]
        errors = sorted(found,
                        key=lambda e: [str(p) for p in e.absolute_path])
        if not errors:
            print(f"ok: {path}")
            continue
        bad += 1
        for e in errors[:MAX_ERRORS]:
            print(f"{path}: at {where(e)}: {e.message}")
        if len(errors) > MAX_ERRORS:
            print(f"{path}: ({len(errors) - MAX_ERRORS} more errors)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
