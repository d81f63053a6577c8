// Package ingottest builds ingot's binary for tests that run it as a separate process (the
// end-to-end, crash and cloud tests), once per test binary.
package ingottest

import (
	"fmt"
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
