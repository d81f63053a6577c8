package main

import (
	"context"
	"errors"
	"flag"
	"time"
)

// ingotOptions says which ingot to measure: one already running (-ingot-url) or one this
// program starts from a binary (-ingot-bin) on a fresh SQLite database.
type ingotOptions struct {
	url string
	bin string
}

func (o *ingotOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.url, "ingot-url", "", "a running ingot tracking the same Ironic, with its instance controller")
	fs.StringVar(&o.bin, "ingot-bin", "", "start this ingot binary against the Ironic (fresh SQLite database)")
}

func (o *ingotOptions) enabled() bool { return o.url != "" || o.bin != "" }

type ingotRunner struct{}

func (o *ingotOptions) start(ctx context.Context, ironicURL, group string) (*ingotRunner, error) {
	return nil, errors.New("ingot's instance API is not built yet")
}

func (r *ingotRunner) stop() {}

func instanceRound(ctx context.Context, r *ingotRunner, fl *fleet, c int, tick, timeout time.Duration) (Round, error) {
	return Round{}, errors.New("not yet")
}
