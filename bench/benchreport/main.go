// Command benchreport joins placementbench results of several servers into one comparison:
// for every metric of every data set and size, each server's value and the ratio of each server
// to the baseline server, as a markdown table (stdout, and -md) and a JSON document (-json).
//
// Ratios are speed-ups over the baseline, so that more than 1 always means faster than the
// baseline: server/baseline for throughputs, baseline/server for latencies. Counts (candidates,
// providers, conflicts) get no ratio; differing candidate or provider counts are marked.
//
// Usage: benchreport [-baseline placement] [-md FILE] [-json FILE] LABEL=RESULT.json ...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	baseline := flag.String("baseline", "placement", "label of the server the others are compared with")
	mdPath := flag.String("md", "", "also write the markdown report to this file")
	jsonPath := flag.String("json", "", "write the joined report as JSON to this file")
	title := flag.String("title", "ingot vs the real Placement", "heading of the markdown report")
	flag.Parse()
	if err := run(*baseline, *mdPath, *jsonPath, *title, flag.Args(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// run reads the labeled result files and writes the report.
func run(baseline, mdPath, jsonPath, title string, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no LABEL=RESULT.json arguments")
	}
	var runs []labeledRun
	for _, a := range args {
		r, err := readRun(a)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	rep := join(runs, baseline)
	rep.Title = title
	md := rep.markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if mdPath != "" {
		if err := os.WriteFile(mdPath, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write markdown report: %w", err)
		}
	}
	if jsonPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
		if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write json report: %w", err)
		}
	}
	return nil
}

// readRun reads one LABEL=PATH argument.
func readRun(arg string) (labeledRun, error) {
	label, path, ok := strings.Cut(arg, "=")
	if !ok || label == "" || path == "" {
		return labeledRun{}, fmt.Errorf("argument %q is not LABEL=RESULT.json", arg)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return labeledRun{}, fmt.Errorf("read result: %w", err)
	}
	var r benchResult
	if err := json.Unmarshal(b, &r); err != nil {
		return labeledRun{}, fmt.Errorf("decode result %s: %w", path, err)
	}
	return labeledRun{Label: label, Result: r}, nil
}
