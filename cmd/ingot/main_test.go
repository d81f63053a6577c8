package main

import (
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{
		"INGOT_LISTEN":               "127.0.0.1:9999",
		"INGOT_DATABASE":             "sqlite:/tmp/x.db",
		"INGOT_ENFORCE_NEW_DEFAULTS": "false",
	}
	var stderr bytes.Buffer
	cfg, err := parseServeFlags([]string{"--listen", "127.0.0.1:7777", "--cors-allowed-origin", "http://a, http://b"},
		func(k string) string { return env[k] }, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ListenAddr != "127.0.0.1:7777" {
		t.Errorf("ListenAddr = %q; the flag should win over INGOT_LISTEN", cfg.ListenAddr)
	}
	if cfg.DatabaseURL != "sqlite:/tmp/x.db" || cfg.EnforceNewDefaults {
		t.Errorf("environment not applied: %+v", cfg)
	}
	if len(cfg.CORSAllowedOrigins) != 2 || cfg.CORSAllowedOrigins[1] != "http://b" {
		t.Errorf("CORSAllowedOrigins = %q", cfg.CORSAllowedOrigins)
	}
}

func TestHealthFlags(t *testing.T) {
	env := map[string]string{"INGOT_HEALTHCHECK_DISABLE_FILE": "/run/ingot/healthcheck_disable"}
	cfg, err := parseServeFlags([]string{"--shutdown-delay", "5s", "--healthcheck-detailed"},
		func(k string) string { return env[k] }, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShutdownDelay != 5*time.Second || cfg.HealthcheckDisableFile != "/run/ingot/healthcheck_disable" || !cfg.HealthcheckDetailed {
		t.Errorf("health flags: delay %v, disable file %q, detailed %v", cfg.ShutdownDelay, cfg.HealthcheckDisableFile, cfg.HealthcheckDetailed)
	}
}

// TestBadConfigurationIsOneLine runs serve with bad settings: each stops with exit code 2
// and one line on stderr, before listening.
func TestBadConfigurationIsOneLine(t *testing.T) {
	// serve also reads INGOT_* variables: those of the test run (INGOT_IRONIC_URL when a
	// real Ironic is up) must not make a bad command line good and start a server.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "INGOT_") {
			t.Setenv(k, "")
		}
	}
	for _, args := range [][]string{
		{"serve", "--database", "mysql://x"},
		{"serve", "--listen", "0.0.0.0:8778"}, // noauth2 on a public address
		{"serve", "--auth", "keystone"},
		{"serve", "--auth", "keystone", "--keystone-url", "http://ks:5000/v3"}, // no credentials
		{"serve", "--auth", "keystone", "--keystone-url", "http://ks:5000/v3", "--keystone-username", "placement", "--keystone-password", "p"}, // no project
		{"serve", "--auth", "keystone", "--keystone-url", "http://ks:5000/v3", "--keystone-application-credential-id", "a"},                    // no secret
		{"serve", "--auth", "keystone", "--keystone-url", "http://ks:5000/v3", "--keystone-application-credential-id", "a",
			"--keystone-application-credential-secret", "s", "--keystone-username", "u", "--keystone-password", "p", "--keystone-project", "x"}, // both kinds
		{"serve", "--auth", "kerberos"},
		{"serve", "--enforce-new-defaults=maybe"},
		{"serve", "--policy-file", "/does/not/exist.yaml"},
		{"serve", "--log-level", "loud"},
		{"serve", "--database", "sqlite:", "--log-format", "xml"},
		{"serve", "--ironic-shard", "s1", "--ironic-username", "u"}, // no --ironic-url
		{"serve", "--ironic-url", "ftp://ironic"},
		{"serve", "--ironic-url", "http://ironic:6385", "--sync-interval", "10ms"},
		{"serve", "--ironic-url", "http://ironic:6385", "--ironic-password", "p"}, // no username
		{"serve", "--ironic-url", "http://ironic:6385", "--ironic-password-file", "/does/not/exist"},
		{"serve", "--ironic-url", "http://ironic:6385", "--deploy-weigher", "random"},
		{"serve", "--ironic-url", "http://ironic:6385", "--deploy-max-attempts", "0"},
		{"serve", "--ironic-url", "http://ironic:6385", "--deploy-timeout", "10ms"},
		{"serve", "--ironic-url", "http://ironic:6385", "--deploy-watch-interval", "5s"},
		{"serve", "--shutdown-delay", "-1s"},
		{"serve", "--ironic-from-catalog"},          // no --auth keystone
		{"serve", "--ironic-region", "RegionOne"},   // no --ironic-from-catalog
		{"serve", "--ironic-interface", "internal"}, // no --ironic-from-catalog
		{"serve", "--auth", "keystone", "--keystone-url", "http://ks:5000/v3", "--keystone-username", "u", "--keystone-password", "p",
			"--keystone-project", "service", "--ironic-from-catalog", "--ironic-url", "http://ironic:6385"}, // both
		{"serve", "--auth", "keystone", "--keystone-url", "http://ks:5000/v3", "--keystone-username", "u", "--keystone-password", "p",
			"--keystone-project", "service", "--ironic-from-catalog", "--ironic-interface", "private"},
		{"serve", "--auth", "keystone", "--keystone-url", "http://ks:5000/v3", "--keystone-username", "u", "--keystone-password", "p",
			"--keystone-project", "service", "--ironic-from-catalog", "--ironic-username", "u"}, // basic auth to a catalog Ironic
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "ingot: ") {
			t.Errorf("ingot %s: exit %d, stderr %q; want exit 2 and one line", strings.Join(args, " "), code, stderr.String())
		}
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "ingot ") {
		t.Fatalf("version: exit %d, %q", code, stdout.String())
	}
}

// TestDeps keeps test-only packages out of the binary.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "testing", "net/http/httptest", "ingot/internal/store/storetest", "ingot/internal/ironic/ironictest":
			t.Errorf("the ingot binary depends on %s", dep)
		}
	}
}

func TestIronicFlags(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte("s3cret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"INGOT_IRONIC_URL":             "http://127.0.0.1:6385",
		"INGOT_IRONIC_USERNAME":        "ingot",
		"INGOT_IRONIC_PASSWORD_FILE":   pw,
		"INGOT_IRONIC_CONDUCTOR_GROUP": "rack-a",
	}
	var stderr bytes.Buffer
	cfg, err := parseServeFlags([]string{"--ironic-shard", "s1, s2", "--sync-interval", "30s"},
		func(k string) string { return env[k] }, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IronicURL != "http://127.0.0.1:6385" || cfg.IronicUsername != "ingot" || cfg.IronicPassword != "s3cret" ||
		cfg.IronicConductorGroup != "rack-a" || len(cfg.IronicShards) != 2 || cfg.IronicShards[1] != "s2" ||
		cfg.SyncInterval != 30*time.Second {
		t.Errorf("config = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// The instance controller's settings.
	cfg, err = parseServeFlags([]string{"--deploy-timeout", "20m", "--deploy-max-attempts", "5", "--deploy-weigher", "pack",
		"--deploy-racks", "a, b", "--deploy-watch-interval", "500ms"}, func(k string) string { return env[k] }, &stderr)
	if err != nil || cfg.DeployTimeout != 20*time.Minute || cfg.DeployMaxAttempts != 5 || cfg.DeployWeigher != "pack" ||
		len(cfg.DeployRacks) != 2 || cfg.DeployRacks[1] != "b" || cfg.DeployWatchInterval != 500*time.Millisecond {
		t.Errorf("deploy flags: %+v, %v", cfg, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// Without --ironic-url, ingot serves Placement alone with the default interval.
	cfg, err = parseServeFlags(nil, func(string) string { return "" }, &stderr)
	if err != nil || cfg.IronicURL != "" || cfg.SyncInterval != time.Minute {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	if _, err := parseServeFlags([]string{"--ironic-password", "x", "--ironic-password-file", pw},
		func(string) string { return "" }, &stderr); err == nil {
		t.Error("a password and a password file were both accepted")
	}
	if cfg.IronicConfigured() {
		t.Error("no Ironic flag, yet Ironic is configured")
	}
}

// TestIronicFromCatalogFlags: Ironic found in the Keystone catalog, from the environment
// and flags; it counts as configured, so the tracker runs.
func TestIronicFromCatalogFlags(t *testing.T) {
	env := map[string]string{
		"INGOT_AUTH": "keystone", "INGOT_KEYSTONE_URL": "http://127.0.0.1:5000/v3",
		"INGOT_KEYSTONE_USERNAME": "ingot", "INGOT_KEYSTONE_PASSWORD": "p", "INGOT_KEYSTONE_PROJECT": "service",
		"INGOT_IRONIC_FROM_CATALOG": "true", "INGOT_IRONIC_REGION": "RegionTwo",
	}
	var stderr bytes.Buffer
	cfg, err := parseServeFlags([]string{"--ironic-interface", "public, internalURL"}, func(k string) string { return env[k] }, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.IronicFromCatalog || cfg.IronicRegion != "RegionTwo" || !slices.Equal(cfg.IronicInterfaces, []string{"public", "internalURL"}) ||
		cfg.IronicURL != "" || !cfg.IronicConfigured() {
		t.Errorf("config = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// Keystone authentication alone does not start the tracker: Placement only.
	delete(env, "INGOT_IRONIC_FROM_CATALOG")
	delete(env, "INGOT_IRONIC_REGION")
	cfg, err = parseServeFlags(nil, func(k string) string { return env[k] }, &stderr)
	if err != nil || cfg.IronicConfigured() || cfg.Validate() != nil {
		t.Errorf("keystone without Ironic: configured %v, %v, %v", cfg.IronicConfigured(), err, cfg.Validate())
	}
}

func TestKeystoneFlags(t *testing.T) {
	dir := t.TempDir()
	pw, secret := filepath.Join(dir, "pw"), filepath.Join(dir, "secret")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("appsecret\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"INGOT_AUTH":                   "keystone",
		"INGOT_KEYSTONE_URL":           "http://127.0.0.1:5000/v3",
		"INGOT_KEYSTONE_USERNAME":      "placement",
		"INGOT_KEYSTONE_PASSWORD_FILE": pw,
		"INGOT_KEYSTONE_PROJECT":       "service",
	}
	var stderr bytes.Buffer
	// Keystone authentication may listen anywhere.
	cfg, err := parseServeFlags([]string{"--listen", "0.0.0.0:8778", "--keystone-token-cache-time", "1m",
		"--keystone-service-token-roles", "service, admin"}, func(k string) string { return env[k] }, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth != "keystone" || cfg.KeystoneURL != "http://127.0.0.1:5000/v3" || cfg.KeystoneUsername != "placement" ||
		cfg.KeystonePassword != "s3cret" || cfg.KeystoneProject != "service" || cfg.KeystoneUserDomain != "Default" ||
		cfg.KeystoneProjectDomain != "Default" || cfg.KeystoneTokenCacheTime != time.Minute ||
		strings.Join(cfg.KeystoneServiceTokenRoles, ",") != "service,admin" {
		t.Errorf("config = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	cfg, err = parseServeFlags([]string{"--auth", "keystone", "--keystone-url", "http://ks/identity",
		"--keystone-application-credential-id", "ac", "--keystone-application-credential-secret-file", secret},
		func(string) string { return "" }, &stderr)
	if err != nil || cfg.KeystoneAppCredentialID != "ac" || cfg.KeystoneAppCredentialSecret != "appsecret" ||
		cfg.KeystoneTokenCacheTime != 300*time.Second || strings.Join(cfg.KeystoneServiceTokenRoles, ",") != "service" {
		t.Errorf("application credential: %+v, %v", cfg, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if _, err := parseServeFlags([]string{"--keystone-password", "x", "--keystone-password-file", pw},
		func(string) string { return "" }, &stderr); err == nil {
		t.Error("a password and a password file were both accepted")
	}
}

// TestEveryPackageDocumented: each package of the module has exactly one package doc
// comment (in one of its non-test files).
func TestEveryPackageDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	docs := map[string]int{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if build := f.Comments; len(build) > 0 && strings.Contains(build[0].Text(), "go:build ignore") {
			return nil
		}
		dir := filepath.Dir(path)
		if _, ok := docs[dir]; !ok {
			docs[dir] = 0
		}
		if f.Doc != nil {
			docs[dir]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, n := range docs {
		if n != 1 {
			t.Errorf("%s: %d package doc comments; want exactly 1", dir, n)
		}
	}
	if len(docs) < 10 {
		t.Fatalf("only %d packages found", len(docs))
	}
}
