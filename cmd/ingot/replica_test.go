package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestReplicaFlags(t *testing.T) {
	env := map[string]string{"INGOT_REPLICA_ID": "from-env", "INGOT_REPLICA_TTL": "30s"}
	var stderr bytes.Buffer
	cfg, err := parseServeFlags([]string{"--replica-renew-interval", "5s", "--replica-max-moves", "7",
		"--debug-clock-offset", "1h", "--debug-clock-rate", "1.25"}, func(k string) string { return env[k] }, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReplicaID != "from-env" || cfg.ReplicaTTL != 30*time.Second || cfg.ReplicaRenewInterval != 5*time.Second ||
		cfg.ReplicaMaxMoves != 7 || cfg.DebugClockOffset != time.Hour || cfg.DebugClockRate != 1.25 {
		t.Fatalf("%+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rc := cfg.ReplicaConfig()
	if rc.Margin != 6*time.Second || rc.Addr != cfg.ListenAddr {
		t.Fatalf("replica config %+v", rc)
	}
	// A TTL too short for the renewals is refused.
	cfg.ReplicaTTL = 6 * time.Second
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--replica-ttl") {
		t.Fatalf("TTL 6s with renewals every 5s: %v", err)
	}

	// The debug flags work but are not in --help.
	stderr.Reset()
	if _, err := parseServeFlags([]string{"-h"}, func(string) string { return "" }, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	help := stderr.String()
	if !strings.Contains(help, "-replica-id") || strings.Contains(help, "debug-clock") {
		t.Fatalf("help:\n%s", help)
	}
}
