// Command authreport computes what Keystone authentication costs, from one run of
// scripts/bench-keystone.sh: the same placementbench requests against four servers,
//
//	ingot-noauth2        (a) ingot --auth noauth2
//	ingot-keystone       (b) ingot --auth keystone, one Keystone token, cached
//	placement-noauth2    (c) the real Placement, noauth2
//	placement-keystone   (d) the real Placement behind keystonemiddleware, token cached
//
// in rounds, plus the in-process Go benchmarks of ingot's middleware. It reads from -dir:
//
//	ingot.r<k>.paired.json        placementbench's paired phase: one client alternating
//	placement.r<k>.paired.json    request by request between a and b (c and d)
//	ingot.r<k>.pairedtp.json      placementbench's pairedtp phase: concurrent clients in
//	placement.r<k>.pairedtp.json  time slices alternating between a and b (c and d)
//	gobench.r<k>.txt              go test -bench output of internal/keystone
//
// and writes a markdown report (-md) and a JSON one (-json). Per round it takes, for every
// request kind, the throughput ratios b/a and d/c and the median-latency differences b-a
// and d-c (and the medians of the per-pair differences, also pooled over all kinds); each
// figure is then the median over the rounds, and a summary over kinds the median over them.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("dir", ".", "directory with the round files")
	md := flag.String("md", "", "write the markdown report here (default stdout)")
	js := flag.String("json", "", "write the JSON report here")
	title := flag.String("title", "Keystone authentication: ingot vs keystonemiddleware", "report title")
	flag.Parse()
	if err := run(*dir, *md, *js, *title); err != nil {
		fmt.Fprintln(os.Stderr, "authreport:", err)
		os.Exit(1)
	}
}

// run loads the rounds in dir and writes the reports.
func run(dir, mdPath, jsonPath, title string) error {
	rounds, err := loadRounds(dir)
	if err != nil {
		return err
	}
	rep := analyze(rounds)
	rep.Title = title
	if jsonPath != "" {
		if err := writeJSON(jsonPath, rep); err != nil {
			return err
		}
	}
	text := rep.markdown()
	if mdPath == "" {
		_, err = os.Stdout.WriteString(text)
		return err
	}
	return os.WriteFile(mdPath, []byte(text), 0o644)
}
