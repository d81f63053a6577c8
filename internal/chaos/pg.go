package chaos

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// PG is a throwaway PostgreSQL cluster (initdb in a temporary directory, trust
// authentication on loopback) that a test may stop and restart, unlike a shared server.
type PG struct {
	t    testing.TB
	bin  string // the directory of initdb, pg_ctl, postgres
	Dir  string
	Port int
	// DSN reaches its "postgres" database as the superuser.
	DSN string
}

// PGBin returns the directory of the newest PostgreSQL server binaries installed
// (Debian's /usr/lib/postgresql/VERSION/bin), or "".
func PGBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

// StartPG initdbs and starts a cluster on a free port; it is stopped and removed when t
// ends. As root the server runs as the postgres user (initdb refuses root).
func StartPG(t testing.TB, bin string) *PG {
	t.Helper()
	dir, err := os.MkdirTemp("", "ingot-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_, port, _ := net.SplitHostPort(addr(t))
	p := &PG{t: t, bin: bin, Dir: filepath.Join(dir, "data")}
	p.Port, _ = strconv.Atoi(port)
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user for the server: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := p.run("initdb", "-D", p.Dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = off\nmax_connections = 200\n", p.Port, dir)
	f, err := os.OpenFile(filepath.Join(p.Dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	p.Start()
	t.Cleanup(func() { p.run("pg_ctl", "-D", p.Dir, "stop", "-m", "immediate", "-w") })
	p.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
	return p
}

// run runs one of the server's programs, as postgres when this is root.
func (p *PG) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(p.bin, prog)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	return cmd.CombinedOutput()
}

// Start starts the server and waits for it.
func (p *PG) Start() {
	p.t.Helper()
	if out, err := p.run("pg_ctl", "-D", p.Dir, "-l", filepath.Join(filepath.Dir(p.Dir), "log"), "start", "-w"); err != nil {
		p.t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

// Stop stops it fast (-m fast: sessions are ended), as pg_ctl restart does first.
func (p *PG) Stop() {
	p.t.Helper()
	if out, err := p.run("pg_ctl", "-D", p.Dir, "stop", "-m", "fast", "-w"); err != nil {
		p.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// Restart is pg_ctl restart -m fast; it returns how long the server was away.
func (p *PG) Restart() time.Duration {
	p.t.Helper()
	start := time.Now()
	if out, err := p.run("pg_ctl", "-D", p.Dir, "restart", "-m", "fast", "-w", "-l", filepath.Join(filepath.Dir(p.Dir), "log")); err != nil {
		p.t.Fatalf("pg_ctl restart: %v\n%s", err, out)
	}
	return time.Since(start)
}

// ownPG starts a throwaway cluster, failing t when PostgreSQL's server binaries are
// missing and INGOT_REQUIRE_POSTGRES is set (CI), skipping it otherwise.
func ownPG(t testing.TB) *PG {
	t.Helper()
	bin := PGBin()
	if bin == "" {
		if os.Getenv("INGOT_REQUIRE_POSTGRES") != "" {
			t.Fatal("INGOT_REQUIRE_POSTGRES is set but no /usr/lib/postgresql/*/bin/pg_ctl is installed")
		}
		t.Skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin) for a throwaway cluster")
	}
	return StartPG(t, bin)
}
