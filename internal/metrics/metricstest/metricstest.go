// Package metricstest scrapes a Prometheus endpoint in tests and reads the values back:
// the exposition is parsed with Prometheus' own text parser (legacy metric names, as
// Prometheus validates them), so a malformed exposition fails the test.
package metricstest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape GETs url in the text exposition format and parses it; any failure fails t.
func Scrape(t testing.TB, url string) Families {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %d %s", url, resp.StatusCode, b)
	}
	return Parse(t, resp.Body)
}

// Parse parses a text exposition; a malformed one fails t.
func Parse(t testing.TB, r io.Reader) Families {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

// Get returns the sum of the values of the series of name whose labels include every
// label in want (name/value pairs), and how many series matched. For a histogram, name
// may end in _count or _sum (its observations or their sum).
func (f Families) Get(name string, want ...string) (float64, int) {
	field := ""
	fam, ok := f[name]
	if !ok {
		for _, sfx := range []string{"_count", "_sum"} {
			if base, cut := strings.CutSuffix(name, sfx); cut {
				if fam, ok = f[base]; ok {
					field = sfx
				}
			}
		}
	}
	if fam == nil {
		return 0, 0
	}
	sum, n := 0.0, 0
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		n++
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		case m.Histogram != nil && field == "_count":
			sum += float64(m.Histogram.GetSampleCount())
		case m.Histogram != nil && field == "_sum":
			sum += m.Histogram.GetSampleSum()
		}
	}
	return sum, n
}

// Value is Get's sum, failing t when no series matches.
func (f Families) Value(t testing.TB, name string, want ...string) float64 {
	t.Helper()
	v, n := f.Get(name, want...)
	if n == 0 {
		t.Fatalf("no series %s%v in the scrape", name, want)
	}
	return v
}

// LabelValues returns the distinct values of label over the series of name.
func (f Families) LabelValues(name, label string) []string {
	fam, ok := f[name]
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range fam.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && !seen[l.GetValue()] {
				seen[l.GetValue()] = true
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

func hasLabels(m *dto.Metric, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == want[i] && l.GetValue() == want[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
