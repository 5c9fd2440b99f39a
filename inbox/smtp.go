package inbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dockethq/docket/intake/abusemail"
)

// SMTPConfig is the optional listener for direct delivery (an MX or a relay
// forwarding the abuse mailbox to Docket).
type SMTPConfig struct {
	Addr   string // host:port
	Domain string // the name Docket greets with
	// Recipients, when set, are the only addresses accepted: full addresses
	// (abuse@example.net) or domains (@example.net). Empty accepts any.
	Recipients []string
}

// SMTPServer receives mail by SMTP and ingests each message. A message is
// answered 250 only after it is committed to the database; an outage answers
// 451 so the sender retries; larger than abusemail.MaxSize is refused with 552.
type SMTPServer struct {
	srv *smtp.Server
	ln  net.Listener
}

// ListenSMTP starts listening on cfg.Addr. Call Serve to accept mail.
func (s *Service) ListenSMTP(cfg SMTPConfig, log *slog.Logger) (*SMTPServer, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp listen on %s: %w", cfg.Addr, err)
	}
	srv := smtp.NewServer(&backend{in: s, cfg: cfg, log: log})
	srv.Addr = ln.Addr().String()
	srv.Domain = cfg.Domain
	if srv.Domain == "" {
		srv.Domain = "docket"
	}
	srv.MaxMessageBytes = abusemail.MaxSize
	srv.MaxRecipients = 50
	srv.ReadTimeout = 2 * time.Minute
	srv.WriteTimeout = 2 * time.Minute
	return &SMTPServer{srv: srv, ln: ln}, nil
}

// Addr is the address the listener is bound to.
func (l *SMTPServer) Addr() string { return l.ln.Addr().String() }

// Serve accepts mail until ctx is done, then closes the listener and waits
// for sessions in progress (their messages are committed or refused).
func (l *SMTPServer) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- l.srv.Serve(l.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := l.srv.Shutdown(shut); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			return err
		}
		return nil
	}
}

type backend struct {
	in  *Service
	cfg SMTPConfig
	log *slog.Logger
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, remote: c.Conn().RemoteAddr().String()}, nil
}

type session struct {
	b      *backend
	remote string
	from   string
	rcpts  int
}

func (s *session) Reset()        { s.from, s.rcpts = "", 0 }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.b.accepts(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	}
	s.rcpts++
	return nil
}

func (b *backend) accepts(to string) bool {
	if len(b.cfg.Recipients) == 0 {
		return true
	}
	to = strings.ToLower(strings.TrimSpace(to))
	for _, r := range b.cfg.Recipients {
		r = strings.ToLower(r)
		if to == r || (strings.HasPrefix(r, "@") && strings.HasSuffix(to, r)) {
			return true
		}
	}
	return false
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		if errors.Is(err, smtp.ErrDataTooLarge) {
			return smtp.ErrDataTooLarge
		}
		return err
	}
	res, err := s.b.in.Ingest(context.Background(), raw, Source{Channel: "smtp", EnvelopeFrom: s.from})
	if errors.Is(err, ErrTooLarge) {
		return smtp.ErrDataTooLarge
	}
	if err != nil {
		s.b.log.Error("smtp ingest", "err", err, "remote", s.remote)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Could not store the message; try again later"}
	}
	s.b.log.Info("smtp ingest", "mail", res.Mail.ID, "status", res.Mail.Status, "receipts", len(res.Receipts), "duplicate", res.Duplicate, "remote", s.remote)
	return nil
}
