package microversion

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	good := map[string]Version{"1.0": {1, 0}, "1.39": {1, 39}, "0.5": {0, 5}, "2.10": {2, 10}, "1.010": {1, 10}}
	for s, want := range good {
		got, err := Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "1", "1.", ".1", "1.2.3", "pony.horse", "-1.2", "1.-2", "+1.2", " 1.2", "1.2 ", "1,2", "1.1234567890"} {
		_, err := Parse(s)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error = %v; want ErrInvalid", s, err)
		}
		if err != nil && err.Error() != "invalid version string: "+s {
			t.Errorf("Parse(%q) error text = %q", s, err.Error())
		}
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		a, b Version
		want int
	}{
		{V(1, 0), V(1, 0), 0}, {V(1, 2), V(1, 10), -1}, {V(1, 10), V(1, 2), 1},
		{V(2, 0), V(1, 39), 1}, {V(0, 99), V(1, 0), -1},
	}
	for _, c := range cases {
		if got := c.a.Compare(c.b); got != c.want {
			t.Errorf("%v.Compare(%v) = %d; want %d", c.a, c.b, got, c.want)
		}
		if got := c.a.AtLeast(c.b); got != (c.want >= 0) {
			t.Errorf("%v.AtLeast(%v) = %v", c.a, c.b, got)
		}
		if got := c.a.Less(c.b); got != (c.want < 0) {
			t.Errorf("%v.Less(%v) = %v", c.a, c.b, got)
		}
	}
	if V(1, 39).String() != "1.39" {
		t.Errorf("String = %q", V(1, 39).String())
	}
}

func TestFromHeaders(t *testing.T) {
	cases := []struct {
		std    []string
		legacy string
		want   string
	}{
		{nil, "", ""},
		{[]string{"placement 1.2"}, "", "1.2"},
		{[]string{"compute 2.1, placement latest"}, "", "latest"},
		{[]string{"compute 2.1", "Placement 1.5"}, "", "1.5"},
		{[]string{"compute 2.1"}, "1.7", "1.7"},
		{[]string{"placement"}, "", ""},
	}
	for _, c := range cases {
		if got := FromHeaders("placement", c.std, c.legacy); got != c.want {
			t.Errorf("FromHeaders(%q, %q) = %q; want %q", c.std, c.legacy, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.0", "1.39", "latest", "pony.horse", "1.2.3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(v.String())
		if err != nil || back != v {
			t.Fatalf("Parse(%q) = %v does not round-trip: %v, %v", s, v, back, err)
		}
	})
}
