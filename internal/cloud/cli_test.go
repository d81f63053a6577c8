package cloud

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestOpenstackCLI: the real openstack CLI (Debian's python3-openstackclient with
// osc-placement), with password auth and Placement found in its token's catalog, drives
// ingot's Placement API unchanged, as Nova's service user: providers, inventory, traits,
// allocations, usages and candidates.
func TestOpenstackCLI(t *testing.T) {
	e := keystoneEnv(t)
	if _, err := exec.LookPath("/usr/bin/openstack"); err != nil {
		t.Fatal("the openstack CLI is missing: scripts/keystone/install.sh installs it")
	}
	t.Parallel()
	p := startIngot(t, e)
	pointCatalog(t, e, p.base)
	demo := issue(t, e, "member", "demo")

	osc := func(out any, args ...string) {
		t.Helper()
		cmd := exec.Command("/usr/bin/openstack", append([]string{"--os-placement-api-version", "1.17"}, args...)...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(),
			"OS_AUTH_URL=" + e.url, "OS_IDENTITY_API_VERSION=3", "OS_INTERFACE=public",
			"OS_USERNAME=nova", "OS_PASSWORD=" + e.password, "OS_PROJECT_NAME=service",
			"OS_USER_DOMAIN_NAME=Default", "OS_PROJECT_DOMAIN_NAME=Default"}
		b, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("openstack %s: %v\n%s%s", strings.Join(args, " "), err, b, stderr)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("openstack %s: %v: %s", strings.Join(args, " "), err, b)
			}
		}
	}

	var rp struct{ UUID, Name string }
	osc(&rp, "resource", "provider", "create", "ks-cli-rp", "-f", "json")
	if rp.UUID == "" || rp.Name != "ks-cli-rp" {
		t.Fatalf("resource provider create: %+v", rp)
	}
	var list []struct{ UUID string }
	osc(&list, "resource", "provider", "list", "-f", "json")
	if len(list) != 1 || list[0].UUID != rp.UUID {
		t.Errorf("resource provider list: %+v, want just %s", list, rp.UUID)
	}
	var shown struct{ UUID, Name string }
	osc(&shown, "resource", "provider", "show", rp.UUID, "-f", "json")
	if shown != rp {
		t.Errorf("resource provider show: %+v, want %+v", shown, rp)
	}
	var inv []struct {
		ResourceClass string `json:"resource_class"`
		Total         int
	}
	osc(&inv, "resource", "provider", "inventory", "set", rp.UUID, "--resource", "VCPU=8", "--resource", "MEMORY_MB=4096", "-f", "json")
	if len(inv) != 2 {
		t.Errorf("resource provider inventory set: %+v", inv)
	}
	osc(nil, "trait", "create", "CUSTOM_KSCLOUD")
	var traits []struct{ Name string }
	osc(&traits, "resource", "provider", "trait", "set", rp.UUID, "--trait", "CUSTOM_KSCLOUD", "-f", "json")
	if len(traits) != 1 || traits[0].Name != "CUSTOM_KSCLOUD" {
		t.Errorf("resource provider trait set: %+v", traits)
	}
	consumer := "6f1c2a3e-0b1d-4c5e-8f70-8192a3b4c5d6"
	osc(nil, "resource", "provider", "allocation", "set", consumer,
		"--allocation", "rp="+rp.UUID+",VCPU=2,MEMORY_MB=1024",
		"--project-id", demo.projectID, "--user-id", demo.userID, "-f", "json")
	var usages []struct {
		ResourceClass string `json:"resource_class"`
		Usage         int
	}
	osc(&usages, "resource", "provider", "usage", "show", rp.UUID, "-f", "json")
	got := map[string]int{}
	for _, u := range usages {
		got[u.ResourceClass] = u.Usage
	}
	if got["VCPU"] != 2 || got["MEMORY_MB"] != 1024 {
		t.Errorf("resource provider usage show: %v, want VCPU 2 and MEMORY_MB 1024", got)
	}
	var cands []struct {
		ResourceProvider string `json:"resource provider"`
	}
	osc(&cands, "allocation", "candidate", "list", "--resource", "VCPU=6", "--required", "CUSTOM_KSCLOUD", "-f", "json")
	if len(cands) != 1 || cands[0].ResourceProvider != rp.UUID {
		t.Errorf("allocation candidate list VCPU=6: %+v, want the one provider", cands)
	}
	osc(&cands, "allocation", "candidate", "list", "--resource", "VCPU=7", "-f", "json")
	if len(cands) != 0 {
		t.Errorf("allocation candidate list VCPU=7 (6 free): %+v, want none", cands)
	}
}
