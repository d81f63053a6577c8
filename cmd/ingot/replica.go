package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"ingot/internal/app"
)

const replicaUsage = `usage: ingot replica list [flags]
       ingot node owner UUID [flags]

Every command takes --url (INGOT_URL, default http://%s), --token (INGOT_TOKEN),
-f json|table, and --help for its flags. Both need an admin.
`

// replicaCmd runs `ingot replica list` and `ingot node owner UUID` (group is "replica" or
// "node") and returns the exit code: 0 done, 1 the API refused, 2 a usage mistake.
func replicaCmd(ctx context.Context, group string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	want := map[string]string{"replica": "list", "node": "owner"}[group]
	if len(args) == 0 || args[0] != want {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintf(stdout, replicaUsage, app.DefaultConfig().ListenAddr)
			return 0
		}
		fmt.Fprintf(stderr, replicaUsage, app.DefaultConfig().ListenAddr)
		return 2
	}
	c := &cli{name: "ingot " + group + " " + want, getenv: getenv, stdout: stdout, stderr: stderr}
	c.flags()
	pos, err := c.parse(args[1:])
	if err == nil {
		switch {
		case group == "replica" && len(pos) != 0:
			err = usagef("unexpected arguments")
		case group == "node" && len(pos) != 1:
			err = usagef("want one node UUID")
		case group == "replica":
			err = c.replicaList(ctx)
		default:
			err = c.nodeOwner(ctx, pos[0])
		}
	}
	return c.exit(err)
}

func (c *cli) replicaList(ctx context.Context) error {
	rs, err := c.client.Replicas(ctx)
	if err != nil {
		return err
	}
	if c.format == "json" {
		return writeJSON(c.stdout, rs)
	}
	rows := [][]string{{"ID", "Address", "Live", "Draining", "Lease left", "Lease age", "Nodes", "Incarnation"}}
	for _, r := range rs {
		rows = append(rows, []string{r.ID, r.Address, strconv.FormatBool(r.Live), strconv.FormatBool(r.Draining),
			secs(r.LeaseRemainingSeconds), secs(r.LeaseAgeSeconds), strconv.Itoa(r.NodesOwned), r.Incarnation})
	}
	writeTable(c.stdout, rows)
	return nil
}

func (c *cli) nodeOwner(ctx context.Context, node string) error {
	o, err := c.client.NodeOwner(ctx, node)
	if err != nil {
		return err
	}
	return c.printFields(o)
}

func secs(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 1, 64) + "s"
}
