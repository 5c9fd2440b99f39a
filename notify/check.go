package notify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/dockethq/docket/internal/database"
)

// Checks for docket doctor: each connects the way the workers would and
// returns an error that says what is wrong, or nil.

// CheckJobQueue reports whether River's tables are there and fully migrated.
func CheckJobQueue(ctx context.Context, db *database.DB) error {
	m, err := rivermigrate.New(driver(db), nil)
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("cannot read the job queue's migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("the job queue's tables are not up to date (%v); docket serve migrates them at start when DOCKET_AUTO_MIGRATE=true", res.Messages)
	}
	return nil
}

// CheckNATS connects to NATS and asks JetStream for the account, which fails
// when JetStream is not enabled.
func CheckNATS(ctx context.Context, url string) error {
	nc, err := nats.Connect(url, nats.Name("docket doctor"), nats.Timeout(3*time.Second))
	if err != nil {
		return fmt.Errorf("cannot connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("connected, but JetStream does not answer (is it enabled on the server?): %w", err)
	}
	return nil
}

// CheckSMTP connects to the relay, with TLS and sign-in as configured, and
// hangs up without sending anything.
func CheckSMTP(ctx context.Context, smtpURL string) error {
	t, err := parseSMTPURL(smtpURL)
	if err != nil {
		return err
	}
	c, err := smtpClient(t)
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("%s:%d: %w", t.Host, t.Port, err)
	}
	return c.Close()
}

// CheckOutbox reports whether notices can be written to the outbox folder.
func CheckOutbox(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		return fmt.Errorf("cannot write to %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(filepath.Join(dir, filepath.Base(f.Name())))
}
