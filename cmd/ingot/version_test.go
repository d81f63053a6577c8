package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	settings := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	tests := []struct {
		info *debug.BuildInfo
		want string
	}{
		{settings("vcs", "git", "vcs.revision", "0123abc", "vcs.modified", "false"), "ingot 1.2 (commit 0123abc)"},
		{settings("vcs.revision", "0123abc", "vcs.modified", "true"), "ingot 1.2 (commit 0123abc, with uncommitted changes)"},
		{settings("-buildvcs", "false"), "ingot 1.2 (commit unknown: built outside a git checkout or with -buildvcs=false)"},
		{nil, "ingot 1.2 (commit unknown: built outside a git checkout or with -buildvcs=false)"},
	}
	for _, tc := range tests {
		if got := versionLine("1.2", tc.info); got != tc.want {
			t.Errorf("versionLine = %q; want %q", got, tc.want)
		}
	}
	for _, arg := range []string{"version", "--version", "-version"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{arg}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "ingot dev (commit ") {
			t.Errorf("ingot %s: exit %d, %q", arg, code, stdout.String())
		}
	}
}

// TestVersionNamesCommit builds ingot as a user would in this git checkout and checks that
// `ingot version` names the checkout's HEAD (and says when the tree has changes).
func TestVersionNamesCommit(t *testing.T) {
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout (git rev-parse: %v)", err)
	}
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Skip("a linked git worktree: go build records no commit there (its .git is a file)")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	status, err := exec.Command("git", "status", "--porcelain").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ingot")
	// -buildvcs=true: the default (auto) may be turned off by GOFLAGS on this machine.
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "ingot dev (commit " + strings.TrimSpace(string(head))
	if len(status) > 0 {
		want += ", with uncommitted changes)\n"
	} else {
		want += ")\n"
	}
	if string(out) != want {
		t.Fatalf("ingot version = %q; want %q", out, want)
	}
}
