package placementapi

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Verified with python3 -c 'import json; print(json.dumps(X))'.
var pyFloatTable = []struct {
	f    float64
	want string
}{
	{0, "0.0"},
	{math.Copysign(0, -1), "-0.0"},
	{1, "1.0"},
	{16, "16.0"},
	{1.5, "1.5"},
	{0.1, "0.1"},
	{-2.5, "-2.5"},
	{1e-4, "0.0001"},
	{1.5e-4, "0.00015"},
	{1e-5, "1e-05"},
	{1.5e-5, "1.5e-05"},
	{1e15, "1000000000000000.0"},
	{9999999999999998, "9999999999999998.0"},
	{1e16, "1e+16"},
	{1.5e16, "1.5e+16"},
	{1e38, "1e+38"},
	{3.4028234663852886e+38, "3.4028234663852886e+38"},
	{1e100, "1e+100"},
	{1e-100, "1e-100"},
	{5e-324, "5e-324"},
	{math.MaxFloat64, "1.7976931348623157e+308"},
	{2147483647, "2147483647.0"},
	{123456789.125, "123456789.125"},
	{1.0 / 3, "0.3333333333333333"},
	{math.Inf(1), "Infinity"},
	{math.Inf(-1), "-Infinity"},
	{math.NaN(), "NaN"},
}

func TestPyFloatTable(t *testing.T) {
	for _, c := range pyFloatTable {
		if got := string(appendPyFloat(nil, c.f)); got != c.want {
			t.Errorf("appendPyFloat(%v) = %s, want %s", c.f, got, c.want)
		}
	}
}

// TestPyFloatAgainstPython compares appendPyFloat with Python's json.dumps for random floats
// of every magnitude, chosen by Go and by Python, and checks that Python reads each string
// back as the same float.
func TestPyFloatAgainstPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var in bytes.Buffer
	var goBits []uint64
	for _, c := range pyFloatTable {
		if !math.IsNaN(c.f) {
			goBits = append(goBits, math.Float64bits(c.f))
		}
	}
	for range 3000 {
		var f float64
		switch rng.IntN(3) {
		case 0: // any finite bit pattern
			f = math.Float64frombits(rng.Uint64())
			if math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
		case 1: // around the exponent-form boundaries and typical ratios
			f = rng.Float64() * math.Pow(10, float64(rng.IntN(44)-22))
		default: // short decimals, as operators write them
			f = float64(rng.IntN(100000)) / math.Pow(10, float64(rng.IntN(8)))
		}
		goBits = append(goBits, math.Float64bits(f))
	}
	for _, b := range goBits {
		fmt.Fprintf(&in, "%d\n", b)
	}
	// For each Go-chosen bit pattern: dumps, and whether loads(dumps) is the same float.
	// Then 2000 floats Python chooses, as bits and dumps.
	const script = `
import json, random, struct, sys
def bits(f): return struct.unpack('<Q', struct.pack('<d', f))[0]
def frombits(b): return struct.unpack('<d', struct.pack('<Q', b))[0]
for line in sys.stdin:
    f = frombits(int(line))
    s = json.dumps(f)
    back = json.loads(s)
    print('go', line.strip(), s, type(back) is float and bits(back) == bits(f))
r = random.Random(7)
for i in range(2000):
    k = i % 4
    if k == 0: f = r.random()
    elif k == 1: f = r.uniform(-1, 1) * 10 ** r.randint(-30, 30)
    elif k == 2: f = round(r.uniform(0, 64), r.randint(0, 6))
    else: f = float(r.randint(0, 2**53)) * 10 ** r.randint(-5, 20)
    print('py', bits(f), json.dumps(f), True)
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = &in
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 {
			t.Fatalf("bad python line %q", sc.Text())
		}
		b, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		f := math.Float64frombits(b)
		if got := string(appendPyFloat(nil, f)); got != fields[2] {
			t.Errorf("%s-chosen %v: Go writes %s, Python %s", fields[0], f, got, fields[2])
		}
		if fields[3] != "True" {
			t.Errorf("Python does not read %s back as the float %v", fields[2], f)
		}
		n++
	}
	if n != len(goBits)+2000 {
		t.Fatalf("python compared %d floats, want %d", n, len(goBits)+2000)
	}
}

// BenchmarkParseKeyTree measures the extra pass a claim's body gets for its key order.
func BenchmarkParseKeyTree(b *testing.B) {
	body := []byte(`{"allocations": {"11111111-1111-4111-8111-111111111111": {"resources": {"CUSTOM_BAREMETAL_GOLD": 1}}},
		"project_id": "6f2a0c4e2b0b4d1f8f0c1a2b3c4d5e6f", "user_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
		"consumer_generation": null, "consumer_type": "INSTANCE"}`)
	b.ReportAllocs()
	for b.Loop() {
		if parseKeyTree(body).child("allocations") == nil {
			b.Fatal("no allocations")
		}
	}
}
