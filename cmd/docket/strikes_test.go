package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestStrikeThresholdConfig: a bad threshold stops Docket with a message
// naming the variable.
func TestStrikeThresholdConfig(t *testing.T) {
	for _, v := range []string{"ten", "-1", "1.5"} {
		t.Run(v, func(t *testing.T) {
			t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "d.db"))
			t.Setenv("DOCKET_STRIKE_THRESHOLD", v)
			_, err := docket(t, "", "migrate", "status")
			if err == nil || !strings.Contains(err.Error(), "DOCKET_STRIKE_THRESHOLD") {
				t.Fatalf("err = %v, want it to name DOCKET_STRIKE_THRESHOLD", err)
			}
		})
	}
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(t.TempDir(), "d.db"))
	t.Setenv("DOCKET_STRIKE_THRESHOLD", "0")
	if _, err := docket(t, "", "migrate", "status"); err != nil {
		t.Errorf("threshold 0 (never suggest): %v", err)
	}
}
