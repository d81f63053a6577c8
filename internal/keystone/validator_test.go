package keystone_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ingot/internal/keystone"
	"ingot/internal/keystone/keystonetest"
)

// clock is a settable clock for the validator's cache.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func member(project string) keystonetest.Token {
	return keystonetest.Token{UserID: "u-" + project, UserName: "demo", ProjectID: project, ProjectName: project,
		Roles: []string{"member", "reader"}}
}

func newValidator(t testing.TB, ks *keystonetest.Server, opts keystone.ValidatorOptions) *keystone.Validator {
	t.Helper()
	s, err := keystone.NewSession(keystone.Config{URL: ks.URL, Username: keystonetest.ServiceUser,
		Password: keystonetest.ServicePassword, Project: keystonetest.ServiceProject})
	if err != nil {
		t.Fatal(err)
	}
	return keystone.NewValidator(s, opts)
}

func TestValidateAndCache(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	var c clock
	v := newValidator(t, ks, keystone.ValidatorOptions{Now: c.now})
	ctx := context.Background()
	token := ks.Issue(member("p1"))

	id, err := v.Validate(ctx, token, false)
	if err != nil {
		t.Fatal(err)
	}
	if id.UserID != "u-p1" || id.ProjectID != "p1" || !id.HasRole("member") || id.UserDomainID != "default" {
		t.Errorf("identity %+v", id)
	}
	if n := ks.Validations.Load(); n != 1 {
		t.Fatalf("validations = %d, want 1", n)
	}
	// Cached for the default 300 s: revocation is not seen until then.
	ks.Revoke(token)
	c.advance(299 * time.Second)
	if _, err := v.Validate(ctx, token, false); err != nil {
		t.Errorf("cached token refused: %v", err)
	}
	if n := ks.Validations.Load(); n != 1 {
		t.Errorf("validations = %d, want 1 (cached)", n)
	}
	c.advance(2 * time.Second)
	if _, err := v.Validate(ctx, token, false); !errors.Is(err, keystone.ErrInvalidToken) {
		t.Errorf("revoked token after the cache time: %v, want invalid", err)
	}
	if n := ks.Validations.Load(); n != 2 {
		t.Errorf("validations = %d, want 2", n)
	}
	// Invalid tokens are not cached.
	for range 3 {
		if _, err := v.Validate(ctx, "bogus", false); !errors.Is(err, keystone.ErrInvalidToken) {
			t.Errorf("bogus token: %v", err)
		}
	}
	if n := ks.Validations.Load(); n != 5 {
		t.Errorf("validations = %d, want 5 (bogus tokens not cached)", n)
	}
	if _, err := v.Validate(ctx, "", false); !errors.Is(err, keystone.ErrInvalidToken) {
		t.Errorf("empty token: %v", err)
	}
	if n := ks.Validations.Load(); n != 5 {
		t.Errorf("an empty token cost a validation")
	}
	// Only the service authenticated, once.
	if n := ks.Auths.Load(); n != 1 {
		t.Errorf("service authentications = %d, want 1", n)
	}
}

func TestCacheNeverPastExpiry(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	var c clock
	v := newValidator(t, ks, keystone.ValidatorOptions{Now: c.now})
	tok := member("p1")
	tok.TTL = 10 * time.Second
	token := ks.Issue(tok)
	ctx := context.Background()
	if _, err := v.Validate(ctx, token, false); err != nil {
		t.Fatal(err)
	}
	c.advance(9 * time.Second)
	if _, err := v.Validate(ctx, token, false); err != nil || ks.Validations.Load() != 1 {
		t.Fatalf("before expiry: %v, validations %d", err, ks.Validations.Load())
	}
	c.advance(2 * time.Second)
	if _, err := v.Validate(ctx, token, false); !errors.Is(err, keystone.ErrInvalidToken) {
		t.Errorf("expired token: %v, want invalid", err)
	}
	if n := ks.Validations.Load(); n != 2 {
		t.Errorf("validations = %d, want 2 (cache entry ended at expiry)", n)
	}
}

func TestCacheDisabledAndBounded(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	ctx := context.Background()
	v := newValidator(t, ks, keystone.ValidatorOptions{CacheTime: -1})
	token := ks.Issue(member("p1"))
	for range 3 {
		if _, err := v.Validate(ctx, token, false); err != nil {
			t.Fatal(err)
		}
	}
	if n := ks.Validations.Load(); n != 3 || v.CacheLen() != 0 {
		t.Errorf("no cache: validations %d, cached %d", n, v.CacheLen())
	}

	v = newValidator(t, ks, keystone.ValidatorOptions{CacheEntries: 3})
	var tokens []string
	for i := range 10 {
		tokens = append(tokens, ks.Issue(member(string(rune('a'+i)))))
		if _, err := v.Validate(ctx, tokens[i], false); err != nil {
			t.Fatal(err)
		}
		if n := v.CacheLen(); n > 3 {
			t.Fatalf("cache holds %d entries, bound 3", n)
		}
	}
	if n := v.CacheLen(); n != 3 {
		t.Errorf("cache holds %d, want 3", n)
	}
}

func TestConcurrentValidationsCollapse(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	v := newValidator(t, ks, keystone.ValidatorOptions{})
	token := ks.Issue(member("p1"))
	ctx := context.Background()
	if _, err := v.Session().Token(ctx); err != nil {
		t.Fatal(err)
	}
	release := ks.HoldValidations()
	const n = 32
	var wg sync.WaitGroup
	var started sync.WaitGroup
	errs := make([]error, n)
	started.Add(n)
	for i := range n {
		wg.Go(func() {
			started.Done()
			_, errs[i] = v.Validate(ctx, token, false)
		})
	}
	started.Wait()
	// The first validation is held at the stub; let the others join it.
	for ks.Validations.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	release()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := ks.Validations.Load(); got != 1 {
		t.Errorf("%d concurrent requests with one token made %d validations, want 1", n, got)
	}
}

func TestServiceReauthenticates(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	v := newValidator(t, ks, keystone.ValidatorOptions{})
	ctx := context.Background()
	if _, err := v.Validate(ctx, ks.Issue(member("p1")), false); err != nil {
		t.Fatal(err)
	}
	ks.RevokeAll() // the service's token too
	if _, err := v.Validate(ctx, ks.Issue(member("p2")), false); err != nil {
		t.Fatalf("after the service token was revoked: %v", err)
	}
	if n := ks.Auths.Load(); n != 2 {
		t.Errorf("service authentications = %d, want 2", n)
	}
}

func TestKeystoneUnavailable(t *testing.T) {
	ks := keystonetest.New()
	v := newValidator(t, ks, keystone.ValidatorOptions{})
	ctx := context.Background()
	cached := ks.Issue(member("p1"))
	unknown := ks.Issue(member("p2"))
	if _, err := v.Validate(ctx, cached, false); err != nil {
		t.Fatal(err)
	}
	ks.Close()
	if _, err := v.Validate(ctx, cached, false); err != nil {
		t.Errorf("cached token while Keystone is down: %v", err)
	}
	if _, err := v.Validate(ctx, unknown, false); !errors.Is(err, keystone.ErrUnavailable) || errors.Is(err, keystone.ErrInvalidToken) {
		t.Errorf("unknown token while Keystone is down: %v, want unavailable", err)
	}
}

func TestSessionCredentials(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	ctx := context.Background()
	for name, cfg := range map[string]keystone.Config{
		"application credential": {URL: ks.URL + "/v3/", AppCredentialID: keystonetest.AppCredID, AppCredentialSecret: keystonetest.AppCredSecret},
		"password":               {URL: ks.URL, Username: keystonetest.ServiceUser, Password: keystonetest.ServicePassword, Project: keystonetest.ServiceProject},
	} {
		s, err := keystone.NewSession(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if s.Endpoint() != ks.URL+"/v3" {
			t.Errorf("%s: endpoint %q", name, s.Endpoint())
		}
		a, err := s.Token(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b, _ := s.Token(ctx); a != b {
			t.Errorf("%s: the token was not reused", name)
		}
	}
	s, err := keystone.NewSession(keystone.Config{URL: ks.URL, Username: keystonetest.ServiceUser, Password: "wrong", Project: keystonetest.ServiceProject})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx); !errors.Is(err, keystone.ErrUnavailable) {
		t.Errorf("wrong password: %v", err)
	}
	for name, cfg := range map[string]keystone.Config{
		"no url":        {Username: "u", Password: "p", Project: "x"},
		"no credential": {URL: ks.URL},
		"no project":    {URL: ks.URL, Username: "u", Password: "p"},
		"no secret":     {URL: ks.URL, AppCredentialID: "a"},
		"both kinds":    {URL: ks.URL, Username: "u", Password: "p", Project: "x", AppCredentialID: "a", AppCredentialSecret: "s"},
	} {
		if _, err := keystone.NewSession(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSessionRenews: a short-lived service token is replaced before it expires.
func TestSessionRenews(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	s, err := keystone.NewSession(keystone.Config{URL: ks.URL, AppCredentialID: keystonetest.AppCredID, AppCredentialSecret: keystonetest.AppCredSecret})
	if err != nil {
		t.Fatal(err)
	}
	ks.SetServiceTokenTTL(2 * time.Second)
	ctx := context.Background()
	first, err := s.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Invalidate("not the current token")
	if tok, err := s.Token(ctx); err != nil || tok != first || ks.Auths.Load() != 1 {
		t.Fatalf("reuse: %v, auths %d", err, ks.Auths.Load())
	}
	// Renewed at half its lifetime, before it expires.
	time.Sleep(1100 * time.Millisecond)
	if tok, err := s.Token(ctx); err != nil || tok == first || ks.Auths.Load() != 2 {
		t.Fatalf("renewal: %v, auths %d", err, ks.Auths.Load())
	}
	s.Invalidate(first) // no longer current: no effect
	if _, err := s.Token(ctx); err != nil || ks.Auths.Load() != 2 {
		t.Fatalf("stale invalidation: %v, auths %d", err, ks.Auths.Load())
	}
}
