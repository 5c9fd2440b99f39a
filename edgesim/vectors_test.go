package edgesim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dockethq/docket/internal/testdb"
)

// vectorsFile is the shared Standard Webhooks test data (../shared/testdata
// from the project root); a clone of the project alone lacks it.
var vectorsFile = filepath.Join("..", "..", "shared", "testdata", "webhooks", "standard-webhooks-vectors.json")

type webhookVectors struct {
	Source      string `json:"_source"`
	SignVectors []struct {
		Name              string `json:"name"`
		Secret            string `json:"secret"`
		MsgID             string `json:"msg_id"`
		Timestamp         int64  `json:"timestamp"`
		Payload           string `json:"payload"`
		ExpectedSignature string `json:"expected_signature"`
	} `json:"sign_vectors"`
	VerifyCases []struct {
		Name        string `json:"name"`
		Signature   string `json:"webhook-signature"`
		Timestamp   string `json:"webhook-timestamp"`
		ExpectError bool   `json:"expect_error"`
	} `json:"verify_cases_relative_to_now"`
}

func loadVectors(t *testing.T) webhookVectors {
	t.Helper()
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		testdb.Unavailable(t, "shared test data "+vectorsFile, err)
	}
	var v webhookVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", vectorsFile, err)
	}
	if len(v.SignVectors) == 0 || len(v.VerifyCases) == 0 {
		t.Fatalf("%s: no vectors in it", vectorsFile)
	}
	return v
}

// TestSharedSignVectors checks the library's signatures against the official
// suite's, and that the edge accepts a delivery signed that way.
func TestSharedSignVectors(t *testing.T) {
	v := loadVectors(t)
	for _, sv := range v.SignVectors {
		wh, err := standardwebhooks.NewWebhook(sv.Secret)
		if err != nil {
			t.Fatalf("%s: %v", sv.Name, err)
		}
		sig, err := wh.Sign(sv.MsgID, time.Unix(sv.Timestamp, 0), []byte(sv.Payload))
		if err != nil || sig != sv.ExpectedSignature {
			t.Errorf("%s: Sign = %q, %v; want %q", sv.Name, sig, err, sv.ExpectedSignature)
		}
		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, sv.MsgID)
		h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(sv.Timestamp, 10))
		h.Set(standardwebhooks.HeaderWebhookSignature, sv.ExpectedSignature)
		if err := wh.VerifyIgnoringTimestamp([]byte(sv.Payload), h); err != nil {
			t.Errorf("%s: the expected signature does not verify: %v", sv.Name, err)
		}
		if err := wh.Verify([]byte(sv.Payload), h); err == nil {
			t.Errorf("%s: a 2021 timestamp passed the tolerance check", sv.Name)
		}
	}
}

// TestSharedVerifyCases runs the suite's verify cases (built relative to now)
// against the library and against the edge's endpoint: a case expecting an
// error must get 401; one that verifies gets past the signature check to 400,
// as the vectors' payload is not a directive.
func TestSharedVerifyCases(t *testing.T) {
	v := loadVectors(t)
	sv := v.SignVectors[0]
	bare := strings.TrimPrefix(sv.Secret, SecretPrefix)
	sim, srv := newEdge(t, sv.Secret)
	payload := []byte(sv.Payload)

	for _, vc := range v.VerifyCases {
		t.Run(vc.Name, func(t *testing.T) {
			ts := time.Now()
			switch {
			case strings.HasPrefix(vc.Name, "old timestamp"):
				ts = ts.Add(-5 * time.Minute)
			case strings.HasPrefix(vc.Name, "new timestamp"):
				// now+5m+1s, counted from the whole second the header carries.
				ts = time.Unix(ts.Unix(), 0).Add(5*time.Minute + 2*time.Second)
			}
			wh, err := standardwebhooks.NewWebhook(sv.Secret)
			if err != nil {
				t.Fatal(err)
			}
			valid, _ := wh.Sign(sv.MsgID, ts, payload)
			h := http.Header{}
			h.Set(standardwebhooks.HeaderWebhookID, sv.MsgID)
			h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
			h.Set(standardwebhooks.HeaderWebhookSignature, valid)
			if vc.Signature != "" {
				h.Set(standardwebhooks.HeaderWebhookSignature, strings.ReplaceAll(vc.Signature, "<VALID_SIG>", valid))
			}
			if vc.Timestamp != "" {
				h.Set(standardwebhooks.HeaderWebhookTimestamp, vc.Timestamp)
			}
			switch {
			case strings.HasPrefix(vc.Name, "missing webhook-id"):
				h.Del(standardwebhooks.HeaderWebhookID)
			case strings.HasPrefix(vc.Name, "missing webhook-timestamp"):
				h.Del(standardwebhooks.HeaderWebhookTimestamp)
			case strings.HasPrefix(vc.Name, "missing webhook-signature"):
				h.Del(standardwebhooks.HeaderWebhookSignature)
			case strings.HasPrefix(vc.Name, "empty secret"):
				// Construction, not verification. The Go library (v0.0.1)
				// accepts an empty key; the edge must not.
				for _, sec := range []string{"", "whsec_"} {
					if _, err := New([]string{sec}); (err != nil) != vc.ExpectError {
						t.Errorf("New(%q): err = %v, expect error %v", sec, err, vc.ExpectError)
					}
				}
				return
			case strings.HasPrefix(vc.Name, "secret with and without whsec_"):
				bareWH, err := standardwebhooks.NewWebhook(bare)
				if err != nil {
					t.Fatal(err)
				}
				if err := bareWH.Verify(payload, h); (err != nil) != vc.ExpectError {
					t.Errorf("secret without prefix: err = %v", err)
				}
			}
			if err := wh.Verify(payload, h); (err != nil) != vc.ExpectError {
				t.Errorf("library Verify: err = %v, expect error %v", err, vc.ExpectError)
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+PathDirectives, bytes.NewReader(payload))
			req.Header = h
			want := http.StatusBadRequest
			if vc.ExpectError {
				want = http.StatusUnauthorized
			}
			if code, body := do(t, req); code != want {
				t.Errorf("edge: %d %v, want %d", code, body, want)
			}
		})
	}
	if n := len(sim.State()); n != 0 {
		t.Errorf("state changed: %v", sim.State())
	}
}
