// Package e2e holds ingot's end-to-end tests of instances: the real ingot binary, built
// from the tree, serving the instance API and driving a real Ironic (Debian's, with
// fake-hardware, started by scripts/ironic/env.sh) or the fake one, and checked from the
// outside through ingot's APIs and Ironic's. It has no code of its own beyond the tests.
//
//	eval "$(DEPLOY_DELAY=1 scripts/ironic/env.sh)" && go test -race ./internal/e2e/
//
// The real-Ironic tests skip without INGOT_IRONIC_URL and fail without it when
// INGOT_REQUIRE_IRONIC is set, as scripts/test.sh does.
package e2e
