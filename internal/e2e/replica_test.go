package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ingot/internal/ingottest"
	"ingot/internal/instanceapi/client"
	"ingot/internal/store/storetest"
)

// proc is an ingot process started by serveProc; out may be read once exited is closed.
type proc struct {
	cmd    *exec.Cmd
	base   string
	out    *bytes.Buffer
	exited chan struct{}
}

// serveProc starts `ingot serve` on db (no Ironic) and waits for its API; the process is
// killed when the test ends.
func serveProc(t *testing.T, db string, extra ...string) *proc {
	t.Helper()
	port := ingottest.FreePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(ingottest.Binary(t), append([]string{"serve", "--listen", "127.0.0.1:" + strconv.Itoa(port),
		"--database", db}, extra...)...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INGOT_") })
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
			return &proc{cmd: cmd, base: base, out: &out, exited: exited}
		}
		select {
		case <-exited:
			t.Fatalf("ingot exited at start: %s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("ingot did not answer")
		}
	}
}

// TestSQLiteRefusesSecondProcess: a second ingot on the same SQLite file stops at start
// with a message naming the first; after the first is killed with SIGKILL (its lock file
// left behind), a new one starts.
func TestSQLiteRefusesSecondProcess(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	first := serveProc(t, db).cmd

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, ingottest.Binary(t), "serve", "--listen", "127.0.0.1:"+strconv.Itoa(ingottest.FreePort(t)),
		"--database", db)
	second.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INGOT_") })
	out, err := second.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second process: %v, want exit 1\n%s", err, out)
	}
	want := "is in use by ingot process " + strconv.Itoa(first.Process.Pid)
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), "run several replicas on PostgreSQL") {
		t.Fatalf("second process said:\n%s\nwant it to name the first (%q)", out, want)
	}

	first.Process.Signal(syscall.SIGKILL)
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(strings.TrimPrefix(db, "sqlite:") + ".lock"); err != nil {
		t.Fatalf("the lock file should survive the kill (to test a stale one): %v", err)
	}
	serveProc(t, db) // starts despite the stale file
}

// TestPostgresReplicasListed: two processes on one PostgreSQL database are two replicas
// in GET /v1/replicas (and `ingot replica list`); SIGTERM makes one leave: its row goes.
func TestPostgresReplicasListed(t *testing.T) {
	db := storetest.DSN(t, storetest.Postgres)
	a := serveProc(t, db, "--replica-id", "alpha")
	b := serveProc(t, db, "--replica-id", "beta")
	header := http.Header{"X-Roles": {"admin"}, "X-Project-Id": {"p"}}
	cl := &client.Client{URL: a.base, Token: "admin", Header: header}
	rs, err := cl.Replicas(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].ID != "alpha" || rs[1].ID != "beta" || !rs[0].Live || rs[0].Incarnation == "" ||
		rs[0].LeaseRemainingSeconds == nil || *rs[0].LeaseRemainingSeconds < 5 {
		t.Fatalf("replicas: %+v", rs)
	}
	out, err := exec.Command(ingottest.Binary(t), "replica", "list", "--url", a.base, "--token", "admin", "--roles", "admin").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "alpha") || !strings.Contains(string(out), "beta") {
		t.Fatalf("ingot replica list: %v\n%s", err, out)
	}
	out, err = exec.Command(ingottest.Binary(t), "node", "owner", "11111111-2222-4333-8444-555555555555", "--url", a.base,
		"--token", "admin", "--roles", "admin").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "404") {
		t.Fatalf("ingot node owner of an untracked node: %v\n%s", err, out)
	}
	member := &client.Client{URL: a.base, Token: "u:p", Header: http.Header{"X-Roles": {"member"}, "X-Project-Id": {"p"}}}
	var ae *client.Error
	if _, err := member.Replicas(t.Context()); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Fatalf("a member listing replicas: %v, want 403", err)
	}

	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("alpha did not stop")
	}
	if !strings.Contains(a.out.String(), "replica left") {
		t.Fatalf("alpha's log has no drain:\n%s", a.out)
	}
	rs, err = (&client.Client{URL: b.base, Token: "admin", Header: header}).Replicas(t.Context())
	if err != nil || len(rs) != 1 || rs[0].ID != "beta" {
		t.Fatalf("replicas after alpha left: %+v %v", rs, err)
	}
}
