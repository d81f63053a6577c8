package instanceapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"ingot/internal/instanceapi"
	"ingot/internal/policy"
	"ingot/internal/store/storetest"
)

// fuzzSeeds are create bodies, valid and not, that the fuzzers start from.
func fuzzSeeds() [][]byte {
	valid, _ := json.Marshal(validBody(uuid1))
	seeds := [][]byte{
		valid,
		[]byte(`{}`),
		[]byte(`[]`),
		[]byte(`null`),
		[]byte(`{"request":{"resource_class":"baremetal-gold","member_of":[["` + agg1 + `"]],"node":"` + node1 + `"},"image":{"image_source":"` + agg1 + `","image_os_hash_algo":"sha256","image_os_hash_value":"ab"}}`),
		[]byte(`{"request":{"resource_class":"baremetal-gold"},"image":{"image_source":"file:///x","image_checksum":"c"},"config_drive":{"network_data":{"links":[]},"meta_data":{"a":"b"}}}`),
		[]byte(`{"name":"\u0000","request":{"resource_class":"x"}}`),
		[]byte(`{"uuid":"{0B7E6B0C1F7A4C559A445F1F2B3C4D01}","request":{"resource_class":"baremetal-gold"},"image":{"image_source":"http://h/i","image_checksum":"c"},"config_drive":{"network_data":null}}`),
	}
	return seeds
}

// FuzzDecodeCreate: decoding never panics, and what it accepts is a fixed point: the
// normalized request, encoded and decoded again, is the same request.
func FuzzDecodeCreate(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := instanceapi.DecodeCreate(raw)
		if err != nil {
			return
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("encode accepted request: %v", err)
		}
		req2, err := instanceapi.DecodeCreate(again)
		if err != nil {
			t.Fatalf("normalized request %s refused: %v", again, err)
		}
		if !reflect.DeepEqual(req, req2) {
			t.Fatalf("not a fixed point:\n%#v\n%#v", req, req2)
		}
	})
}

// FuzzCreate posts the body to the real handler on SQLite, as an admin (so node pins pass
// policy): never a 500, and a 4xx writes nothing.
func FuzzCreate(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	e := newEnv(f, storetest.Open(f, storetest.SQLite), true)
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		f.Fatal(err)
	}
	h := instanceapi.New(e.db, instanceapi.Options{Policy: enf})
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := e.count(t)
		req := httptest.NewRequest("POST", "/v1/instances", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Auth-Token", "admin")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		after := e.count(t)
		switch {
		case w.Code >= 500:
			t.Fatalf("%d for %q: %s", w.Code, raw, w.Body)
		case w.Code >= 400:
			if after != before {
				t.Fatalf("%d wrote %d instances for %q", w.Code, after-before, raw)
			}
			if !strings.Contains(w.Body.String(), `"errors"`) {
				t.Fatalf("%d without an error body: %s", w.Code, w.Body)
			}
		case w.Code == http.StatusAccepted:
			if after != before+1 {
				t.Fatalf("202 wrote %d instances", after-before)
			}
		case w.Code == http.StatusOK:
			if after != before {
				t.Fatalf("200 (existing instance) wrote %d instances", after-before)
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
