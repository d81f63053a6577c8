// Package ingottest helps the tests that run ingot as a separate process (the end-to-end,
// crash and cloud tests): the binary, built once per test binary, a free port, a log's tail.
package ingottest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of ingot's binary built from the tree (cmd/ingot), building it
// on the first call; a failed build fails t.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ingot-test-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ingot")
		out, err := exec.Command("go", "build", "-o", binPath, "ingot/cmd/ingot").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ingot: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Main runs the tests of a package that uses Binary (call it from TestMain), then removes
// the binary, and exits with the tests' code.
func Main(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for a server the
// test starts as a separate process.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Tail returns the last n bytes of b (all of b when shorter), for quoting a log.
func Tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
