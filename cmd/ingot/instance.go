package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"ingot/internal/app"
	"ingot/internal/instanceapi"
	"ingot/internal/instanceapi/client"
)

const instanceUsage = `usage: ingot instance COMMAND [flags]

  create  --resource-class RC --image URL (--image-checksum C | --image-hash-algo A --image-hash H) [flags]
  list    [--state S] [--project ID] [--node UUID] [--name NAME] [--limit N]
  show    UUID
  delete  UUID... [--wait]

Every command takes --url (INGOT_URL, default http://%s), --token (INGOT_TOKEN),
-f json|table, and --help for its flags.
`

// instanceCmd runs `ingot instance ...` and returns the exit code: 0 done, 1 the API
// refused or the instance ended in error, 2 a usage mistake.
func instanceCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, instanceUsage, app.DefaultConfig().ListenAddr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var cmd func(c *cli, ctx context.Context, args []string) error
	switch args[0] {
	case "create":
		cmd = (*cli).create
	case "list":
		cmd = (*cli).list
	case "show":
		cmd = (*cli).show
	case "delete":
		cmd = (*cli).delete
	default:
		fmt.Fprintf(stderr, "ingot instance: unknown command %q (want create, list, show or delete)\n", args[0])
		return 2
	}
	c := &cli{name: "ingot instance " + args[0], getenv: getenv, stdout: stdout, stderr: stderr}
	err := cmd(c, ctx, args[1:])
	return c.exit(err)
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// cli is one instance command: its common flags and where it writes.
type cli struct {
	name           string
	getenv         func(string) string
	stdout, stderr io.Writer
	fs             *flag.FlagSet

	url, token, format string
	roles              string
	pollInterval       time.Duration
	client             *client.Client
}

// flags returns the command's flag set with the common flags, each also read from
// INGOT_<NAME>.
func (c *cli) flags() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.url, "url", "http://"+app.DefaultConfig().ListenAddr, "ingot's URL")
	fs.StringVar(&c.token, "token", "", "X-Auth-Token to send (noauth2: admin, or USER:PROJECT)")
	fs.StringVar(&c.roles, "roles", "", "X-Roles to send (noauth2; comma-separated)")
	fs.StringVar(&c.format, "f", "table", "output format: table or json")
	fs.DurationVar(&c.pollInterval, "poll-interval", time.Second, "time between two polls with --wait")
	c.fs = fs
	return fs
}

// parse reads INGOT_<NAME> variables, then the command line (flags and positional
// arguments in any order), and returns the positional arguments.
func (c *cli) parse(args []string) ([]string, error) {
	fs := c.fs
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "f" || f.Name == "wait" {
			return // per-invocation choices, not configuration
		}
		name := "INGOT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := c.getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil && envErr == nil {
				envErr = usagef("%s=%q: %v", name, v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(c.stderr, "usage: %s [flags]   (--url and --token can also be set as INGOT_URL and INGOT_TOKEN)\n", c.name)
				fs.SetOutput(c.stderr)
				fs.PrintDefaults()
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if c.format != "table" && c.format != "json" {
		return nil, usagef("-f %q: want table or json", c.format)
	}
	if c.token == "" {
		return nil, usagef("no token: set --token or INGOT_TOKEN (noauth2: admin, or USER:PROJECT)")
	}
	if !strings.HasPrefix(c.url, "http://") && !strings.HasPrefix(c.url, "https://") {
		return nil, usagef("--url %q: want an http:// or https:// URL", c.url)
	}
	h := http.Header{}
	if c.roles != "" {
		h.Set("X-Roles", c.roles)
	}
	c.client = &client.Client{URL: strings.TrimSuffix(c.url, "/"), Token: c.token, Header: h}
	return pos, nil
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (c *cli) create(ctx context.Context, args []string) error {
	fs := c.flags()
	var req instanceapi.CreateRequest
	var required, forbidden, memberOf, keys, meta stringList
	var userData, networkData string
	var wait bool
	var timeout time.Duration
	fs.StringVar(&req.UUID, "uuid", "", "the instance's UUID (default: the server makes one; a repeated create with the same UUID is idempotent)")
	fs.StringVar(&req.Name, "name", "", "the instance's name")
	fs.StringVar(&req.Request.ResourceClass, "resource-class", "", "Ironic resource class of the node (required)")
	fs.Var(&required, "trait", "required trait (repeatable)")
	fs.Var(&forbidden, "forbid-trait", "forbidden trait (repeatable)")
	fs.Var(&memberOf, "member-of", "aggregate UUIDs, comma-separated: the node must be in one of them (repeatable: each group must hold)")
	fs.StringVar(&req.Request.Node, "node", "", "pin to this node UUID (admins only)")
	fs.StringVar(&req.Image.Source, "image", "", "image URL (http, https, file, oci) or Glance UUID (required)")
	fs.StringVar(&req.Image.Checksum, "image-checksum", "", "image checksum (md5) or the URL of a checksum file")
	fs.StringVar(&req.Image.OSHashAlgo, "image-hash-algo", "", "os_hash algorithm: md5, sha1, sha256 or sha512")
	fs.StringVar(&req.Image.OSHashValue, "image-hash", "", "os_hash value")
	fs.StringVar(&userData, "user-data", "", "file holding the user data (at most 64 KiB)")
	fs.Var(&keys, "ssh-key", "[NAME=]FILE of an SSH public key (repeatable; NAME defaults to the file's base name)")
	fs.Var(&meta, "meta", "KEY=VALUE meta_data entry (repeatable)")
	fs.StringVar(&networkData, "network-data", "", "file holding network_data (a JSON object)")
	fs.BoolVar(&wait, "wait", false, "wait until the instance is active or in error, showing its progress")
	fs.DurationVar(&timeout, "wait-timeout", 60*time.Minute, "give up waiting after this long")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(pos, " "))
	}
	if req.Request.ResourceClass == "" || req.Image.Source == "" {
		return usagef("--resource-class and --image are required")
	}
	req.Request.Required, req.Request.Forbidden = required, forbidden
	for _, g := range memberOf {
		req.Request.MemberOf = append(req.Request.MemberOf, splitList(g))
	}
	if userData != "" {
		b, err := os.ReadFile(userData)
		if err != nil {
			return usagef("--user-data: %v", err)
		}
		if !utf8.Valid(b) {
			return usagef("--user-data %s: not UTF-8 text", userData)
		}
		req.ConfigDrive.UserData = string(b)
	}
	for _, k := range keys {
		name, file, ok := strings.Cut(k, "=")
		if !ok {
			file = k
			name = strings.TrimSuffix(baseName(file), ".pub")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return usagef("--ssh-key: %v", err)
		}
		if req.ConfigDrive.SSHKeys == nil {
			req.ConfigDrive.SSHKeys = map[string]string{}
		}
		req.ConfigDrive.SSHKeys[name] = strings.TrimSpace(string(b))
	}
	for _, m := range meta {
		k, v, ok := strings.Cut(m, "=")
		if !ok {
			return usagef("--meta %q: want KEY=VALUE", m)
		}
		if req.ConfigDrive.MetaData == nil {
			req.ConfigDrive.MetaData = map[string]string{}
		}
		req.ConfigDrive.MetaData[k] = v
	}
	if networkData != "" {
		b, err := os.ReadFile(networkData)
		if err != nil {
			return usagef("--network-data: %v", err)
		}
		if !json.Valid(b) {
			return usagef("--network-data %s: not JSON", networkData)
		}
		req.ConfigDrive.NetworkData = b
	}
	in, created, err := c.client.Create(ctx, req)
	if err != nil {
		return err
	}
	if !created {
		fmt.Fprintf(c.stderr, "instance %s exists already with the same request\n", in.UUID)
	}
	if wait {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		view := newWaitView(c.stderr, c.getenv)
		view.begin(in.UUID, 1, 1)
		in, err = c.client.Wait(wctx, in.UUID, c.pollInterval, client.Settled, view.update)
		view.end()
		if err != nil {
			return err
		}
	}
	if err := c.print(in); err != nil {
		return err
	}
	if wait && in.State != "active" {
		msg := "instance " + in.UUID + " is " + in.State
		if in.Fault != nil {
			msg += ": " + in.Fault.Code + ": " + in.Fault.Message
		}
		return errors.New(msg)
	}
	return nil
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func (c *cli) list(ctx context.Context, args []string) error {
	fs := c.flags()
	var states stringList
	var o client.ListOptions
	fs.Var(&states, "state", "only instances in this state (repeatable, or comma-separated)")
	fs.StringVar(&o.ProjectID, "project", "", "only this project's instances (others than your own: admins only)")
	fs.StringVar(&o.Node, "node", "", "only the instance holding this node")
	fs.StringVar(&o.Name, "name", "", "only instances with this name")
	fs.IntVar(&o.Max, "limit", 0, "at most this many instances (0: all)")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(pos, " "))
	}
	if o.Max < 0 {
		return usagef("--limit %d: want 0 or more", o.Max)
	}
	for _, s := range states {
		o.States = append(o.States, splitList(s)...)
	}
	ins, err := c.client.List(ctx, o)
	if err != nil {
		return err
	}
	if c.format == "json" {
		if ins == nil {
			ins = []instanceapi.Instance{}
		}
		return writeJSON(c.stdout, ins)
	}
	rows := [][]string{{"UUID", "Name", "State", "Task", "Node", "Project"}}
	for _, in := range ins {
		rows = append(rows, []string{in.UUID, in.Name, in.State, in.Task, in.Node, in.ProjectID})
	}
	writeTable(c.stdout, rows)
	return nil
}

func (c *cli) show(ctx context.Context, args []string) error {
	c.flags()
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one instance UUID")
	}
	in, err := c.client.Get(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(in)
}

func (c *cli) delete(ctx context.Context, args []string) error {
	fs := c.flags()
	var wait bool
	var timeout time.Duration
	fs.BoolVar(&wait, "wait", false, "wait until the instances are deleted, showing their progress")
	fs.DurationVar(&timeout, "wait-timeout", 60*time.Minute, "give up waiting after this long")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want one or more instance UUIDs")
	}
	var failed []error
	var deleted []instanceapi.Instance
	for _, id := range pos {
		in, err := c.client.Delete(ctx, id)
		if err != nil {
			failed = append(failed, err)
			var ae *client.Error
			if errors.As(err, &ae) {
				fmt.Fprintf(c.stderr, "%s: %s: %d %s: %s\n", c.name, id, ae.Status, ae.Title, ae.Message())
			} else {
				fmt.Fprintf(c.stderr, "%s: %s: %v\n", c.name, id, err)
			}
			continue
		}
		deleted = append(deleted, in)
	}
	if wait {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		view := newWaitView(c.stderr, c.getenv)
		for i, in := range deleted {
			view.begin(in.UUID, i+1, len(deleted))
			deleted[i], err = c.client.Wait(wctx, in.UUID, c.pollInterval, client.Deleted, view.update)
			view.end()
			if err != nil {
				return err
			}
		}
	}
	if c.format == "json" {
		if deleted == nil {
			deleted = []instanceapi.Instance{}
		}
		if err := writeJSON(c.stdout, deleted); err != nil {
			return err
		}
	} else {
		for _, in := range deleted {
			fmt.Fprintf(c.stdout, "%s %s\n", in.UUID, in.State)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d deletions failed", len(failed), len(pos))
	}
	return nil
}

// print writes one instance: JSON as the API sends it, or a Field/Value table.
func (c *cli) print(in instanceapi.Instance) error {
	return c.printFields(in, "links")
}

// exit reports err on stderr and returns the command's exit code: 0 done (or --help),
// 2 a usage mistake, 1 anything else (the API refused, with its status and request id).
func (c *cli) exit(err error) int {
	var ue usageError
	var ae *client.Error
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "%s: %s\n", c.name, err)
		return 2
	case errors.As(err, &ae):
		fmt.Fprintf(c.stderr, "%s: %d %s: %s (request %s)\n", c.name, ae.Status, ae.Title, ae.Message(), ae.RequestID)
		return 1
	}
	fmt.Fprintf(c.stderr, "%s: %s\n", c.name, err)
	return 1
}

// printFields writes v: JSON as the API sends it, or a Field/Value table of its JSON
// fields (objects flattened as "outer.inner") without the fields named in drop.
func (c *cli) printFields(v any, drop ...string) error {
	if c.format == "json" {
		return writeJSON(c.stdout, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	for _, k := range drop {
		delete(fields, k)
	}
	rows := [][]string{{"Field", "Value"}}
	flatten("", fields, &rows)
	writeTable(c.stdout, rows)
	return nil
}

// flatten adds a row per field, sorted by name, objects' fields as "outer.inner".
func flatten(prefix string, fields map[string]any, rows *[][]string) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if m, ok := fields[k].(map[string]any); ok && len(m) > 0 && k != "network_data" {
			flatten(prefix+k+".", m, rows)
			continue
		}
		*rows = append(*rows, []string{prefix + k, cell(fields[k])})
	}
}

// cell is a value as a table shows it: strings as they are (the first line of several,
// with the size of the whole), null as "", the rest as JSON.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if first, _, ok := strings.Cut(x, "\n"); ok {
			return fmt.Sprintf("%s ... (%d bytes)", first, len(x))
		}
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeTable writes rows (the first is the header) boxed as the openstack CLI does.
// Multi-line values keep their first line.
func writeTable(w io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i := range r {
			r[i], _, _ = strings.Cut(r[i], "\n")
			widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
		}
	}
	sep := "+"
	for _, wd := range widths {
		sep += strings.Repeat("-", wd+2) + "+"
	}
	line := func(r []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, v := range r {
			b.WriteString(" " + v + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v)) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	fmt.Fprintln(w, sep)
	line(rows[0])
	fmt.Fprintln(w, sep)
	for _, r := range rows[1:] {
		line(r)
	}
	fmt.Fprintln(w, sep)
}
