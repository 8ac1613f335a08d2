"""The JSON Schemas in ``schemas/``, checked themselves, for the tests to validate output."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """The validator of ``schemas/NAME`` (formats checked too)."""
    schema = json.loads((SCHEMAS / name).read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return jsonschema.Draft202012Validator(schema, format_checker=checker)
