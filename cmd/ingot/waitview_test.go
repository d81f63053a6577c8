package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"ingot/internal/instanceapi"
)

func TestTTYLine(t *testing.T) {
	node := "6b000000-0000-4000-8000-000000000001"
	for _, tt := range []struct {
		in     instanceapi.Instance
		frame  int
		waited time.Duration
		want   string
	}{
		{instanceapi.Instance{UUID: cliUUID}, 0, 0, "| 5a1b2c3d [............] 0/1 waiting 0:00"},
		{instanceapi.Instance{UUID: cliUUID, State: "building", Task: "scheduling"}, 1, 1400 * time.Millisecond,
			"/ 5a1b2c3d [............] 0/3 building/scheduling 0:01"},
		{instanceapi.Instance{UUID: cliUUID, State: "building", Task: "locking", Node: node}, 2, 3 * time.Second,
			"- 5a1b2c3d [####........] 1/3 building/locking node 6b000000 0:03"},
		{instanceapi.Instance{UUID: cliUUID, State: "building", Task: "deploying", Node: node}, 3, 75 * time.Second,
			"\\ 5a1b2c3d [########....] 2/3 building/deploying node 6b000000 1:15"},
		{instanceapi.Instance{UUID: cliUUID, State: "active", Node: node}, 4, 80 * time.Second,
			"✓ 5a1b2c3d [############] 3/3 active node 6b000000 1:20"},
		{instanceapi.Instance{UUID: cliUUID, State: "error", Fault: &instanceapi.Fault{Code: "no_valid_host"}}, 0, time.Second,
			"✗ 5a1b2c3d [############] 3/3 error fault no_valid_host 0:01"},
		{instanceapi.Instance{UUID: cliUUID, State: "deleting", Task: "cleaning"}, 0, 0,
			"| 5a1b2c3d [######......] 1/2 deleting/cleaning 0:00"},
		{instanceapi.Instance{UUID: cliUUID, State: "deleted"}, 0, 0, "✓ 5a1b2c3d [############] 2/2 deleted 0:00"},
	} {
		if got := ttyLine(tt.in, tt.frame, tt.waited); got != tt.want {
			t.Errorf("ttyLine(%s/%s)\n got %q\nwant %q", tt.in.State, tt.in.Task, got, tt.want)
		}
	}
}

// TestWaitViewTerminal drives the terminal form with a fake clock: every change redraws
// the one line in place, and the end leaves the last state on its own line.
func TestWaitViewTerminal(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)
	v := &waitView{w: &buf, tty: true, now: func() time.Time { return now }, every: time.Hour}
	v.begin(cliUUID, 1, 1)
	v.update(instanceapi.Instance{UUID: cliUUID, State: "building", Task: "scheduling"})
	now = now.Add(2 * time.Second)
	v.update(instanceapi.Instance{UUID: cliUUID, State: "active", Node: "6b000000-0000-4000-8000-000000000001"})
	v.end()
	want := "\r\x1b[K| 5a1b2c3d [............] 0/3 building/scheduling 0:00" +
		"\r\x1b[K✓ 5a1b2c3d [############] 3/3 active node 6b000000 0:02" +
		"\r\x1b[K✓ 5a1b2c3d [############] 3/3 active node 6b000000 0:02\n"
	if got := buf.String(); got != want {
		t.Errorf("terminal output\n got %q\nwant %q", got, want)
	}
}

// TestWaitViewPlain: not a terminal (a buffer), one line per change, numbered when
// waiting for several instances.
func TestWaitViewPlain(t *testing.T) {
	var buf bytes.Buffer
	v := newWaitView(&buf, func(string) string { return "" })
	if v.tty {
		t.Fatal("a bytes.Buffer taken for a terminal")
	}
	v.now = func() time.Time { return time.Date(2026, 12, 5, 20, 0, 1, 0, time.UTC) }
	for i, id := range []string{"u-1", "u-2"} {
		v.begin(id, i+1, 2)
		v.update(instanceapi.Instance{UUID: id, State: "deleting", Task: "tearing_down"})
		v.update(instanceapi.Instance{UUID: id, State: "deleted"})
		v.end()
	}
	want := "[1/2] 20:00:01  u-1  state=deleting task=tearing_down\n[1/2] 20:00:01  u-1  state=deleted\n" +
		"[2/2] 20:00:01  u-2  state=deleting task=tearing_down\n[2/2] 20:00:01  u-2  state=deleted\n"
	if got := buf.String(); got != want {
		t.Errorf("plain output\n got %q\nwant %q", got, want)
	}
	if strings.Contains(buf.String(), "\r") {
		t.Error("carriage returns in the plain form")
	}
}
