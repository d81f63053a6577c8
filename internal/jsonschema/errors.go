package jsonschema

import "strings"

// ValidationError is python-jsonschema's ValidationError: one way in which
// an instance fails a schema. Validate returns the one jsonschema.validate
// would raise.
type ValidationError struct {
	// Message is Python's error.message, e.g. "'name' is a required property".
	Message string
	// Keyword is the failing keyword (Python's error.validator), e.g.
	// "maxLength"; empty for a false schema (Python's None).
	Keyword string
	// Path is where in the instance the error is: keys (string) and array
	// indexes (int). Like SchemaPath it is relative (Python's relative_path):
	// an error picked from inside an anyOf or oneOf is located from there.
	Path []any
	// SchemaPath leads from the schema to the keyword, e.g.
	// ["properties", "name", "maxLength"].
	SchemaPath []any
	// Instance is the value that failed, as given.
	Instance any
	// Context holds, for anyOf and oneOf, the errors of each alternative.
	Context []*ValidationError

	schema *node
}

// Error is Python's str(ValidationError):
//
//	MESSAGE
//
//	Failed validating 'KEYWORD' in schema['properties']['name']:
//	    {'maxLength': 200, 'type': 'string'}
//
//	On instance['name']:
//	    'xxxx'
//
// with the schema and the instance pretty-printed (pprint, width 72).
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	b.WriteString("\n\nFailed validating ")
	if e.Keyword == "" {
		b.WriteString("None")
	} else {
		b.WriteString(strRepr(e.Keyword))
	}
	b.WriteString(" in ")
	sp := e.SchemaPath
	if len(sp) > 0 {
		sp = sp[:len(sp)-1]
	}
	b.WriteString(formatAsIndex("schema", sp))
	b.WriteString(":\n    ")
	writeIndented(&b, pformat(e.schema.py, 72))
	b.WriteString("\n\nOn ")
	b.WriteString(formatAsIndex("instance", e.Path))
	b.WriteString(":\n    ")
	writeIndented(&b, pformat(e.Instance, 72))
	return b.String()
}

func writeIndented(b *strings.Builder, s string) {
	b.WriteString(strings.ReplaceAll(s, "\n", "\n    "))
}

// relevance is jsonschema.exceptions.relevance: errors higher in the
// instance rank first, then errors not from anyOf/oneOf ("weak"), then errors
// whose schema's "type" the instance does not match.
type relevance struct {
	depth       int // len(path); smaller is more relevant
	weak        bool
	typeMatches bool
}

func relevanceOf(e *ValidationError) relevance {
	r := relevance{
		depth: len(e.Path),
		weak:  e.Keyword == "anyOf" || e.Keyword == "oneOf",
	}
	if s := e.schema; s.boolean == 0 && s.types != 0 {
		k, x := classify(e.Instance)
		r.typeMatches = s.typeOK(k, x)
	}
	return r
}

// moreRelevant reports whether a ranks above b, comparing Python's key
// tuple (-len(path), not weak, False, not matches_type).
func (a relevance) moreRelevant(b relevance) bool {
	if a.depth != b.depth {
		return a.depth < b.depth
	}
	if a.weak != b.weak {
		return !a.weak
	}
	if a.typeMatches != b.typeMatches {
		return !a.typeMatches
	}
	return false
}

// bestMatch is jsonschema.exceptions.best_match: the most relevant error
// (the first of equals), then, while it has a context, the least relevant
// error of that context, unless two of them tie for least.
func bestMatch(errs []*ValidationError) *ValidationError {
	if len(errs) == 0 {
		return nil
	}
	best, key := errs[0], relevanceOf(errs[0])
	for _, e := range errs[1:] {
		if k := relevanceOf(e); k.moreRelevant(key) {
			best, key = e, k
		}
	}
	for len(best.Context) > 0 {
		least, leastKey := best.Context[0], relevanceOf(best.Context[0])
		ties := 1
		for _, e := range best.Context[1:] {
			k := relevanceOf(e)
			switch {
			case leastKey.moreRelevant(k):
				least, leastKey, ties = e, k, 1
			case !k.moreRelevant(leastKey):
				ties++
			}
		}
		if ties > 1 {
			return best
		}
		best = least
	}
	return best
}
