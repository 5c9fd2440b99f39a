package main

import (
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/edgesim"
	"github.com/dockethq/docket/internal/testdb"
)

// deadAddr is a local address where nothing listens.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDoctor(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second); err != nil {
		testdb.Unavailable(t, "NATS", err)
	} else {
		c.Close()
	}
	dir := t.TempDir()
	t.Setenv("DOCKET_DATABASE_URL", filepath.Join(dir, "doctor.db"))
	if out, err := docket(t, "", "doctor"); err != nil || !strings.Contains(out, "no database file yet") {
		t.Errorf("doctor before the database exists: %v\n%s", err, out)
	}
	if _, err := docket(t, "", "seed-demo"); err != nil {
		t.Fatal(err)
	}
	secret := edgesim.NewSecret()
	sim, _ := edgesim.New([]string{secret})
	edge := httptest.NewServer(sim.Handler())
	defer edge.Close()
	t.Setenv("DOCKET_EDGE_ENDPOINTS", edge.URL+edgesim.PathDirectives)
	t.Setenv("DOCKET_EDGE_SECRETS", secret)
	t.Setenv("DOCKET_NATS_URL", "nats://127.0.0.1:4222")
	t.Setenv("DOCKET_OUTBOX", filepath.Join(dir, "outbox"))

	out, err := docket(t, "", "doctor", "--log-level", "warn")
	if err != nil {
		t.Fatalf("doctor on a healthy set-up: %v\n%s", err, out)
	}
	for _, want := range []string{
		"No problems found", "schema: current", "job queue: River's tables are migrated", "nats nats://127.0.0.1:4222: connected",
		"edge-secrets", "1 secret(s), masked", "environment DOCKET_EDGE_SECRETS", "flag --log-level", "shutdown-grace", "outbox",
		"evidence file://", "the bucket answers",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("healthy doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, strings.TrimPrefix(secret, "whsec_")) {
		t.Errorf("doctor printed the edge secret:\n%s", out)
	}

	// Everything unreachable: each named, with a non-zero exit, secrets masked.
	t.Setenv("DOCKET_EDGE_ENDPOINTS", "http://"+deadAddr(t)+"/directives")
	t.Setenv("DOCKET_NATS_URL", "nats://NatsMarkerToken31@"+deadAddr(t))
	t.Setenv("DOCKET_SMTP_URL", "smtp://mailer:SmtpMarkerPass77@"+deadAddr(t))
	t.Setenv("DOCKET_EVIDENCE_URL", "file://"+filepath.ToSlash(filepath.Join(dir, "no-such-folder")))
	out, err = docket(t, "", "doctor")
	if err == nil || !strings.Contains(out, "4 problem(s) found") {
		t.Fatalf("doctor with nothing reachable: %v\n%s", err, out)
	}
	for _, want := range []string{"FAIL  edge http://", "not reachable", "FAIL  nats", "FAIL  smtp smtp://mailer:xxxxx@", "FAIL  evidence file://"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SmtpMarkerPass77") || strings.Contains(out, "NatsMarkerToken31") {
		t.Errorf("doctor printed the SMTP password or the NATS token:\n%s", out)
	}

	// PostgreSQL that refuses: the password in the URL stays masked.
	t.Setenv("DOCKET_DATABASE_URL", "postgres://docket:PgMarkerPass55@"+deadAddr(t)+"/docket?sslmode=disable")
	t.Setenv("DOCKET_SMTP_URL", "")
	out, err = docket(t, "", "doctor")
	if err == nil || !strings.Contains(out, "FAIL  database postgres://docket:xxxxx@") || strings.Contains(out, "PgMarkerPass55") {
		t.Errorf("doctor with PostgreSQL down: %v\n%s", err, out)
	}

	// A bad value: said plainly, non-zero.
	t.Setenv("DOCKET_LOG_FORMAT", "xml")
	out, err = docket(t, "", "doctor")
	if err == nil || !strings.Contains(out, "FAIL  configuration: DOCKET_LOG_FORMAT") {
		t.Errorf("doctor with a bad value: %v\n%s", err, out)
	}
}

// TestDoctorAuditSealing: on PostgreSQL the doctor says whether audit events
// are being sealed into the chain, and fails when they wait past the grace.
func TestDoctorAuditSealing(t *testing.T) {
	db, dsn := testdb.PostgresSchema(t)
	t.Setenv("DOCKET_DATABASE_URL", dsn)
	t.Setenv("DOCKET_OUTBOX", filepath.Join(t.TempDir(), "outbox"))
	if err := db.W.Transaction(func(tx *gorm.DB) error {
		return audit.Record(tx, time.Now(), "system", "doctor.test", "x", "1", nil)
	}); err != nil {
		t.Fatal(err)
	}
	out, err := docket(t, "", "doctor")
	if err != nil || !strings.Contains(out, "ok    audit chain: events are being sealed") {
		t.Fatalf("doctor with a young pending event: %v\n%s", err, out)
	}
	db.W.Exec(`UPDATE audit_events SET stored_at = stored_at - interval '10 minutes' WHERE seq = -1`)
	out, err = docket(t, "", "doctor")
	if err == nil || !strings.Contains(out, "FAIL  audit chain: 1 audit events not sealed into the chain, the oldest for 10m") {
		t.Fatalf("doctor with a stale pending event: %v\n%s", err, out)
	}
	if out, err := docket(t, "", "audit", "verify"); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	out, err = docket(t, "", "doctor")
	if err != nil || !strings.Contains(out, "audit chain: events are being sealed") || !strings.Contains(out, "ok    audit verification: intact on ") {
		t.Fatalf("doctor after verify sealed: %v\n%s", err, out)
	}
	// A broken chain found by the last verification is the doctor's problem too.
	db.W.Exec(`UPDATE audit_events SET details = '{"edited":true}' WHERE seq = 1`)
	if _, err := docket(t, "", "audit", "verify"); err == nil {
		t.Fatal("audit verify passed an edited chain")
	}
	out, err = docket(t, "", "doctor")
	if err == nil || !strings.Contains(out, "FAIL  audit verification: the audit chain was found BROKEN on ") || !strings.Contains(out, "hash does not match its contents") {
		t.Fatalf("doctor after a broken verification: %v\n%s", err, out)
	}
}
