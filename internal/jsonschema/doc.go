// Package jsonschema validates decoded JSON against JSON Schemas written in
// Go, and reports failures in the words of Python's jsonschema library, as
// OpenStack Placement does.
//
// Placement validates every request body and query string with
// jsonschema.validate(data, schema, format_checker=FormatChecker()) and puts
// str(error) in the response ("JSON does not validate: 0 is less than the
// minimum of 1 ..."). Clients and the upstream gabbi tests match that text,
// so this package reproduces python3-jsonschema 4.10 (Debian bookworm):
//
//   - the Draft 2020-12 validator, which jsonschema.validate picks for
//     Placement's schemas since they name no "$schema". In that draft an
//     "integer" is any whole number, so the JSON float 1.0 is an integer;
//   - each keyword's message, and best_match's choice among several errors,
//     including its descent into anyOf and oneOf;
//   - str(ValidationError), with Python's repr and pprint for the schema and
//     the instance;
//   - Python semantics for numbers (ints of any size, exact int/float
//     comparison), string lengths (code points) and regular expressions
//     (re.search; see regex.go for the translation to RE2);
//   - Placement's "uuid" format checker (oslo's is_uuid_like).
//
// Schemas are Schema values, compiled once (Compile, MustCompile, or on first
// use by Validate) with their regular expressions. Validating a valid
// instance walks it once and does not allocate (a uniqueItems array of more
// than 16 items excepted); only a failure pays for the second, Python-shaped
// walk that collects every error and picks the best.
//
// Placement builds its 400 details as "JSON does not validate: " + str(error)
// for bodies and "Invalid query string parameters: " + str(error) for query
// strings (validated as a dict of the last value of each parameter); format
// a *ValidationError with %s to get str(error).
//
// Where Python's answer depends on the order of keys in the decoded
// instance (which of several equally relevant errors in sibling keys is
// reported, the order keys print in), this package uses sorted key order, as
// a Go map has no other.
package jsonschema
