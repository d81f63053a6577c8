package ironictest

import (
	"context"
	"crypto/subtle"
	"fmt"
	"ingot/internal/uuid"
	"net/http"
	"strings"
	"time"

	"ingot/internal/backoff"
	"ingot/internal/ironic"
)

type ctxKey struct{}

// handlerFunc handles one API call at microversion v; an *apiError return is written
// in Ironic's error shape.
type handlerFunc func(w http.ResponseWriter, r *http.Request, v ironic.Version) error

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	h := func(fn handlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, _ := r.Context().Value(ctxKey{}).(ironic.Version)
			if err := fn(w, r, v); err != nil {
				if e, ok := err.(*apiError); ok {
					writeError(w, e.status, e.msg)
					return
				}
				writeError(w, http.StatusInternalServerError, err.Error())
			}
		})
	}
	mux.Handle("GET /v1", h(s.handleGetV1))
	mux.Handle("GET /v1/{$}", h(s.handleGetV1))
	mux.Handle("GET /v1/nodes", h(s.handleListNodes))
	mux.Handle("POST /v1/nodes", h(s.handleCreateNode))
	mux.Handle("GET /v1/nodes/{id}", h(s.handleGetNode))
	mux.Handle("PATCH /v1/nodes/{id}", h(s.handlePatchNode))
	mux.Handle("DELETE /v1/nodes/{id}", h(s.handleDeleteNode))
	mux.Handle("GET /v1/nodes/{id}/states", h(s.handleGetStates))
	mux.Handle("PUT /v1/nodes/{id}/states/provision", h(s.handlePutProvision))
	mux.Handle("PUT /v1/nodes/{id}/states/power", h(s.handlePutPower))
	mux.Handle("PUT /v1/nodes/{id}/maintenance", h(s.handlePutMaintenance))
	mux.Handle("DELETE /v1/nodes/{id}/maintenance", h(s.handleDeleteMaintenance))
	mux.Handle("GET /v1/nodes/{id}/traits", h(s.handleGetTraits))
	mux.Handle("PUT /v1/nodes/{id}/traits", h(s.handlePutTraits))
	mux.Handle("DELETE /v1/nodes/{id}/traits", h(s.handleDeleteTraits))
	mux.Handle("PUT /v1/nodes/{id}/traits/{trait}", h(s.handlePutTrait))
	mux.Handle("DELETE /v1/nodes/{id}/traits/{trait}", h(s.handleDeleteTrait))
	mux.Handle("GET /v1/nodes/{id}/validate", h(s.handleValidate))
	mux.Handle("GET /v1/shards", h(s.handleGetShards))
	mux.Handle("GET /v1/allocations", h(s.handleListAllocations))
	mux.Handle("POST /v1/allocations", h(s.handleCreateAllocation))
	mux.Handle("GET /v1/allocations/{id}", h(s.handleGetAllocation))
	mux.Handle("DELETE /v1/allocations/{id}", h(s.handleDeleteAllocation))
	mux.Handle("/", h(func(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
		return errorf(http.StatusNotFound, "The resource could not be found.")
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, mux)
	})
}

// serve records the request, applies faults, authentication and the microversion, then
// dispatches.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rec := &statusRecorder{ResponseWriter: w}
		w = rec
		received := time.Now()
		defer func() {
			s.audit(Mutation{Received: received, Answered: time.Now(), Method: r.Method, Path: r.URL.Path,
				Node: pathNode(r.URL.Path), Fence: r.Header.Get(ironic.FenceHeader), Status: rec.status})
		}()
	}
	kind := r.Method + " other"
	if r.URL.Path == "/" {
		kind = r.Method + " /"
	} else if _, pattern := mux.Handler(r); pattern != "" && pattern != "/" {
		kind = pattern
	}
	s.mu.Lock()
	s.counts[kind]++
	latency, ok := s.latency[kind]
	if !ok {
		latency = s.latency[""]
	}
	s.requests = append(s.requests, Request{
		Method:  r.Method,
		Path:    r.URL.Path,
		Query:   r.URL.Query(),
		Version: r.Header.Get("X-OpenStack-Ironic-API-Version"),
	})
	f := s.matchFault(r)
	s.mu.Unlock()

	if latency > 0 && s.serialLatency {
		select {
		case s.cpu <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		err := backoff.Sleep(r.Context(), latency)
		<-s.cpu
		if err != nil {
			return
		}
	} else if err := backoff.Sleep(r.Context(), latency); err != nil {
		return
	}

	if f != nil {
		if err := backoff.Sleep(r.Context(), f.Delay); err != nil {
			return
		}
		if f.Drop {
			// The server closes the connection without writing anything.
			panic(http.ErrAbortHandler)
		}
		if f.Status != 0 {
			msg := f.Message
			if msg == "" {
				msg = defaultMessage(f.Status)
			}
			w.Header().Set("Openstack-Request-Id", "req-"+uuid.New())
			writeError(w, f.Status, msg)
			return
		}
	}

	if r.URL.Path == "/" {
		// The root document needs neither credentials nor a microversion.
		s.handleRoot(w, r)
		return
	}
	// So does /v1; everything under it needs credentials in http_basic mode, and the
	// refusal comes from a middleware with its own body shape and no request id.
	if s.user != "" && r.URL.Path != "/v1" && r.URL.Path != "/v1/" {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(s.user)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(s.password)) != 1 {
			msg := "Authorization required"
			if ok {
				msg = "Incorrect username or password"
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="Baremetal API"`)
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"message": msg, "code": 401}})
			return
		}
	}
	if s.keystone != nil && r.URL.Path != "/v1" && r.URL.Path != "/v1/" {
		caller, ok := s.keystone(r.Header.Get("X-Auth-Token"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Keystone uri="http://keystone.invalid/v3"`)
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"code": 401,
				"title": "Unauthorized", "message": "The request you have made requires authentication."}})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, caller))
	}
	w.Header().Set("Openstack-Request-Id", "req-"+uuid.New())

	w.Header().Set("X-OpenStack-Ironic-API-Minimum-Version", s.minVersion.String())
	w.Header().Set("X-OpenStack-Ironic-API-Maximum-Version", s.maxVersion.String())
	v := s.minVersion
	switch hv := strings.TrimSpace(r.Header.Get("X-OpenStack-Ironic-API-Version")); hv {
	case "":
	case "latest":
		v = s.maxVersion
	default:
		pv, err := ironic.ParseVersion(hv)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid value for X-OpenStack-Ironic-API-Version header: %s", hv))
			return
		}
		if pv.Less(s.minVersion) || s.maxVersion.Less(pv) {
			writeNotAcceptableVersion(w, fmt.Sprintf("Version %s was requested but the minor version is not supported by this service. The supported version range is: [%s, %s].",
				pv, s.minVersion, s.maxVersion))
			return
		}
		v = pv
	}
	w.Header().Set("X-OpenStack-Ironic-API-Version", v.String())
	mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, v)))
}

func (s *Server) versionDoc(r *http.Request) map[string]any {
	base := baseURL(r)
	return map[string]any{
		"id":          "v1",
		"links":       []map[string]string{{"href": base + "/v1/", "rel": "self"}},
		"status":      "CURRENT",
		"min_version": s.minVersion.String(),
		"version":     s.maxVersion.String(),
	}
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	d := s.versionDoc(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"name":            "OpenStack Ironic API",
		"description":     "Ironic is an OpenStack project which enables the provision and management of baremetal machines.",
		"default_version": d,
		"versions":        []any{d},
	})
}

func (s *Server) handleGetV1(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	base := baseURL(r)
	link := func(p string) []map[string]string {
		return []map[string]string{
			{"href": base + "/v1/" + p + "/", "rel": "self"},
			{"href": base + "/" + p + "/", "rel": "bookmark"},
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":          "v1",
		"links":       []map[string]string{{"href": base + "/v1/", "rel": "self"}},
		"media_types": map[string]string{"base": "application/json", "type": "application/vnd.openstack.ironic.v1+json"},
		"nodes":       link("nodes"),
		"version":     s.versionDoc(r),
	})
	return nil
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
