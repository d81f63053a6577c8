package ironictest

import (
	"os"
	"testing"
)

// Real is a real Ironic to run a test against, read from the environment.
type Real struct {
	URL, ConductorGroup, User, Password string
}

// RealIronic returns the real Ironic named by INGOT_IRONIC_URL (with INGOT_IRONIC_CONDUCTOR_GROUP,
// default "ingot", and INGOT_IRONIC_USER / INGOT_IRONIC_PASSWORD). Without a URL it skips t,
// unless INGOT_REQUIRE_IRONIC is set (as scripts/test.sh does), when it fails t: CI must never
// count a skipped real-Ironic test as passed. Start one with eval "$(scripts/ironic/env.sh)".
func RealIronic(t testing.TB) Real {
	t.Helper()
	u := os.Getenv("INGOT_IRONIC_URL")
	if u == "" {
		if os.Getenv("INGOT_REQUIRE_IRONIC") != "" {
			t.Fatal("INGOT_REQUIRE_IRONIC is set but INGOT_IRONIC_URL is not")
		}
		t.Skip(`INGOT_IRONIC_URL is not set: run eval "$(scripts/ironic/env.sh)" to start a real Ironic ` +
			"(Debian's ironic-common, fake-hardware) and test against it")
	}
	group := os.Getenv("INGOT_IRONIC_CONDUCTOR_GROUP")
	if group == "" {
		group = "ingot"
	}
	return Real{URL: u, ConductorGroup: group, User: os.Getenv("INGOT_IRONIC_USER"), Password: os.Getenv("INGOT_IRONIC_PASSWORD")}
}
