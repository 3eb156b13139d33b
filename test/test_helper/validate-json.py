#!/usr/bin/python3
"""validate-json.py PROGRAM FILE: checks that FILE, the stdout of one
`PROGRAM --format json` run, is exactly one JSON document (an object and a
newline, nothing else) that validates against schemas/PROGRAM.schema.json.

Run by /usr/bin/python3 on purpose: the validator is Debian's
python3-jsonschema (scripts/install-deps.sh --test), not whatever a
virtualenv has.  Exit 0 valid, 1 invalid (the reason on stderr), 2 usage.
"""
import json
import pathlib
import sys

import jsonschema

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent.parent / "schemas"


def fail(program, text, why):
    shown = text if len(text) < 2000 else text[:2000] + "..."
    print(f"JSON contract broken by {program}: {why}\n--- stdout ---\n{shown}",
          file=sys.stderr)
    return 1


def main(argv):
    if len(argv) != 3:
        print("usage: validate-json.py PROGRAM FILE", file=sys.stderr)
        return 2
    program, path = argv[1], argv[2]
    schema_path = SCHEMAS / f"{program}.schema.json"
    if not schema_path.is_file():
        print(f"validate-json.py: no schema {schema_path}", file=sys.stderr)
        return 2
    text = pathlib.Path(path).read_bytes().decode("utf-8", errors="strict")
    if not text.endswith("}\n") or text.count("\n") != 1:
        return fail(program, text, "not exactly one document on one line")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return fail(program, text, f"not JSON: {e}")
    schema = json.loads(schema_path.read_text())
    # the schemas refer to mig-common.schema.json beside them by relative
    # path, so resolve against the file's own location
    resolver = jsonschema.RefResolver(base_uri=schema_path.as_uri(), referrer=schema)
    validator = jsonschema.Draft202012Validator(schema, resolver=resolver)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        why = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                        for e in errors[:5])
        return fail(program, text, why)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
