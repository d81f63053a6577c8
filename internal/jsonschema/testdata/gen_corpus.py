#!/usr/bin/python3
"""Generate corpus.json: schemas, instances and what Python says about them.

The expectations come from the real library: Debian bookworm's
python3-jsonschema 4.10.3, with Placement's "uuid" format checker registered
(python3-placement's placement.util), called as Placement calls it:

    jsonschema.validate(instance, schema, format_checker=FormatChecker())

Run with the system Python (not a pyenv one):

    apt-get install -y python3-jsonschema python3-placement
    /usr/bin/python3 testdata/gen_corpus.py > testdata/corpus.json

Instances are written with sorted keys, so that Python's document order and
the Go side's sorted order agree. For the same reason additionalProperties
with a schema visits the extra keys sorted, where Python iterates a set (in
an order that changes with PYTHONHASHSEED). Each case is
{"schema": ..., "instance": ..., "error": str(error) or null}.
"""

import json
import random
import sys

import jsonschema
import placement.util  # noqa: F401  registers the "uuid" format checker

PATTERNS = [
    "^[A-Z0-9_]+$", "^[0-9a-fA-F-]{36}$", "a", "^CUSTOM_", "[1-9][0-9]*",
    "^$", "b$", "\\d", "^[a-z]{1,3}$", "^[A-Z0-9_]+$|^all|^unknown$",
    "^resources([1-9][0-9]*)?$", "^member_of([a-zA-Z0-9_-]{1,64})?$",
]
KEY_PATTERNS = ["^a", "^[a-c]$", "x", "^resources([1-9][0-9]*)?$", "^[A-Z0-9_]+$"]
NAMES = ["a", "b", "c", "name", "uuid", "VCPU", "resources1"]
TYPES = ["object", "array", "string", "integer", "number", "boolean", "null"]
BOUNDS = [-1, 0, 1, 2, 1.5, 0.0, 2147483647, 1e20, 3.40282e38, -2.5]
STRINGS = [
    "", "a", "ab", "abc", "VCPU", "CUSTOM_FOO", "CUSTOM_FOO\n", "all", "b",
    "instance", "12345678-1234-1234-1234-123456789012",
    "{12345678123412341234123456789012}", "not-a-uuid", "x" * 80,
    "it's", 'say "hi"', "both ' and \"", "tab\there", "line\nbreak",
    "back\\slash", "caf\u00e9", "\u00a0nbsp", "\x01ctl", "\u2028sep",
    "\U0001F600", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", "42", "7",
    "word " * 20, "resources1", "member_of_x",
]
NUMBERS = [0, 1, -1, 2, 7, 0.0, 1.0, -0.0, 1.5, 2.5, 1e16, 1e15, 1e-5,
           0.0001, 123.456, 2147483647, 2147483648, -2147483648,
           123456789012345678901234567890, 1e20, 3.5e38, 0.1]


def rand_schema(rng, depth):
    if depth > 0 and rng.random() < 0.08:
        return rng.choice([True, False])
    s = {}
    kws = rng.sample(KEYWORDS, rng.randint(1, 5))
    for kw in kws:
        KEYWORD_GEN[kw](rng, depth, s)
    if rng.random() < 0.05:
        s["description"] = "extra key"
    items = list(s.items())
    rng.shuffle(items)
    return dict(items)


def sub(rng, depth):
    if depth >= 3:
        return {"type": rng.choice(TYPES)}
    return rand_schema(rng, depth + 1)


def g_type(rng, depth, s):
    if rng.random() < 0.7:
        s["type"] = rng.choice(TYPES)
    else:
        s["type"] = rng.sample(TYPES, rng.randint(1, 3))


KEYWORD_GEN = {
    "type": g_type,
    "enum": lambda r, d, s: s.__setitem__(
        "enum", [rand_value(r, 2) for _ in range(r.randint(1, 3))]),
    "format": lambda r, d, s: s.__setitem__("format", "uuid"),
    "pattern": lambda r, d, s: s.__setitem__("pattern", r.choice(PATTERNS)),
    "minLength": lambda r, d, s: s.__setitem__("minLength", r.randint(0, 5)),
    "maxLength": lambda r, d, s: s.__setitem__("maxLength", r.randint(0, 5)),
    "minimum": lambda r, d, s: s.__setitem__("minimum", r.choice(BOUNDS)),
    "maximum": lambda r, d, s: s.__setitem__("maximum", r.choice(BOUNDS)),
    "exclusiveMinimum": lambda r, d, s: s.__setitem__(
        "exclusiveMinimum", r.choice(BOUNDS)),
    "exclusiveMaximum": lambda r, d, s: s.__setitem__(
        "exclusiveMaximum", r.choice(BOUNDS)),
    "minItems": lambda r, d, s: s.__setitem__("minItems", r.randint(0, 3)),
    "maxItems": lambda r, d, s: s.__setitem__("maxItems", r.randint(0, 3)),
    "items": lambda r, d, s: s.__setitem__("items", sub(r, d)),
    "uniqueItems": lambda r, d, s: s.__setitem__("uniqueItems", True),
    "minProperties": lambda r, d, s: s.__setitem__(
        "minProperties", r.randint(0, 3)),
    "maxProperties": lambda r, d, s: s.__setitem__(
        "maxProperties", r.randint(0, 3)),
    "properties": lambda r, d, s: s.__setitem__("properties", {
        n: sub(r, d) for n in r.sample(NAMES, r.randint(1, 3))}),
    "patternProperties": lambda r, d, s: s.__setitem__("patternProperties", {
        p: sub(r, d) for p in r.sample(KEY_PATTERNS, r.randint(1, 2))}),
    "required": lambda r, d, s: s.__setitem__(
        "required", r.sample(NAMES, r.randint(1, 3))),
    "additionalProperties": lambda r, d, s: s.__setitem__(
        "additionalProperties", r.choice([False, False, True, sub(r, d)])),
    "anyOf": lambda r, d, s: s.__setitem__(
        "anyOf", [sub(r, d) for _ in range(r.randint(1, 3))]),
    "oneOf": lambda r, d, s: s.__setitem__(
        "oneOf", [sub(r, d) for _ in range(r.randint(1, 3))]),
}
KEYWORDS = list(KEYWORD_GEN)


def rand_value(rng, depth):
    c = rng.random()
    if depth <= 0 or c < 0.5:
        return rng.choice([
            None, True, False, rng.choice(STRINGS), rng.choice(NUMBERS),
            rng.choice(NUMBERS), rng.choice(STRINGS)])
    if c < 0.75:
        return [rand_value(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    keys = sorted(rng.sample(NAMES + ["x1", "d", "zz"], rng.randint(0, 4)))
    return {k: rand_value(rng, depth - 1) for k in keys}


def instance_for(rng, schema, depth=0):
    """A value shaped like schema, with mistakes now and then."""
    if not isinstance(schema, dict) or rng.random() < 0.15 or depth > 4:
        return rand_value(rng, 2)
    t = schema.get("type")
    if isinstance(t, list):
        t = rng.choice(t)
    if "properties" in schema or "patternProperties" in schema or t == "object":
        out = {}
        for name, sub_schema in schema.get("properties", {}).items():
            if rng.random() < 0.8:
                out[name] = instance_for(rng, sub_schema, depth + 1)
        for pat, sub_schema in schema.get("patternProperties", {}).items():
            key = {"^a": "ab", "^[a-c]$": "c", "x": "x1",
                   "^resources([1-9][0-9]*)?$": "resources1",
                   "^[A-Z0-9_]+$": "VCPU"}[pat]
            if rng.random() < 0.7:
                out[key] = instance_for(rng, sub_schema, depth + 1)
        if rng.random() < 0.2:
            out[rng.choice(["extra", "zz", "d"])] = rand_value(rng, 1)
        return out
    if "items" in schema or t == "array":
        return [instance_for(rng, schema.get("items", {}), depth + 1)
                for _ in range(rng.randint(0, 3))]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return instance_for(rng, rng.choice(schema[key]), depth + 1)
    if "enum" in schema and rng.random() < 0.6:
        return rng.choice(schema["enum"])
    if t == "string" or "pattern" in schema or "format" in schema:
        return rng.choice(STRINGS)
    if t in ("integer", "number") or "minimum" in schema or "maximum" in schema:
        return rng.choice(NUMBERS)
    return rand_value(rng, 2)


_additional = jsonschema.Draft202012Validator.VALIDATORS["additionalProperties"]


def _sorted_additional(validator, aP, instance, schema):
    if validator.is_type(instance, "object") and validator.is_type(aP, "object"):
        extras = jsonschema._utils.find_additional_properties(instance, schema)
        for extra in sorted(set(extras)):
            yield from validator.descend(instance[extra], aP, path=extra)
        return
    yield from _additional(validator, aP, instance, schema)


jsonschema.Draft202012Validator.VALIDATORS["additionalProperties"] = (
    _sorted_additional)


LONG_STRINGS = [
    "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 3,
    "lorem ipsum dolor sit amet\nconsectetur adipiscing elit\n" * 3,
    "y" * 150, "a  b   c    " * 10, "\u00e9t\u00e9 " * 30, "'quoted' " * 12,
    "mixed 'single' and \"double\" " * 4, "tabs\tand\ttabs " * 8,
    "\n\n\n", "trailing spaces    " * 6, "\r\nwindows\r\n" * 10,
    "\u2028" * 3 + "x " * 40, "\U0001F600 " * 30,
]


def big_value(rng, depth):
    c = rng.random()
    if depth <= 0 or c < 0.3:
        return rng.choice([rng.choice(LONG_STRINGS), rng.choice(STRINGS),
                           rng.choice(NUMBERS), None, True])
    if c < 0.6:
        return [big_value(rng, depth - 1) for _ in range(rng.randint(0, 6))]
    keys = sorted(rng.sample(NAMES + ["x1", "d", "zz", "a much longer key name",
                                      "k" * 30], rng.randint(0, 5)))
    return {k: big_value(rng, depth - 1) for k in keys}


def print_case(rng):
    """A failure whose str() must wrap a long schema or instance."""
    schema = rng.choice([
        {"type": "null"}, {"maxLength": 3}, {"maxProperties": 0},
        {"maxItems": 0}, {"enum": [big_value(rng, 3)]},
        {"properties": {"a": {"type": "null"}}},
        {"items": {"type": "null"}},
        {"anyOf": [{"type": "null"}, {"type": "boolean"}]},
        rand_schema(rng, 0),
    ])
    return schema, big_value(rng, rng.randint(1, 5))


def check(schema, instance):
    try:
        jsonschema.validate(instance, schema,
                            format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as e:
        return str(e)
    return None


def main():
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 20240601)
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    cases = []
    while len(cases) < count:
        if rng.random() < 0.25:
            schema, instance = print_case(rng)
        else:
            schema = rand_schema(rng, 0)
            instance = instance_for(rng, schema)
        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except jsonschema.SchemaError:
            continue
        # Round-trip through sorted JSON: what Go will decode.
        instance = json.loads(json.dumps(instance, sort_keys=True))
        error = check(schema, instance)
        if len(json.dumps([schema, instance, error])) > 2500:
            continue  # keep the corpus small
        cases.append({"schema": schema, "instance": instance, "error": error})
    out = json.dumps(cases, indent=None, ensure_ascii=True, sort_keys=False)
    sys.stdout.write(out.replace('}, {"schema"', '},\n{"schema"') + "\n")


if __name__ == "__main__":
    main()
