package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"ingot/internal/instanceapi"
)

// waitView shows what `--wait` waits for. On a terminal it redraws one line per
// instance in place (a spinner, a bar of the steps done, state and task, node, time
// waited) and ends it with a newline when the wait is over; otherwise (a file, a pipe, a
// CI log) it writes one plain line per change of state, task or node.
type waitView struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	every time.Duration // the terminal line's redraw interval

	mu    sync.Mutex
	cur   instanceapi.Instance
	start time.Time
	frame int
	label string // "[i/n] " when waiting for several
	stop  chan struct{}
	done  sync.WaitGroup
}

// newWaitView returns the view for w: redrawn when w is a terminal (and TERM is not
// "dumb"), plain lines otherwise.
func newWaitView(w io.Writer, getenv func(string) string) *waitView {
	return &waitView{w: w, tty: isTerminal(w) && getenv("TERM") != "dumb", now: time.Now, every: 150 * time.Millisecond}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// begin starts showing the wait for instance uuid, the i-th of n.
func (v *waitView) begin(uuid string, i, n int) {
	v.mu.Lock()
	v.cur = instanceapi.Instance{UUID: uuid}
	v.start, v.frame, v.label = v.now(), 0, ""
	if n > 1 {
		v.label = fmt.Sprintf("[%d/%d] ", i, n)
	}
	v.mu.Unlock()
	if !v.tty {
		return
	}
	v.stop = make(chan struct{})
	v.done.Go(func() {
		t := time.NewTicker(v.every)
		defer t.Stop()
		for {
			select {
			case <-v.stop:
				return
			case <-t.C:
				v.mu.Lock()
				v.frame++
				v.draw()
				v.mu.Unlock()
			}
		}
	})
}

// update shows a change (client.Wait's progress function).
func (v *waitView) update(in instanceapi.Instance) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cur = in
	if v.tty {
		v.draw()
		return
	}
	fmt.Fprintln(v.w, v.label+plainLine(in, v.now()))
}

// end stops showing the wait; on a terminal the last line stays.
func (v *waitView) end() {
	if !v.tty {
		return
	}
	close(v.stop)
	v.done.Wait()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.draw()
	fmt.Fprintln(v.w)
}

// draw redraws the terminal line; v.mu is held.
func (v *waitView) draw() {
	fmt.Fprint(v.w, "\r\x1b[K"+v.label+ttyLine(v.cur, v.frame, v.now().Sub(v.start)))
}

// plainLine is one change as a plain line: the time, the instance, its state, task, node
// and fault.
func plainLine(in instanceapi.Instance, now time.Time) string {
	line := fmt.Sprintf("%s  %s  state=%s", now.UTC().Format("15:04:05"), in.UUID, in.State)
	if in.Task != "" {
		line += " task=" + in.Task
	}
	if in.Node != "" {
		line += " node=" + in.Node
	}
	if in.Fault != nil {
		line += " fault=" + in.Fault.Code
	}
	return line
}

// steps returns how far in its build or deletion an instance is: step of total.
func steps(in instanceapi.Instance) (step, total int) {
	switch in.State {
	case "building":
		switch in.Task {
		case "locking":
			return 1, 3
		case "deploying":
			return 2, 3
		}
		return 0, 3 // scheduling, rescheduling
	case "active", "error":
		return 3, 3
	case "deleting":
		switch in.Task {
		case "cleaning":
			return 1, 2
		}
		return 0, 2
	case "deleted":
		return 2, 2
	}
	return 0, 1
}

var spinner = []string{"|", "/", "-", "\\"}

// ttyLine is the terminal line: a spinner (a mark once settled), the instance's short id,
// a bar of its steps, state/task, node, fault and the time waited.
func ttyLine(in instanceapi.Instance, frame int, waited time.Duration) string {
	step, total := steps(in)
	const width = 12
	filled := width * step / total
	mark := spinner[frame%len(spinner)]
	switch in.State {
	case "active", "deleted":
		mark = "✓"
	case "error":
		mark = "✗"
	case "":
		in.State = "waiting"
	}
	short := in.UUID
	if len(short) > 8 {
		short = short[:8]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s [%s%s] %d/%d %s", mark, short, strings.Repeat("#", filled), strings.Repeat(".", width-filled), step, total, in.State)
	if in.Task != "" {
		b.WriteString("/" + in.Task)
	}
	if in.Node != "" {
		n := in.Node
		if len(n) > 8 {
			n = n[:8]
		}
		b.WriteString(" node " + n)
	}
	if in.Fault != nil {
		b.WriteString(" fault " + in.Fault.Code)
	}
	secs := int(waited.Round(time.Second).Seconds())
	fmt.Fprintf(&b, " %d:%02d", secs/60, secs%60)
	return b.String()
}
