package keystone

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// ErrInvalidToken is wrapped by the errors of tokens Keystone does not accept (unknown,
// revoked, expired or malformed): the middleware answers 401.
var ErrInvalidToken = errors.New("invalid token")

// DefaultCacheTime is how long a valid token is trusted without asking Keystone again,
// as keystonemiddleware's token_cache_time.
const DefaultCacheTime = 300 * time.Second

// DefaultCacheEntries bounds the token cache.
const DefaultCacheEntries = 10000

// ValidatorOptions tune a Validator.
type ValidatorOptions struct {
	// CacheTime is how long a valid token's identity is reused (default DefaultCacheTime;
	// negative: no cache). An entry never outlives its token's expires_at.
	CacheTime time.Duration
	// CacheEntries bounds the cache (default DefaultCacheEntries).
	CacheEntries int
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Validator validates tokens with Keystone (GET /v3/auth/tokens) on behalf of the
// service whose Session it holds, caching the identities of valid tokens. It is safe
// for concurrent use.
type Validator struct {
	session *Session
	ttl     time.Duration
	max     int
	now     func() time.Time
	group   singleflight.Group

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	id    *Identity
	until time.Time
}

// NewValidator returns a validator that authenticates its calls with s.
func NewValidator(s *Session, opts ValidatorOptions) *Validator {
	v := &Validator{session: s, ttl: opts.CacheTime, max: opts.CacheEntries, now: opts.Now,
		cache: make(map[[sha256.Size]byte]cacheEntry)}
	if v.ttl == 0 {
		v.ttl = DefaultCacheTime
	}
	if v.max <= 0 {
		v.max = DefaultCacheEntries
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v
}

// Session returns the service's own session.
func (v *Validator) Session() *Session { return v.session }

// Validate returns the identity token carries. Its error wraps ErrInvalidToken when
// Keystone refuses the token and ErrUnavailable when Keystone cannot say. allowExpired
// asks Keystone to accept a recently expired token (only for requests whose service
// token passed the role check); such answers are not cached.
func (v *Validator) Validate(ctx context.Context, token string, allowExpired bool) (*Identity, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidToken)
	}
	key := sha256.Sum256([]byte(token))
	if id, ok := v.cached(key); ok {
		return id, nil
	}
	flight := string(key[:])
	if allowExpired {
		flight += "+expired"
	}
	res, err, _ := v.group.Do(flight, func() (any, error) {
		if id, ok := v.cached(key); ok {
			return id, nil
		}
		// The call outlives the first caller's cancellation: others may wait on it.
		id, err := v.fetch(context.WithoutCancel(ctx), token, allowExpired)
		if err != nil {
			return nil, err
		}
		v.store(key, id)
		return id, nil
	})
	if err != nil {
		return nil, err
	}
	return res.(*Identity), nil
}

// cached returns a cache entry still valid now.
func (v *Validator) cached(key [sha256.Size]byte) (*Identity, bool) {
	if v.ttl < 0 {
		return nil, false
	}
	v.mu.Lock()
	e, ok := v.cache[key]
	v.mu.Unlock()
	if !ok || !v.now().Before(e.until) {
		return nil, false
	}
	return e.id, true
}

// store caches id until the earlier of the cache time and the token's expiry. When the
// cache is full it drops expired entries, then arbitrary ones.
func (v *Validator) store(key [sha256.Size]byte, id *Identity) {
	now := v.now()
	until := now.Add(v.ttl)
	if id.ExpiresAt.Before(until) {
		until = id.ExpiresAt
	}
	if v.ttl < 0 || !now.Before(until) {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.cache[key]; !ok && len(v.cache) >= v.max {
		for k, e := range v.cache {
			if !now.Before(e.until) {
				delete(v.cache, k)
			}
		}
		for k := range v.cache {
			if len(v.cache) < v.max {
				break
			}
			delete(v.cache, k)
		}
	}
	v.cache[key] = cacheEntry{id: id, until: until}
}

// CacheLen returns the number of cached tokens.
func (v *Validator) CacheLen() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.cache)
}

// fetch asks Keystone, authenticating the service again once if Keystone refuses its
// token.
func (v *Validator) fetch(ctx context.Context, token string, allowExpired bool) (*Identity, error) {
	for attempt := 0; ; attempt++ {
		svc, err := v.session.Token(ctx)
		if err != nil {
			return nil, err
		}
		id, status, err := v.get(ctx, svc, token, allowExpired)
		if status == http.StatusUnauthorized && attempt == 0 {
			v.session.Invalidate(svc)
			continue
		}
		return id, err
	}
}

func (v *Validator) get(ctx context.Context, svc, token string, allowExpired bool) (*Identity, int, error) {
	url := v.session.endpoint + "/auth/tokens?nocatalog"
	if allowExpired {
		url += "&allow_expired=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("keystone: %w", err)
	}
	req.Header.Set("X-Auth-Token", svc)
	req.Header.Set("X-Subject-Token", token)
	req.Header.Set("OpenStack-Identity-Access-Rules", "1")
	req.Header.Set("Accept", "application/json")
	resp, err := v.session.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: validating a token: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%w: validating a token: %v", ErrUnavailable, err)
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNonAuthoritativeInfo:
	case http.StatusNotFound:
		return nil, resp.StatusCode, fmt.Errorf("%w: keystone: not found", ErrInvalidToken)
	default:
		return nil, resp.StatusCode, fmt.Errorf("%w: validating a token: HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	id, err := DecodeToken(body)
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if !allowExpired && !v.now().Before(id.ExpiresAt) {
		return nil, resp.StatusCode, fmt.Errorf("%w: expired at %s", ErrInvalidToken, id.ExpiresAt.Format(time.RFC3339))
	}
	return &id, resp.StatusCode, nil
}
