package placementapi

import (
	"regexp"
	"strconv"
	"strings"
)

// Parsers for the query parameters shared by GET /resource_providers and
// GET /allocation_candidates, with upstream's validation rules and messages.

// parseResources parses "RC:N,RC:N" into amounts (placement's normalize_resources_qs_param).
func parseResources(qs string) (map[string]int64, []string, error) {
	if strings.TrimSpace(qs) == "" {
		return nil, nil, badRequest("Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.")
	}
	out := map[string]int64{}
	var order []string
	for _, rt := range strings.Split(qs, ",") {
		parts := strings.Split(rt, ":")
		if len(parts) != 2 {
			return nil, nil, badRequest("Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: %s.", rt)
		}
		name, raw := parts[0], parts[1]
		amount, ok := pythonInt(raw)
		if !ok {
			return nil, nil, badRequest("Requested resource %s expected positive integer amount. Got: %s.", name, raw)
		}
		if amount < 1 {
			return nil, nil, badRequest("Requested resource %s requires amount >= 1. Got: %d.", name, amount)
		}
		if _, seen := out[name]; !seen {
			order = append(order, name)
		}
		out[name] = amount
	}
	return out, order, nil
}

// pythonInt parses s as Python's int() does for decimal strings: surrounding whitespace,
// an optional sign and underscores between digits are allowed.
func pythonInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	neg := false
	switch s[0] {
	case '+', '-':
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// traitQuery is a parsed required (or requiredN) parameter: an AND of any-of sets plus
// forbidden traits.
type traitQuery struct {
	anyOf     [][]string
	forbidden []string
}

// parseRequired parses every value of a required parameter as upstream's
// normalize_traits_qs_params: forbidden traits (!T) from 1.22, "in:" and repeated keys from
// 1.39 (before that only the last value counts).
func parseRequired(values []string, v version) (traitQuery, error) {
	if !v.anyTraits() && len(values) > 1 {
		values = values[len(values)-1:]
	}
	var q traitQuery
	seenForbidden := map[string]bool{}
	for _, val := range values {
		anyOf, forbidden, err := parseTraitValue(val, v.forbiddenTraits(), v.anyTraits())
		if err != nil {
			return q, err
		}
		q.anyOf = append(q.anyOf, anyOf...)
		for _, f := range forbidden {
			if !seenForbidden[f] {
				seenForbidden[f] = true
				q.forbidden = append(q.forbidden, f)
			}
		}
	}
	return q, nil
}

func parseTraitValue(val string, allowForbidden, allowAny bool) ([][]string, []string, error) {
	if rest, ok := strings.CutPrefix(val, "in:"); ok {
		if !allowAny {
			return nil, nil, badRequest("Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: %s", val)
		}
		set := uniqueStrings(strings.Split(rest, ","), strings.TrimSpace)
		for _, t := range set {
			if t == "" {
				return nil, nil, badRequest("Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: %s", val)
			}
		}
		for _, t := range set {
			if strings.HasPrefix(t, "!") {
				return nil, nil, badRequest("Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: %s", val)
			}
		}
		return [][]string{set}, nil, nil
	}
	all := strings.Split(val, ",")
	for i := range all {
		all[i] = strings.TrimSpace(all[i])
	}
	var forbidden []string
	for _, t := range all {
		if strings.HasPrefix(t, "!") {
			forbidden = append(forbidden, strings.TrimLeft(t, "!"))
		}
	}
	empty := false
	for _, t := range append(append([]string(nil), forbidden...), all...) {
		if t == "" {
			empty = true
		}
	}
	if empty {
		form := "HW_CPU_X86_VMX,!CUSTOM_MAGIC"
		if !allowForbidden {
			form = "HW_CPU_X86_VMX,CUSTOM_MAGIC"
		}
		return nil, nil, badRequest("Invalid query string parameters: Expected 'required' parameter value of the form: %s. Got an empty trait in: %s", form, val)
	}
	if len(forbidden) > 0 && !allowForbidden {
		return nil, nil, badRequest("Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: %s", val)
	}
	var anyOf [][]string
	seen := map[string]bool{}
	for _, t := range all {
		if !strings.HasPrefix(t, "!") && !seen[t] {
			seen[t] = true
			anyOf = append(anyOf, []string{t})
		}
	}
	return anyOf, uniqueStrings(forbidden, nil), nil
}

func uniqueStrings(xs []string, norm func(string) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if norm != nil {
			x = norm(x)
		}
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// aggregateQuery is a parsed member_of (or member_ofN) parameter.
type aggregateQuery struct {
	anyOf     [][]string
	forbidden []string
}

// parseMemberOf parses every value of a member_of parameter (normalize_member_of_qs_params).
func parseMemberOf(values []string, suffix string, v version) (aggregateQuery, error) {
	var q aggregateQuery
	if !v.multipleMemberOf() && len(values) > 1 {
		return q, badRequest("Multiple member_of%s parameters are not supported", suffix)
	}
	seen := map[string]bool{}
	for _, val := range values {
		required, forbidden, err := parseMemberOfValue(val)
		if err != nil {
			return q, err
		}
		if len(required) > 0 {
			q.anyOf = append(q.anyOf, required)
		}
		if len(forbidden) > 0 {
			if !v.forbiddenAggregates() {
				return q, badRequest("Forbidden member_of%s parameters are not supported in the specified microversion", suffix)
			}
			for _, f := range forbidden {
				if !seen[f] {
					seen[f] = true
					q.forbidden = append(q.forbidden, f)
				}
			}
		}
	}
	return q, nil
}

func parseMemberOfValue(val string) (required, forbidden []string, err error) {
	if strings.Contains(val, ",") && !strings.HasPrefix(val, "in:") && !strings.HasPrefix(val, "!in:") {
		return nil, nil, badRequest("Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: %s", val)
	}
	switch {
	case strings.HasPrefix(val, "!in:"):
		forbidden = uniqueStrings(strings.Split(val[4:], ","), nil)
	case strings.HasPrefix(val, "!"):
		forbidden = []string{val[1:]}
	case strings.HasPrefix(val, "in:"):
		required = uniqueStrings(strings.Split(val[3:], ","), nil)
	default:
		required = []string{val}
	}
	for _, a := range append(append([]string(nil), required...), forbidden...) {
		if !isUUIDLike(a) {
			return nil, nil, badRequest("Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: %s", a)
		}
	}
	return required, forbidden, nil
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// isUUIDLike is oslo's uuidutils.is_uuid_like: the value, with dashes removed, braces and
// "urn:uuid:" stripped and lower-cased, is 32 hex digits.
func isUUIDLike(s string) bool {
	_, ok := canonicalUUID(s)
	return ok
}

// canonicalUUID returns s in the canonical dashed lower-case form if it is uuid-like
// (Python's str(uuid.UUID(s))).
func canonicalUUID(s string) (string, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "urn:")
	t = strings.TrimPrefix(t, "uuid:")
	t = strings.TrimPrefix(strings.TrimSuffix(t, "}"), "{")
	t = strings.ReplaceAll(t, "-", "")
	if !hex32.MatchString(t) {
		return "", false
	}
	return t[0:8] + "-" + t[8:12] + "-" + t[12:16] + "-" + t[16:20] + "-" + t[20:32], true
}
