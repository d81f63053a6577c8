package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParseSortsTraits(t *testing.T) {
	cat, err := parse(strings.NewReader(`{"resource_classes":["VCPU","MEMORY_MB"],"traits":["B_TRAIT","A_TRAIT"]}`))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if want := []string{"VCPU", "MEMORY_MB"}; !slices.Equal(cat.ResourceClasses, want) {
		t.Errorf("resource classes = %q, want %q (upstream order kept)", cat.ResourceClasses, want)
	}
	if want := []string{"A_TRAIT", "B_TRAIT"}; !slices.Equal(cat.Traits, want) {
		t.Errorf("traits = %q, want %q", cat.Traits, want)
	}
}

func TestParseRejects(t *testing.T) {
	long := strings.Repeat("A", maxNameLen+1)
	tests := []struct {
		name, in, want string
	}{
		{"not json", `[`, "decode"},
		{"unknown field", `{"resource_classes":["VCPU"],"traits":["A"],"x":1}`, "unknown field"},
		{"no classes", `{"resource_classes":[],"traits":["A"]}`, "no resource classes"},
		{"no traits", `{"resource_classes":["VCPU"],"traits":[]}`, "no traits"},
		{"lower case class", `{"resource_classes":["vcpu"],"traits":["A"]}`, "does not match"},
		{"dash in trait", `{"resource_classes":["VCPU"],"traits":["A-B"]}`, "does not match"},
		{"long trait", `{"resource_classes":["VCPU"],"traits":["` + long + `"]}`, "longer than"},
		{"custom class", `{"resource_classes":["CUSTOM_X"],"traits":["A"]}`, "CUSTOM_ prefix"},
		{"custom trait", `{"resource_classes":["VCPU"],"traits":["CUSTOM_X"]}`, "CUSTOM_ prefix"},
		{"duplicate class", `{"resource_classes":["VCPU","VCPU"],"traits":["A"]}`, "duplicate resource class"},
		{"duplicate trait", `{"resource_classes":["VCPU"],"traits":["A","B","A"]}`, "duplicate trait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parse(%s) = %v, want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

var generatedRE = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

func TestRunWritesParseableGeneratedFiles(t *testing.T) {
	dir := t.TempDir()
	in := strings.NewReader(`{"resource_classes":["VCPU","MEMORY_MB"],"traits":["HW_CPU_X86_AVX2","COMPUTE_NODE"]}`)
	if err := run(in, dir, "python3-os-resource-classes 9.9.9-1", "python3-os-traits 8.8.8-1"); err != nil {
		t.Fatalf("run: %v", err)
	}
	for file, want := range map[string][]string{
		"classes_gen.go": {"python3-os-resource-classes 9.9.9-1", "\"VCPU\",      // 0\n", "\"MEMORY_MB\", // 1\n"},
		"traits_gen.go":  {"python3-os-traits 8.8.8-1", "\"COMPUTE_NODE\",\n\t\"HW_CPU_X86_AVX2\","},
	} {
		src, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !generatedRE.Match(src) {
			t.Errorf("%s has no standard generated-code header:\n%s", file, src)
		}
		for _, w := range want {
			if !strings.Contains(string(src), w) {
				t.Errorf("%s does not contain %q:\n%s", file, w, src)
			}
		}
		if _, err := parser.ParseFile(token.NewFileSet(), file, src, parser.AllErrors); err != nil {
			t.Errorf("%s does not parse: %v", file, err)
		}
	}
}

func TestRunWritesNothingOnBadInput(t *testing.T) {
	dir := t.TempDir()
	in := strings.NewReader(`{"resource_classes":["VCPU"],"traits":["A","A"]}`)
	if err := run(in, dir, "a 1", "b 1"); err == nil {
		t.Fatal("run with duplicate traits succeeded, want an error")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("run wrote %d files on bad input, want none", len(entries))
	}
}

func TestRunRequiresSources(t *testing.T) {
	in := strings.NewReader(`{"resource_classes":["VCPU"],"traits":["A"]}`)
	if err := run(in, t.TempDir(), "", "b 1"); err == nil {
		t.Error("run without -classes-source succeeded, want an error")
	}
}
