package jsonschema

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validation runs twice on a bad instance: valid answers yes or no without
// allocating, and only when it says no does errors walk the instance again
// the way python-jsonschema's iter_errors does, producing every error in the
// same order, for bestMatch to choose from.

func (n *node) typeOK(k kind, x num) bool {
	switch k {
	case kindObject:
		return n.types&typeObject != 0
	case kindArray:
		return n.types&typeArray != 0
	case kindString:
		return n.types&typeString != 0
	case kindBool:
		return n.types&typeBoolean != 0
	case kindNull:
		return n.types&typeNull != 0
	case kindNumber:
		return n.types&typeNumber != 0 || n.types&typeInteger != 0 && x.isInteger()
	}
	return false
}

// enumOK is the enum keyword: for an instance equal to 0 or 1 (bools
// included) a bool matches only a bool and a number only a number; otherwise
// membership is Python's ==, where True == 1.
func enumOK(enum []any, inst any, k kind, x num) bool {
	if k == kindBool || k == kindNumber && x.isZeroOrOne() {
		for _, e := range enum {
			ek, ex := classify(e)
			switch {
			case k == kindBool:
				if ek == kindBool && e.(bool) == inst.(bool) {
					return true
				}
			case ek == kindNumber:
				if c, ok := x.cmp(ex); ok && c == 0 {
					return true
				}
			}
		}
		return false
	}
	for _, e := range enum {
		if pyEqual(inst, e) {
			return true
		}
	}
	return false
}

// below reports Python's x < bound (strict) or x <= bound.
func below(x num, bound *num, orEqual bool) bool {
	c, ok := x.cmp(*bound)
	return ok && (c < 0 || orEqual && c == 0)
}

func above(x num, bound *num, orEqual bool) bool {
	c, ok := x.cmp(*bound)
	return ok && (c > 0 || orEqual && c == 0)
}

// additional reports whether key is matched by neither properties nor
// patternProperties.
func (n *node) additionalKey(key string) bool {
	for _, p := range n.properties {
		if p.name == key {
			return false
		}
	}
	for _, p := range n.patternProperties {
		if p.re.MatchString(key) {
			return false
		}
	}
	return true
}

func (n *node) valid(inst any) bool {
	switch n.boolean {
	case 1:
		return true
	case -1:
		return false
	}
	k, x := classify(inst)
	for _, o := range n.ops {
		switch o {
		case opType:
			if !n.typeOK(k, x) {
				return false
			}
		case opEnum:
			if !enumOK(n.enum, inst, k, x) {
				return false
			}
		case opFormat:
			if !n.formatFn(inst) {
				return false
			}
		case opPattern:
			if k == kindString && !n.pattern.MatchString(inst.(string)) {
				return false
			}
		case opMinLength:
			if k == kindString && utf8.RuneCountInString(inst.(string)) < n.minLength {
				return false
			}
		case opMaxLength:
			if k == kindString && utf8.RuneCountInString(inst.(string)) > n.maxLength {
				return false
			}
		case opMinimum:
			if k == kindNumber && below(x, n.minimum, false) {
				return false
			}
		case opMaximum:
			if k == kindNumber && above(x, n.maximum, false) {
				return false
			}
		case opExclusiveMinimum:
			if k == kindNumber && below(x, n.exclMinimum, true) {
				return false
			}
		case opExclusiveMaximum:
			if k == kindNumber && above(x, n.exclMaximum, true) {
				return false
			}
		case opMinItems:
			if k == kindArray && len(inst.([]any)) < n.minItems {
				return false
			}
		case opMaxItems:
			if k == kindArray && len(inst.([]any)) > n.maxItems {
				return false
			}
		case opItems:
			if k == kindArray {
				for _, it := range inst.([]any) {
					if !n.items.valid(it) {
						return false
					}
				}
			}
		case opUniqueItems:
			if k == kindArray && !unique(inst.([]any)) {
				return false
			}
		case opMinProperties:
			if k == kindObject && len(inst.(map[string]any)) < n.minProperties {
				return false
			}
		case opMaxProperties:
			if k == kindObject && len(inst.(map[string]any)) > n.maxProperties {
				return false
			}
		case opProperties:
			if k == kindObject {
				m := inst.(map[string]any)
				for _, p := range n.properties {
					if v, ok := m[p.name]; ok && !p.node.valid(v) {
						return false
					}
				}
			}
		case opPatternProperties:
			if k == kindObject {
				for key, v := range inst.(map[string]any) {
					for _, p := range n.patternProperties {
						if p.re.MatchString(key) && !p.node.valid(v) {
							return false
						}
					}
				}
			}
		case opRequired:
			if k == kindObject {
				m := inst.(map[string]any)
				for _, r := range n.required {
					if _, ok := m[r]; !ok {
						return false
					}
				}
			}
		case opAdditionalProperties:
			if k == kindObject && n.additional.boolean != 1 {
				for key, v := range inst.(map[string]any) {
					if n.additionalKey(key) && !n.additional.valid(v) {
						return false
					}
				}
			}
		case opAnyOf:
			ok := false
			for _, sub := range n.anyOf {
				if sub.valid(inst) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		case opOneOf:
			count := 0
			for _, sub := range n.oneOf {
				if sub.valid(inst) {
					count++
				}
			}
			if count != 1 {
				return false
			}
		}
	}
	return true
}

// errors returns every error python-jsonschema's iter_errors yields for
// inst, in the same order: keywords in schema dict order, properties in
// schema order, an instance's keys in sorted order.
func (n *node) errors(inst any) []*ValidationError {
	switch n.boolean {
	case 1:
		return nil
	case -1:
		return []*ValidationError{{
			Message:  "False schema does not allow " + repr(inst),
			Instance: inst,
			schema:   n,
		}}
	}
	var out []*ValidationError
	k, x := classify(inst)
	fail := func(o op, msg string) {
		out = append(out, &ValidationError{Message: msg, Keyword: opNames[o], Instance: inst, schema: n})
	}
	for _, o := range n.ops {
		start := len(out)
		switch o {
		case opType:
			if !n.typeOK(k, x) {
				names := make([]string, len(n.typeNames))
				for i, t := range n.typeNames {
					names[i] = strRepr(t)
				}
				fail(o, repr(inst)+" is not of type "+strings.Join(names, ", "))
			}
		case opEnum:
			if !enumOK(n.enum, inst, k, x) {
				fail(o, repr(inst)+" is not one of "+repr(n.enum))
			}
		case opFormat:
			if !n.formatFn(inst) {
				fail(o, repr(inst)+" is not a "+strRepr(n.format))
			}
		case opPattern:
			if k == kindString && !n.pattern.MatchString(inst.(string)) {
				fail(o, repr(inst)+" does not match "+strRepr(n.patternPy))
			}
		case opMinLength:
			if k == kindString && utf8.RuneCountInString(inst.(string)) < n.minLength {
				fail(o, repr(inst)+" is too short")
			}
		case opMaxLength:
			if k == kindString && utf8.RuneCountInString(inst.(string)) > n.maxLength {
				fail(o, repr(inst)+" is too long")
			}
		case opMinimum:
			if k == kindNumber && below(x, n.minimum, false) {
				fail(o, x.repr()+" is less than the minimum of "+n.minimum.repr())
			}
		case opMaximum:
			if k == kindNumber && above(x, n.maximum, false) {
				fail(o, x.repr()+" is greater than the maximum of "+n.maximum.repr())
			}
		case opExclusiveMinimum:
			if k == kindNumber && below(x, n.exclMinimum, true) {
				fail(o, x.repr()+" is less than or equal to the minimum of "+n.exclMinimum.repr())
			}
		case opExclusiveMaximum:
			if k == kindNumber && above(x, n.exclMaximum, true) {
				fail(o, x.repr()+" is greater than or equal to the maximum of "+n.exclMaximum.repr())
			}
		case opMinItems:
			if k == kindArray && len(inst.([]any)) < n.minItems {
				fail(o, repr(inst)+" is too short")
			}
		case opMaxItems:
			if k == kindArray && len(inst.([]any)) > n.maxItems {
				fail(o, repr(inst)+" is too long")
			}
		case opItems:
			if k != kindArray {
				break
			}
			a := inst.([]any)
			if n.items.boolean == -1 {
				if len(a) > 0 {
					fail(o, "Expected at most 0 items, but found "+strconv.Itoa(len(a)))
				}
				break
			}
			for i, it := range a {
				out = appendDescended(out, n.items.errors(it), i, nil)
			}
		case opUniqueItems:
			if k == kindArray && !unique(inst.([]any)) {
				fail(o, repr(inst)+" has non-unique elements")
			}
		case opMinProperties:
			if k == kindObject && len(inst.(map[string]any)) < n.minProperties {
				fail(o, repr(inst)+" does not have enough properties")
			}
		case opMaxProperties:
			if k == kindObject && len(inst.(map[string]any)) > n.maxProperties {
				fail(o, repr(inst)+" has too many properties")
			}
		case opProperties:
			if k != kindObject {
				break
			}
			m := inst.(map[string]any)
			for _, p := range n.properties {
				if v, ok := m[p.name]; ok {
					out = appendDescended(out, p.node.errors(v), p.name, p.name)
				}
			}
		case opPatternProperties:
			if k != kindObject {
				break
			}
			m := inst.(map[string]any)
			keys := sortedKeys(m)
			for _, p := range n.patternProperties {
				for _, key := range keys {
					if p.re.MatchString(key) {
						out = appendDescended(out, p.node.errors(m[key]), key, p.pattern)
					}
				}
			}
		case opRequired:
			if k != kindObject {
				break
			}
			m := inst.(map[string]any)
			for _, r := range n.required {
				if _, ok := m[r]; !ok {
					fail(o, strRepr(r)+" is a required property")
				}
			}
		case opAdditionalProperties:
			if k != kindObject || n.additional.boolean == 1 {
				break
			}
			m := inst.(map[string]any)
			var extras []string
			for _, key := range sortedKeys(m) {
				if n.additionalKey(key) {
					extras = append(extras, key)
				}
			}
			if n.additional.boolean == 0 {
				for _, key := range extras {
					out = appendDescended(out, n.additional.errors(m[key]), key, nil)
				}
				break
			}
			if len(extras) > 0 {
				fail(o, n.additionalMessage(extras))
			}
		case opAnyOf:
			var all []*ValidationError
			ok := false
			for i, sub := range n.anyOf {
				errs := appendDescended(nil, sub.errors(inst), nil, i)
				if len(errs) == 0 {
					ok = true
					break
				}
				all = append(all, errs...)
			}
			if !ok {
				fail(o, repr(inst)+" is not valid under any of the given schemas")
				out[len(out)-1].Context = all
			}
		case opOneOf:
			var all []*ValidationError
			first := -1
			for i, sub := range n.oneOf {
				errs := appendDescended(nil, sub.errors(inst), nil, i)
				if len(errs) == 0 {
					first = i
					break
				}
				all = append(all, errs...)
			}
			if first < 0 {
				fail(o, repr(inst)+" is not valid under any of the given schemas")
				out[len(out)-1].Context = all
				break
			}
			var reprs []string
			for _, sub := range n.oneOf[first+1:] {
				if sub.valid(inst) {
					reprs = append(reprs, repr(sub.py))
				}
			}
			if reprs != nil {
				reprs = append(reprs, repr(n.oneOf[first].py))
				fail(o, repr(inst)+" is valid under each of "+strings.Join(reprs, ", "))
			}
		}
		for _, e := range out[start:] {
			e.SchemaPath = prepend(e.SchemaPath, opNames[o])
		}
	}
	return out
}

// additionalMessage words additionalProperties: False failing on extras,
// which are sorted.
func (n *node) additionalMessage(extras []string) string {
	quoted := make([]string, len(extras))
	for i, e := range extras {
		quoted[i] = strRepr(e)
	}
	joined := strings.Join(quoted, ", ")
	if n.hasPatternProperties {
		verb := "does"
		if len(extras) > 1 {
			verb = "do"
		}
		patterns := make([]string, len(n.patternProperties))
		for i, p := range n.patternProperties {
			patterns[i] = p.pattern
		}
		slices.Sort(patterns)
		for i, p := range patterns {
			patterns[i] = strRepr(p)
		}
		return fmt.Sprintf("%s %s not match any of the regexes: %s", joined, verb, strings.Join(patterns, ", "))
	}
	verb := "was"
	if len(extras) > 1 {
		verb = "were"
	}
	return fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", joined, verb)
}

// appendDescended is Validator.descend: errors from a subschema get the
// instance path element and the schema path element (nil for none) in front.
func appendDescended(out, errs []*ValidationError, path, schemaPath any) []*ValidationError {
	for _, e := range errs {
		if path != nil {
			e.Path = prepend(e.Path, path)
		}
		if schemaPath != nil {
			e.SchemaPath = prepend(e.SchemaPath, schemaPath)
		}
	}
	return append(out, errs...)
}

func prepend(path []any, e any) []any {
	out := make([]any, 0, len(path)+1)
	out = append(out, e)
	return append(out, path...)
}
