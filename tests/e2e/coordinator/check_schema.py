#!/usr/bin/python3
"""check_schema.py SCHEMA REPORT.json...: validates each report against SCHEMA
(docs/report.schema.json, JSON Schema draft-07) and says what is wrong where.
check_schema.py --doc DOC SCHEMA: every key SCHEMA names is in DOC
(docs/report.md) between backticks, so no key is in the schema undocumented.

One line per report: "ok: REPORT" or, per error (at most 20 a report),
"REPORT: at steps/0/load/1: Additional properties are not allowed ('x' was
unexpected)". Exit 0 if every report is valid, 1 if any is not, 2 for bad
usage or unreadable files, 77 without the jsonschema module (Debian's
python3-jsonschema, which scripts/deps installs for the tests).
"""
import json
import re
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


def keys(node, out):
    """Every property name in a schema, at any depth."""
    if isinstance(node, dict):
        out.update(node.get("properties", {}))
        for v in node.values():
            keys(v, out)
    elif isinstance(node, list):
        for v in node:
            keys(v, out)
    return out


def undocumented(schema, doc_path):
    """The schema's keys DOC never names: `key`, or inside a code span (`a.key`)."""
    with open(doc_path, encoding="utf-8") as f:
        text = re.sub(r"^```.*?^```", "", f.read(), flags=re.S | re.M)
    spans = re.findall(r"`([^`\n]+)`", text)
    words = {w for span in spans for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span)}
    return sorted(k for k in keys(schema, set()) if k not in words)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"{path}: cannot read it as JSON: {e}", file=sys.stderr)
        sys.exit(2)


def main(argv):
    if len(argv) == 4 and argv[1] == "--doc":
        missing = undocumented(load(argv[3]), argv[2])
        if missing:
            print(f"{argv[2]}: keys of {argv[3]} it does not name: {', '.join(missing)}")
            return 1
        print(f"ok: {argv[2]} names every key of {argv[3]}")
        return 0
    if len(argv) < 3:
        print("usage: check_schema.py SCHEMA REPORT.json... | --doc DOC SCHEMA", file=sys.stderr)
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
