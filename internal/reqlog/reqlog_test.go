package reqlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/dockethq/docket/internal/reqlog"
)

func TestHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	h := reqlog.Handler(slog.NewJSONHandler(&buf, nil))
	if reqlog.Handler(h) != h {
		t.Error("wrapping twice wraps twice")
	}
	log := slog.New(h).With("component", "test")
	ctx := reqlog.WithRequestID(context.Background(), "req-1")
	log.InfoContext(ctx, "with")
	log.Info("without")
	log.InfoContext(reqlog.WithRequestID(context.Background(), ""), "empty")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"req-1", "", ""}
	for i, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		got, _ := rec["request_id"].(string)
		if got != want[i] || rec["component"] != "test" {
			t.Errorf("line %d: request_id %q component %v, want %q", i, got, rec["component"], want[i])
		}
	}
	if reqlog.RequestID(ctx) != "req-1" || reqlog.RequestID(context.Background()) != "" {
		t.Error("RequestID does not read back what WithRequestID stored")
	}
}
