package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ingot/internal/safe"
)

// journal records, in order, what the test components did.
type journal struct {
	mu     sync.Mutex
	events []string
}

func (j *journal) add(e string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, e)
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.events)
}

// waiter is a component that runs until its context ends, notes its stop, and returns
// stopErr. started is closed once it runs.
func waiter(j *journal, name string, started *sync.WaitGroup, stopErr error) Component {
	started.Add(1)
	return Func(name, func(ctx context.Context) error {
		started.Done()
		<-ctx.Done()
		// Give a wrongly ordered shutdown the time to show: a later stage stopping now
		// would be journaled before this one.
		time.Sleep(20 * time.Millisecond)
		j.add("stop " + name)
		return stopErr
	})
}

func TestGroupStopsByStageWhenContextEnds(t *testing.T) {
	var j journal
	var started sync.WaitGroup
	g := &Group{}
	// Added out of stage order on purpose: the stage decides, not the order of Add.
	g.Add(StageClose, waiter(&j, "db", &started, nil))
	g.Add(StageServe, waiter(&j, "api", &started, nil))
	g.Add(StageWork, waiter(&j, "tracker", &started, nil))
	g.Add(StageWork, waiter(&j, "controller", &started, context.Canceled))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	started.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil after a clean stop", err)
	}
	got := j.get()
	slices.Sort(got[:2]) // the two work components stop in either order
	want := []string{"stop controller", "stop tracker", "stop api", "stop db"}
	if !slices.Equal(got, want) {
		t.Fatalf("shutdown order %q, want %q", got, want)
	}
}

func TestGroupFailureStopsTheOthersInOrder(t *testing.T) {
	var j journal
	var started sync.WaitGroup
	boom := errors.New("boom")
	g := &Group{}
	g.Add(StageWork, waiter(&j, "tracker", &started, nil))
	g.Add(StageServe, waiter(&j, "api", &started, nil))
	g.Add(StageClose, waiter(&j, "db", &started, nil))
	g.Add(StageServe, Func("failing", func(ctx context.Context) error {
		started.Wait()
		j.add("fail")
		return boom
	}))
	err := g.Run(context.Background()) // only the failure can end this Run
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "failing: ") {
		t.Fatalf("Run = %v, want the failing component's error with its name", err)
	}
	want := []string{"fail", "stop tracker", "stop api", "stop db"}
	if got := j.get(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestGroupEarlyReturnIsAFailure(t *testing.T) {
	var j journal
	var started sync.WaitGroup
	g := &Group{}
	g.Add(StageServe, waiter(&j, "api", &started, nil))
	g.Add(StageWork, Func("tracker", func(ctx context.Context) error {
		started.Wait()
		return nil // returned without being asked to stop
	}))
	err := g.Run(context.Background())
	if err == nil || err.Error() != "tracker: stopped unexpectedly" {
		t.Fatalf("Run = %v, want tracker: stopped unexpectedly", err)
	}
	if got := j.get(); !slices.Equal(got, []string{"stop api"}) {
		t.Fatalf("events %q, want the api stopped", got)
	}
}

func TestGroupErrorWhileStoppingIsReturned(t *testing.T) {
	var j journal
	var started sync.WaitGroup
	closeErr := errors.New("close failed")
	second := errors.New("second failure")
	g := &Group{}
	g.Add(StageServe, waiter(&j, "api", &started, second))
	g.Add(StageClose, waiter(&j, "db", &started, closeErr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	started.Wait()
	cancel()
	// The first error met in stage order is returned; the later one is only logged.
	if err := <-done; !errors.Is(err, second) || errors.Is(err, closeErr) {
		t.Fatalf("Run = %v, want the api's error alone", err)
	}
}

func TestGroupEmptyRunsUntilContextEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := new(Group).Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRoutesMount(t *testing.T) {
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(name)) })
	}
	rt := NewRoutes(named("placement"))
	rt.Mount("/v1/instances", named("instances"))
	rt.Mount("/v1/instances/special", named("special"))
	for path, want := range map[string]string{
		"/":                          "placement",
		"/resource_providers":        "placement",
		"/v1":                        "placement",
		"/v1/instancesX":             "placement",
		"/v1/instances":              "instances",
		"/v1/instances/":             "instances",
		"/v1/instances/abc":          "instances",
		"/v1/instances/special":      "special",
		"/v1/instances/special/x":    "special",
		"/v1/instances/specialities": "instances",
	} {
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path+"?x=1", nil))
		if got := rec.Body.String(); got != want {
			t.Errorf("%s went to %s, want %s", path, got, want)
		}
	}
}

func TestGroupPanicIsAFailure(t *testing.T) {
	var j journal
	var started sync.WaitGroup
	g := &Group{}
	g.Add(StageClose, waiter(&j, "db", &started, nil))
	g.Add(StageWork, Func("controller", func(ctx context.Context) error {
		started.Wait()
		panic("step went wrong")
	}))
	err := g.Run(context.Background())
	if pe, ok := errors.AsType[*safe.PanicError](err); !ok || pe.Value != "step went wrong" ||
		!strings.HasPrefix(err.Error(), "controller: panic: ") {
		t.Fatalf("Run = %v, want the controller's panic", err)
	}
	if got := j.get(); !slices.Equal(got, []string{"stop db"}) {
		t.Fatalf("events %q, want the database closed", got)
	}
}
