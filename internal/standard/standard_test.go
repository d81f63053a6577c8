package standard

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var nameRE = regexp.MustCompile(`^[A-Z0-9_]+$`)

// checkNames checks the rules every standard name obeys in Placement.
func checkNames(t *testing.T, kind string, names []string) {
	t.Helper()
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !nameRE.MatchString(n) {
			t.Errorf("%s %q does not match %s", kind, n, nameRE)
		}
		if len(n) > 255 {
			t.Errorf("%s %q is %d characters, want at most 255", kind, n, len(n))
		}
		if strings.HasPrefix(n, "CUSTOM_") {
			t.Errorf("standard %s %q starts with CUSTOM_", kind, n)
		}
		if seen[n] {
			t.Errorf("%s %q appears more than once", kind, n)
		}
		seen[n] = true
	}
}

func TestResourceClasses(t *testing.T) {
	t.Parallel()
	got := ResourceClasses()
	if len(got) != 21 {
		t.Fatalf("len(ResourceClasses()) = %d, want 21 (GET /resource_classes counts them)", len(got))
	}
	if got[0] != "VCPU" {
		t.Errorf("ResourceClasses()[0] = %q, want VCPU", got[0])
	}
	if last := got[len(got)-1]; last != "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC" {
		t.Errorf("ResourceClasses()[20] = %q, want NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC", last)
	}
	checkNames(t, "resource class", got)
	for i, c := range got {
		id, ok := ResourceClassID(c)
		if !ok || id != i {
			t.Errorf("ResourceClassID(%q) = %d, %t, want %d, true", c, id, ok, i)
		}
		if id >= FirstCustomResourceClassID {
			t.Errorf("ResourceClassID(%q) = %d, want below FirstCustomResourceClassID %d", c, id, FirstCustomResourceClassID)
		}
	}
}

func TestResourceClassIDKnown(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]int{
		"VCPU":                                   0,
		"MEMORY_MB":                              1,
		"DISK_GB":                                2,
		"SRIOV_NET_VF":                           4,
		"PCPU":                                   14,
		"NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC": 20,
	} {
		if id, ok := ResourceClassID(name); !ok || id != want {
			t.Errorf("ResourceClassID(%q) = %d, %t, want %d, true", name, id, ok, want)
		}
	}
}

func TestResourceClassIDUnknown(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "vcpu", "CUSTOM_VCPU", "CUSTOM_NET_MBPS", "VCPU ", "HW_CPU_X86_AVX2"} {
		if id, ok := ResourceClassID(name); ok {
			t.Errorf("ResourceClassID(%q) = %d, true, want 0, false", name, id)
		}
	}
}

func TestTraits(t *testing.T) {
	t.Parallel()
	got := Traits()
	if len(got) < 300 {
		t.Errorf("len(Traits()) = %d, want at least 300 (os-traits 2.9.0 has 345)", len(got))
	}
	if !slices.IsSorted(got) {
		t.Error("Traits() is not sorted")
	}
	checkNames(t, "trait", got)
	for _, want := range []string{
		"HW_CPU_X86_AVX2",
		"MISC_SHARES_VIA_AGGREGATE",
		"COMPUTE_STATUS_DISABLED",
		"HW_NUMA_ROOT",
		"COMPUTE_VOLUME_MULTI_ATTACH",
		"STORAGE_DISK_SSD",
	} {
		if _, found := slices.BinarySearch(got, want); !found {
			t.Errorf("Traits() does not contain %s", want)
		}
		if !IsTrait(want) {
			t.Errorf("IsTrait(%q) = false, want true", want)
		}
	}
	for _, tr := range got {
		if !IsTrait(tr) {
			t.Errorf("IsTrait(%q) = false for a trait in Traits()", tr)
		}
	}
}

func TestIsTraitUnknown(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "hw_cpu_x86_avx2", "CUSTOM_HW_CPU_X86_AVX2", "CUSTOM_FOO", "VCPU", "HW_CPU_X86_AVX2 "} {
		if IsTrait(name) {
			t.Errorf("IsTrait(%q) = true, want false", name)
		}
	}
}

func TestResultsAreCopies(t *testing.T) {
	t.Parallel()
	c := ResourceClasses()
	c[0] = "CHANGED"
	if got := ResourceClasses()[0]; got != "VCPU" {
		t.Errorf("after modifying a returned slice, ResourceClasses()[0] = %q, want VCPU", got)
	}
	if _, ok := ResourceClassID("VCPU"); !ok {
		t.Error("after modifying a returned slice, ResourceClassID(VCPU) is not found")
	}
	tr := Traits()
	first := tr[0]
	tr[0] = "CHANGED"
	if got := Traits()[0]; got != first {
		t.Errorf("after modifying a returned slice, Traits()[0] = %q, want %q", got, first)
	}
}

// pythonCatalogue is what internal/gen/query.py prints.
type pythonCatalogue struct {
	ResourceClasses []string `json:"resource_classes"`
	Traits          []string `json:"traits"`
}

// TestMatchesDebianPackages runs the generator's Python query against the installed Debian
// packages and checks the committed generated lists equal its output exactly. CI installs the
// packages and sets INGOT_REQUIRE_CATALOGUES, so it runs there; elsewhere it skips.
func TestMatchesDebianPackages(t *testing.T) {
	t.Parallel()
	const python = "/usr/bin/python3"
	probe := exec.CommandContext(t.Context(), python, "-c", "import os_resource_classes, os_traits")
	if out, err := probe.CombinedOutput(); err != nil {
		if os.Getenv("INGOT_REQUIRE_CATALOGUES") != "" {
			t.Fatalf("INGOT_REQUIRE_CATALOGUES is set but %s cannot import them: %v: %s", python, err, bytes.TrimSpace(out))
		}
		t.Skipf("skipping: %s cannot import os_resource_classes and os_traits (%v: %s); "+
			"install them with: apt-get install -y --no-install-recommends python3-os-resource-classes python3-os-traits",
			python, err, bytes.TrimSpace(out))
	}

	query := exec.CommandContext(t.Context(), python, "internal/gen/query.py")
	var stderr bytes.Buffer
	query.Stderr = &stderr
	out, err := query.Output()
	if err != nil {
		t.Fatalf("%s internal/gen/query.py: %v\n%s", python, err, stderr.Bytes())
	}
	var want pythonCatalogue
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("decode query output: %v\n%s", err, out)
	}

	hint := "generated from " + resourceClassesSource + " and " + traitsSource +
		"; installed: " + installedVersions(t) + "; run scripts/gen-standard.sh and commit the result"
	if got := ResourceClasses(); !slices.Equal(got, want.ResourceClasses) {
		t.Errorf("ResourceClasses() differs from os_resource_classes.STANDARDS (order matters: index == id)\n got: %q\nwant: %q\n%s",
			got, want.ResourceClasses, hint)
	}
	if got := Traits(); !slices.Equal(got, want.Traits) {
		t.Errorf("Traits() differs from sorted(os_traits.get_traits()) (%d vs %d traits)\nmissing: %q\n  extra: %q\n%s",
			len(got), len(want.Traits), missing(got, want.Traits), missing(want.Traits, got), hint)
	}
}

// missing returns the names in want that are not in got.
func missing(got, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

// installedVersions describes the installed Debian packages, for failure messages only.
func installedVersions(t *testing.T) string {
	cmd := exec.CommandContext(t.Context(), "dpkg-query", "-W", "-f=${Package} ${Version}, ",
		"python3-os-resource-classes", "python3-os-traits")
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "unknown (no dpkg-query)"
		}
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSuffix(string(out), ", ")
}

// TestGeneratedHeaders checks the generated files still carry the standard header naming
// their source packages, so nobody edits them by hand unawares.
func TestGeneratedHeaders(t *testing.T) {
	t.Parallel()
	header := regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)
	for file, source := range map[string]string{
		"classes_gen.go": resourceClassesSource,
		"traits_gen.go":  traitsSource,
	} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		line := header.Find(src)
		if line == nil {
			t.Errorf("%s has no `// Code generated ... DO NOT EDIT.` line", file)
			continue
		}
		if !bytes.Contains(line, []byte(source)) {
			t.Errorf("%s header %q does not name its source %q", file, line, source)
		}
	}
}
