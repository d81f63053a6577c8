package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"ingot/internal/app"
)

const candidatesUsage = `usage: ingot candidates explain [flags]

  explain  --resources RC:N,... [--required T]... [--member-of AGG]... [--in-tree UUID]
           [--group 'SUFFIX resources=RC:N,... required=T member_of=AGG in_tree=UUID']...
           [--group-policy none|isolate] [--root-required T,...] [--same-subtree S1,S2]...
           [--limit N] [--microversion 1.39] | --query 'resources=...&required=...'

Explains why an allocation-candidates query gets the candidates it gets: per request
group, how many providers each filter removed, with examples; then how the groups
combined. Takes --url (INGOT_URL, default http://%s), --token (INGOT_TOKEN) and
-f json|table.
`

// candidatesCmd runs `ingot candidates ...` and returns the exit code: 0 done, 1 the API
// refused, 2 a usage mistake.
func candidatesCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, candidatesUsage, app.DefaultConfig().ListenAddr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "explain" {
		fmt.Fprintf(stderr, "ingot candidates: unknown command %q (want explain)\n", args[0])
		return 2
	}
	c := &cli{name: "ingot candidates explain", getenv: getenv, stdout: stdout, stderr: stderr}
	err := c.explain(ctx, args[1:])
	return c.exit(err)
}

// explainQuery builds the allocation-candidates query string from the flags, in the
// order Placement reads request groups: the unsuffixed group, then each --group.
func explainQuery(resources string, required, memberOf []string, inTree string, groups []string,
	groupPolicy, rootRequired string, sameSubtree []string, limit int) (string, error) {
	var parts []string
	add := func(k, v string) { parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v)) }
	if resources != "" {
		add("resources", resources)
	}
	for _, t := range required {
		add("required", t)
	}
	for _, a := range memberOf {
		add("member_of", a)
	}
	if inTree != "" {
		add("in_tree", inTree)
	}
	for _, g := range groups {
		fields := strings.Fields(g)
		if len(fields) < 2 {
			return "", usagef("--group %q: want 'SUFFIX key=value...' (resources, required, member_of, in_tree)", g)
		}
		for _, kv := range fields[1:] {
			k, v, ok := strings.Cut(kv, "=")
			switch {
			case !ok:
				return "", usagef("--group %q: %q is not key=value", g, kv)
			case k != "resources" && k != "required" && k != "member_of" && k != "in_tree":
				return "", usagef("--group %q: unknown key %q (want resources, required, member_of or in_tree)", g, k)
			}
			add(k+fields[0], v)
		}
	}
	if groupPolicy != "" {
		add("group_policy", groupPolicy)
	}
	if rootRequired != "" {
		add("root_required", rootRequired)
	}
	for _, s := range sameSubtree {
		add("same_subtree", s)
	}
	if limit > 0 {
		add("limit", strconv.Itoa(limit))
	}
	return strings.Join(parts, "&"), nil
}

func (c *cli) explain(ctx context.Context, args []string) error {
	fs := c.flags()
	var required, memberOf, groups, sameSubtree stringList
	resources := fs.String("resources", "", "unsuffixed group's resources, RC:N,RC:N")
	fs.Var(&required, "required", "unsuffixed group's required traits (T, !T, in:T1,T2; repeatable)")
	fs.Var(&memberOf, "member-of", "unsuffixed group's member_of (AGG, in:A,B, !AGG; repeatable)")
	inTree := fs.String("in-tree", "", "unsuffixed group's in_tree provider UUID")
	fs.Var(&groups, "group", "a suffixed group: 'SUFFIX resources=RC:N,... required=T member_of=AGG in_tree=UUID' (repeatable)")
	groupPolicy := fs.String("group-policy", "", "group_policy: none or isolate")
	rootRequired := fs.String("root-required", "", "root_required traits, T,!T")
	fs.Var(&sameSubtree, "same-subtree", "same_subtree suffixes, S1,S2 (repeatable)")
	limit := fs.Int("limit", 0, "limit (0: none)")
	query := fs.String("query", "", "a whole GET /allocation_candidates query string instead of the flags above")
	mv := fs.String("microversion", "latest", "Placement microversion of the query")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	q := strings.TrimPrefix(*query, "?")
	if q == "" {
		if q, err = explainQuery(*resources, required, memberOf, *inTree, groups, *groupPolicy, *rootRequired, sameSubtree, *limit); err != nil {
			return err
		}
	} else if *resources != "" || len(groups) > 0 {
		return usagef("--query replaces --resources and --group: give one or the other")
	}
	if q == "" {
		return usagef("nothing to explain: give --resources, --group or --query")
	}
	var raw json.RawMessage
	if err := c.client.ExplainCandidates(ctx, q, *mv, &raw); err != nil {
		return err
	}
	if c.format == "json" {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		return writeJSON(c.stdout, v)
	}
	var e explanation
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	e.print(c.stdout)
	return nil
}

// explanation is the explain call's answer (docs/explain.md), as the table shows it.
type explanation struct {
	Providers int `json:"providers"`
	Groups    []struct {
		Group            string        `json:"group"`
		Steps            []explainStep `json:"steps"`
		Eligible         int           `json:"eligible"`
		EligibleExamples []explainEx   `json:"eligible_examples"`
		Summary          string        `json:"summary"`
	} `json:"groups"`
	Combination struct {
		GroupPolicy     string        `json:"group_policy"`
		Steps           []explainStep `json:"steps"`
		RejectedChoices []struct {
			Reason   string      `json:"reason"`
			Choices  int         `json:"choices"`
			Examples []explainEx `json:"examples"`
		} `json:"rejected_choices"`
		Summary string `json:"summary"`
	} `json:"combination"`
}

type explainStep struct {
	Step       string `json:"step"`
	Considered int    `json:"considered"`
	Removed    int    `json:"removed"`
	Kept       int    `json:"kept"`
	Causes     []struct {
		Cause   string `json:"cause"`
		Removed int    `json:"removed"`
	} `json:"causes"`
	Examples []explainEx `json:"examples"`
}

type explainEx struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

func exampleNames(ex []explainEx) string {
	var names []string
	for _, e := range ex {
		n := e.Name
		if n == "" {
			n = e.UUID
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

func stepRows(steps []explainStep) [][]string {
	rows := [][]string{{"Step", "Considered", "Removed", "Kept", "Causes", "Examples"}}
	for _, s := range steps {
		var causes []string
		for _, c := range s.Causes {
			causes = append(causes, fmt.Sprintf("%s: %d", c.Cause, c.Removed))
		}
		rows = append(rows, []string{s.Step, strconv.Itoa(s.Considered), strconv.Itoa(s.Removed), strconv.Itoa(s.Kept),
			strings.Join(causes, ", "), exampleNames(s.Examples)})
	}
	return rows
}

// print writes, per group, its summary and a table of its steps; then the combination.
func (e explanation) print(w io.Writer) {
	for _, g := range e.Groups {
		fmt.Fprintf(w, "Group %s: %s\n", g.Group, g.Summary)
		rows := stepRows(g.Steps)
		rows = append(rows, []string{"eligible", "", "", strconv.Itoa(g.Eligible), "", exampleNames(g.EligibleExamples)})
		writeTable(w, rows)
		fmt.Fprintln(w)
	}
	c := e.Combination
	fmt.Fprintf(w, "Combination (group_policy %s), in trees: %s\n", c.GroupPolicy, c.Summary)
	writeTable(w, stepRows(c.Steps))
	if len(c.RejectedChoices) > 0 {
		rows := [][]string{{"Rejected choice", "Count", "Examples"}}
		for _, r := range c.RejectedChoices {
			rows = append(rows, []string{r.Reason, strconv.Itoa(r.Choices), exampleNames(r.Examples)})
		}
		writeTable(w, rows)
	}
}
