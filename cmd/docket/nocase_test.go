package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReportsWithoutACaseOnAWiredInstance: on a fully wired instance (notices
// and forwarding on), a report about a host Docket does not serve, and a
// flagger's repeat of a report, are acknowledged with their status. Both have
// no case of their own; forwarding used to look one up and failed the filing
// with a 500.
func TestReportsWithoutACaseOnAWiredInstance(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "nocase.db")
	key := issueFlaggerKey(t, dbPath)
	p := startDocket(t, []string{"DOCKET_DATABASE_URL=" + dbPath, "DOCKET_LOG_LEVEL=warn"}, "--demo")
	hc := &http.Client{Timeout: 30 * time.Second}
	file := func(body string) (receipt, status, duplicateOf string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/reports", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("file %s: %d %s\n%s", body, res.StatusCode, b, p.log())
		}
		var out struct {
			Receipt, Status string
			DuplicateOf     string `json:"duplicate_of"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("answer %s: %v", b, err)
		}
		return out.Receipt, out.Status, out.DuplicateOf
	}
	for _, cat := range []string{"malware", "csam"} {
		if _, status, _ := file(`{"category":"` + cat + `","url":"https://not-ours.example/` + cat + `","description":"Not a host Docket serves."}`); status != "not_hosted" {
			t.Errorf("%s report about a host Docket does not serve: status %q, want not_hosted", cat, status)
		}
	}
	first, status, _ := file(`{"category":"malware","url":"https://files.kestrel.example/again.exe","description":"Malware."}`)
	if status == "not_hosted" {
		t.Fatalf("a served host's report: status %q", status)
	}
	if _, _, dup := file(`{"category":"malware","url":"https://files.kestrel.example/again.exe","description":"Malware, again."}`); dup != first {
		t.Errorf("the repeat is a duplicate of %q, want %q", dup, first)
	}
}
