package store

import (
	"slices"
	"testing"
)

func TestParsePGSnapshot(t *testing.T) {
	s, err := parsePGSnapshot("100:105:100,103")
	if err != nil || s.xmin != 100 || s.xmax != 105 || !slices.Equal(s.xip, []int64{100, 103}) {
		t.Errorf("got %+v, %v", s, err)
	}
	if s, err := parsePGSnapshot("7:7:"); err != nil || s.xmin != 7 || s.xmax != 7 || s.xip == nil || len(s.xip) != 0 {
		t.Errorf("empty xip: got %+v, %v (want a non-nil empty list: it is sent as an array)", s, err)
	}
	for _, bad := range []string{"", "1:2", "a:2:", "1:b:", "1:2:x", "1:2:3:4"} {
		if _, err := parsePGSnapshot(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestSnapshotUnseen(t *testing.T) {
	snap := func(xmin, xmax int64, xip ...int64) pgSnapshot {
		return pgSnapshot{xmin, xmax, append([]int64{}, xip...)}
	}
	for _, c := range []struct {
		s, e pgSnapshot
		want bool
	}{
		{snap(5, 10), snap(5, 10), true},
		{snap(5, 12, 11), snap(5, 10, 7), true},  // 7 ended and 10, 11 started after e
		{snap(5, 12, 7), snap(5, 10, 7), true},   // 7 still running for both
		{snap(5, 12, 6), snap(5, 10, 7), false},  // e saw 6 ended; s did not
		{snap(5, 9), snap(5, 10), false},         // s older than e
		{snap(10, 20, 10), snap(1, 10, 3), true}, // 10 is new to both
	} {
		if _, got := c.s.unseen(c.e); got != c.want {
			t.Errorf("%+v covers %+v = %v, want %v", c.s, c.e, got, c.want)
		}
	}
}

func TestSnapshotUnseenLists(t *testing.T) {
	s := pgSnapshot{xmin: 3, xmax: 12, xip: []int64{3, 6, 9, 11}}
	e := pgSnapshot{xmin: 3, xmax: 10, xip: []int64{3, 7}}
	// 6 and 9 ended for e (below its xmax, not in its xip); 3 runs for both; 11 is new to e.
	if ended, covered := s.unseen(e); covered || !slices.Equal(ended, []int64{6, 9}) {
		t.Errorf("unseen = %v, %v; want [6 9], false", ended, covered)
	}
}
