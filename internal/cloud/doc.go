// Package cloud holds ingot's integration tests in an OpenStack cloud: the real ingot
// binary, built from the tree, serving with --auth keystone behind a real Keystone
// (Debian's, started by scripts/keystone/env.sh, with the users and the placement catalog
// entry scripts/keystone/bootstrap.sh creates), driven by the real openstack CLI and by
// tokens of each role. It has no code of its own beyond the tests.
//
//	eval "$(scripts/keystone/env.sh)" && go test -race ./internal/cloud/
//
// The tests skip without INGOT_TEST_KEYSTONE_URL and fail without it when
// INGOT_REQUIRE_KEYSTONE is set, as scripts/test.sh does; TestIronicBehindKeystone
// likewise needs INGOT_TEST_KEYSTONE_IRONIC_URL, an Ironic behind that Keystone
// (scripts/ironic/start.sh AUTH=keystone), with INGOT_REQUIRE_KEYSTONE_IRONIC. They repoint the catalog's
// placement endpoint at the ingot they start, so two runs must not share one Keystone.
package cloud
