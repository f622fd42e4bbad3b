"""Validates a JSON document (stdin) against a schema of openapi.yaml (JSON Schema 2020-12).

    python tests/openapi_check.py Product < body.json

Exits 1 with the first few violations when the document does not conform.
"""
import json
import pathlib
import sys

import jsonschema
import yaml

spec = yaml.safe_load((pathlib.Path(__file__).parent.parent / "openapi.yaml").read_text())
name = sys.argv[1]
if name not in spec["components"]["schemas"]:
    sys.exit(f"openapi.yaml has no schema {name}")
schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
errors = sorted(validator.iter_errors(json.load(sys.stdin)), key=lambda e: list(e.path))
for error in errors[:5]:
    print(f"    {name}: {'/'.join(map(str, error.path)) or '(root)'}: {error.message}", file=sys.stderr)
sys.exit(1 if errors else 0)
