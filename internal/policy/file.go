package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"
)

// loadFile reads a policy file and parses its rules. Like oslo.policy it
// reads the file as JSON first and as YAML when that fails. Problems in
// individual rules come back as warnings; a file that is not a mapping of
// names to rules is an error naming the file.
func loadFile(path string) (map[string]*node, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read policy file: %w", err)
	}
	raw, err := decodeRules(data)
	if err != nil {
		return nil, nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	rules := make(map[string]*node, len(raw))
	var warnings []string
	for _, name := range slices.Sorted(maps.Keys(raw)) { // warnings in a stable order
		r := raw[name]
		var n *node
		var problems []string
		if r.list != nil {
			n, problems = parseListRule(r.list)
		} else {
			n, problems = parse(r.text)
		}
		for _, p := range problems {
			warnings = append(warnings, fmt.Sprintf("policy file %s: rule %q: %s", path, name, p))
		}
		rules[name] = n
	}
	for _, name := range sortedDuplicates(raw) {
		warnings = append(warnings, fmt.Sprintf("policy file %s: rule %q is set more than once: the last one counts", path, name))
	}
	return rules, warnings, nil
}

// rawRule is a rule as a policy file writes it: a string in the policy
// language, or the old list-of-lists syntax (list non-nil).
type rawRule struct {
	text string
	list [][]string
	// dup is set when a YAML file set the name more than once.
	dup bool
}

// decodeRules decodes a JSON or YAML document mapping rule names to rules.
// An empty document has no rules. A null rule is the empty rule (always),
// as oslo.policy parses it.
func decodeRules(data []byte) (map[string]rawRule, error) {
	var doc any
	if json.Unmarshal(data, &doc) == nil {
		return jsonRules(doc)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	return yamlRules(&root)
}

func jsonRules(doc any) (map[string]rawRule, error) {
	if doc == nil {
		return map[string]rawRule{}, nil
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a mapping of rule names to rules, got %s", jsonType(doc))
	}
	rules := make(map[string]rawRule, len(m))
	for name, v := range m {
		r, err := jsonRule(v)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", name, err)
		}
		rules[name] = r
	}
	return rules, nil
}

func jsonRule(v any) (rawRule, error) {
	switch v := v.(type) {
	case nil:
		return rawRule{}, nil
	case string:
		return rawRule{text: v}, nil
	case []any:
		list := make([][]string, 0, len(v))
		for _, inner := range v {
			switch inner := inner.(type) {
			case string:
				if inner != "" { // oslo skips empty entries
					list = append(list, []string{inner})
				}
			case []any:
				and := make([]string, 0, len(inner))
				for _, c := range inner {
					s, ok := c.(string)
					if !ok {
						return rawRule{}, fmt.Errorf("want a check string in the inner list, got %s", jsonType(c))
					}
					and = append(and, s)
				}
				list = append(list, and)
			default:
				return rawRule{}, fmt.Errorf("want a string or a list in the rule list, got %s", jsonType(inner))
			}
		}
		return rawRule{list: list}, nil
	}
	return rawRule{}, fmt.Errorf("want a string or a list of lists, got %s", jsonType(v))
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func yamlRules(root *yaml.Node) (map[string]rawRule, error) {
	if root.Kind == 0 { // empty document
		return map[string]rawRule{}, nil
	}
	doc := deref(root)
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return map[string]rawRule{}, nil
		}
		doc = deref(doc.Content[0])
	}
	if isNull(doc) {
		return map[string]rawRule{}, nil
	}
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want a mapping of rule names to rules, got %s", doc.Line, yamlType(doc))
	}
	rules := make(map[string]rawRule, len(doc.Content)/2)
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := deref(doc.Content[i]), deref(doc.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nil, fmt.Errorf("line %d: want a rule name (a string), got %s", k.Line, yamlType(k))
		}
		r, err := yamlRule(v)
		if err != nil {
			return nil, fmt.Errorf("line %d: rule %q: %w", v.Line, k.Value, err)
		}
		if _, seen := rules[k.Value]; seen {
			r.dup = true
		}
		rules[k.Value] = r
	}
	return rules, nil
}

func yamlRule(v *yaml.Node) (rawRule, error) {
	switch {
	case isNull(v):
		return rawRule{}, nil
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
		return rawRule{text: v.Value}, nil
	case v.Kind == yaml.SequenceNode:
		list := make([][]string, 0, len(v.Content))
		for _, inner := range v.Content {
			inner = deref(inner)
			switch {
			case inner.Kind == yaml.ScalarNode && inner.ShortTag() == "!!str":
				if inner.Value != "" { // oslo skips empty entries
					list = append(list, []string{inner.Value})
				}
			case inner.Kind == yaml.SequenceNode:
				and := make([]string, 0, len(inner.Content))
				for _, c := range inner.Content {
					c = deref(c)
					if c.Kind != yaml.ScalarNode || c.ShortTag() != "!!str" {
						return rawRule{}, fmt.Errorf("want a check string in the inner list, got %s", yamlType(c))
					}
					and = append(and, c.Value)
				}
				list = append(list, and)
			default:
				return rawRule{}, fmt.Errorf("want a string or a list in the rule list, got %s", yamlType(inner))
			}
		}
		return rawRule{list: list}, nil
	}
	return rawRule{}, fmt.Errorf("want a string or a list of lists, got %s", yamlType(v))
}

// deref follows YAML aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func yamlType(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar of type " + n.ShortTag()
	}
	return "an unexpected node"
}

func sortedDuplicates(raw map[string]rawRule) []string {
	var names []string
	for name, r := range raw {
		if r.dup {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
