// Package ui is Docket's web interface: server-rendered pages for the public (the
// report form and receipts) and for staff (queue, cases, admin). Handlers parse,
// call the domain packages and render; policy.Middleware has already decided
// whether the request is allowed before any handler runs.
package ui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/dockethq/docket/apikeys"
	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/evidence"
	"github.com/dockethq/docket/inbox"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/reqlog"
	"github.com/dockethq/docket/internal/signedlink"
	"github.com/dockethq/docket/policy"
	"github.com/dockethq/docket/pow"
	"github.com/dockethq/docket/reconcile"
	"github.com/dockethq/docket/users"
)

//go:embed static
var staticFS embed.FS

// Config is what the web layer needs to know about its deployment.
type Config struct {
	// SecureCookies marks session and CSRF cookies Secure; on whenever Docket is
	// served over HTTPS (the base URL says so).
	SecureCookies bool
	// SessionLifetime bounds a sign-in; SessionIdle signs out an idle user.
	SessionLifetime time.Duration
	SessionIdle     time.Duration
	// Replay re-queues a dead-lettered delivery (the notify package's).
	Replay func(ctx context.Context, deliveryID int64) error
	// Intake rate limits and where clients' addresses come from (ui/intake.go).
	Limits Limits
	// Inbox is email intake's unparsed-mail queue; nil builds one on the
	// server's own database and cases service.
	Inbox *inbox.Service
	// Evidence stores report form uploads; nil turns uploads off.
	Evidence *evidence.Store
	// PoWBits and PoWMinWait tune the report form's challenge (pow defaults
	// when zero): the work with JavaScript, the wait without.
	PoWBits    int
	PoWMinWait time.Duration
	// Metrics counts requests by route pattern and status (optional).
	Metrics HTTPObserver
	// Ready answers /readyz (optional; without it /readyz pings the database).
	Ready http.Handler
	// ShutdownGrace is how long Serve lets in-flight requests finish once its
	// context is cancelled; default 15s.
	ShutdownGrace time.Duration
	// Reconciler compares decisions with what the edges applied; nil hides it.
	Reconciler *reconcile.Reconciler
	// Links verifies signed links (customers' responses, appeals); nil loads
	// the database's key.
	Links *signedlink.Signer
	// AuditChain verifies and exports the audit log's hash chain; nil uses the
	// database's checkpoint key.
	AuditChain *audit.Chain
}

// Server is the HTTP side of Docket.
type Server struct {
	echo     *echo.Echo
	db       *database.DB
	cases    *cases.Service
	users    *users.Service
	enforcer *policy.Enforcer
	sessions *scs.SessionManager
	pages    *pages
	log      *slog.Logger
	now      func() time.Time
	replay   func(ctx context.Context, deliveryID int64) error
	keys     *apikeys.Service
	limits   Limits
	inbox    *inbox.Service
	evidence *evidence.Store
	pow      *pow.Issuer
	metrics  HTTPObserver
	ready    http.Handler
	grace    time.Duration

	reconciler *reconcile.Reconciler
	links      *signedlink.Signer

	transparency *transparencyCache
	chain        *audit.Chain
}

// New builds the server and registers every route.
func New(cfg Config, db *database.DB, cs *cases.Service, us *users.Service, en *policy.Enforcer, log *slog.Logger, now func() time.Time) (*Server, error) {
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	sm := scs.New()
	if db.Dialect == database.Postgres {
		sm.Store = postgresstore.New(db.SQL())
	} else {
		sm.Store = sqlite3store.New(db.SQL())
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 2 * time.Hour
	}
	sm.Lifetime = cfg.SessionLifetime
	sm.IdleTimeout = cfg.SessionIdle
	sm.Cookie.Name = "docket_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		log.Error("session store", "err", err)
		http.Error(w, "Docket could not load your session. Try again in a moment.", http.StatusInternalServerError)
	}

	log = slog.New(reqlog.Handler(log.Handler())) // request_id on every record logged with a request's context
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 15 * time.Second
	}
	s := &Server{replay: cfg.Replay, db: db, cases: cs, users: us, enforcer: en, sessions: sm, pages: pg, log: log, now: now, keys: apikeys.NewService(db, en, now), limits: cfg.Limits, grace: cfg.ShutdownGrace, metrics: cfg.Metrics, ready: cfg.Ready}
	s.inbox = cfg.Inbox
	if s.inbox == nil {
		s.inbox = inbox.NewService(db, cs, now)
	}
	s.evidence = cfg.Evidence
	s.pow = pow.New(db, now)
	if cfg.PoWBits > 0 {
		s.pow.Bits = cfg.PoWBits
	}
	if cfg.PoWMinWait > 0 {
		s.pow.MinWait = cfg.PoWMinWait
	}
	s.reconciler = cfg.Reconciler
	s.links = cfg.Links
	s.chain = cfg.AuditChain
	if s.links == nil {
		if s.links, err = signedlink.Load(context.Background(), db, now); err != nil {
			return nil, fmt.Errorf("signed links: %w", err)
		}
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = cfg.Limits.ipExtractor()
	s.echo = e

	e.Use(dropBadRequestID) // ops.go
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(middleware.Recover())
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
		HSTSMaxAge:            31536000,
	}))
	// Forms carry at most a 10,000-character description; 2 MB leaves room for
	// that in any encoding while refusing floods before they are parsed.
	// The report form alone takes evidence files: it gets its own, larger limit.
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "2M", Skipper: isReportPost}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: reportBodyLimit, Skipper: func(c echo.Context) bool { return !isReportPost(c) }}))
	e.Use(echo.WrapMiddleware(sm.LoadAndSave))
	e.Use(s.loadUser)
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		CookieName:     "docket_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   cfg.SecureCookies,
		CookieSameSite: http.SameSiteLaxMode,
		// A request authenticated by an API key carries no cookies a browser
		// could send on its own: CSRF cannot apply. Only a key that loadUser
		// accepted counts; a mere Authorization header does not.
		Skipper: func(c echo.Context) bool { return currentKey(c) != nil },
		ErrorHandler: func(err error, c echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from Docket. Reload the page and try again.")
		},
	}))
	e.Use(en.Middleware(subject, s.deny))
	e.Use(s.rateLimit)

	s.routes()
	return s, nil
}

// routes registers every route. Each needs a row in policy (the default set is
// in migrations 00002) and in ui/authz_matrix_test.go.
func (s *Server) routes() {
	e := s.echo
	static, _ := fs.Sub(staticFS, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static)))))
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/", s.home)
	e.GET("/report", s.reportForm)
	e.POST("/report", s.reportSubmit)
	e.GET("/report/receipt/:id", s.receipt)
	e.GET("/login", s.loginForm)
	e.POST("/login", s.loginSubmit)
	e.POST("/logout", s.logout)
	e.GET("/queue", s.queue)
	e.GET("/search", s.search)
	e.GET("/customers/:id", s.customerView)
	e.GET("/cases/:id", s.caseView)
	e.GET("/cases/:id/status", s.caseStatus)
	e.POST("/cases/:id/claim", s.caseClaim)
	e.POST("/cases/:id/release", s.caseRelease)
	e.POST("/cases/:id/reassign", s.caseReassign)
	e.POST("/cases/:id/notes", s.caseNote)
	e.POST("/cases/:id/escalate", s.caseEscalate)
	e.POST("/cases/:id/decide", s.caseDecide)
	e.POST("/cases/:id/close", s.caseClose)
	e.POST("/cases/:id/merge", s.caseMerge)
	e.POST("/cases/:id/split", s.caseSplit)
	e.POST("/cases/:id/reverse", s.caseReverse)
	e.POST("/cases/bulk-close", s.casesBulkClose)
	e.GET("/signoffs", s.signoffs)
	e.GET("/signoffs/:id", s.signoffBrief)
	e.POST("/signoffs/:id/approve", s.signoffVerdict("approve"))
	e.POST("/signoffs/:id/reject", s.signoffVerdict("reject"))
	e.GET("/deliveries", s.deliveries)
	e.POST("/deliveries/:id/replay", s.deliveryReplay)
	e.GET("/outbox", s.outbox)
	e.GET("/outbox/:id", s.outboxNotice)
	e.GET("/admin/users", s.adminUsers)
	e.POST("/admin/users", s.adminUsersCreate)
	e.POST("/admin/users/:id/roles", s.adminUserRoles)
	e.GET("/admin/policy", s.adminPolicy)
	e.POST("/admin/policy", s.adminPolicyAdd)
	e.POST("/admin/policy/delete", s.adminPolicyDelete)
	e.GET("/admin/queues", s.adminQueues)
	e.POST("/admin/queues", s.adminQueuesCreate)
	e.POST("/admin/queues/:id/delete", s.adminQueuesDelete)

	api := e.Group("/api/v1")
	api.GET("/queues", s.apiQueues)
	api.GET("/cases", s.apiCases)
	api.GET("/cases/:id", s.apiCase)
	api.POST("/cases/:id/claim", s.apiClaim)
	api.POST("/cases/:id/release", s.apiRelease)
	api.POST("/cases/:id/notes", s.apiNote)
	api.POST("/cases/:id/decide", s.apiDecide)
	api.POST("/reports", s.apiFileReports)
	api.GET("/reports/:id", s.apiReportStatus)

	e.GET("/admin/flaggers", s.adminFlaggers)
	e.POST("/admin/flaggers", s.adminFlaggersPost)
	e.POST("/admin/flaggers/keys/:id/revoke", s.adminFlaggerKeyRevoke)
	s.routesIntake()
	s.routesMail()
	s.routesForm()
	s.routesOps()
	s.routesEdge()
	s.routesForward()
	s.routesAppeals()
	s.routesAuditor()
	s.routesTransparency()
	s.routesStatements()
	s.routesChain()
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo exposes the router, for tests that walk its routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Serve listens on addr until ctx is cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, addr string, ready func(addr string)) error {
	srv := &http.Server{Addr: addr, Handler: s.echo, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		// Stop accepting, let in-flight requests finish within the grace; what
		// is still running then is cut off (its client sees the connection close
		// and never a 2xx for work that did not commit).
		shut, cancel := context.WithTimeout(context.Background(), s.grace)
		defer cancel()
		if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = srv.Close()
			return fmt.Errorf("requests still running after the shutdown grace of %s: %w", s.grace, err)
		}
		return nil
	}
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		// The request id follows the request into its log lines and into the
		// jobs it enqueues (reqlog).
		req := c.Request()
		c.SetRequest(req.WithContext(reqlog.WithRequestID(req.Context(), c.Response().Header().Get(echo.HeaderXRequestID))))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		lvl := slog.LevelInfo
		if status >= 500 {
			lvl = slog.LevelError
		} else if probe(c.Path()) && status < 400 {
			lvl = slog.LevelDebug // a load balancer asks every second
		}
		took := time.Since(start)
		if s.metrics != nil {
			s.metrics.ObserveHTTP(c.Path(), req.Method, status, took)
		}
		// The route pattern, never the path or query: receipts and tokens stay out of logs.
		s.log.Log(c.Request().Context(), lvl, "http",
			"method", req.Method, "route", c.Path(), "status", status, "ms", took.Milliseconds())
		return nil
	}
}

// userKey is where loadUser leaves the signed-in user on the echo context.
const userKey = "docket.user"

// keyKey is where loadUser leaves the API key that authenticated the request.
const keyKey = "docket.apikey"

// loadUser resolves the request's principal. An Authorization: Bearer header
// names an API key: a valid key is the principal (the session is ignored), any
// other value is refused with 401. Without one, the session's user; a missing or
// disabled user is anonymous.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
			scheme, token, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				return echo.NewHTTPError(http.StatusUnauthorized, "Send an API key as Authorization: Bearer dkt_….")
			}
			k, err := s.keys.Authenticate(ctx, strings.TrimSpace(token))
			if errors.Is(err, apikeys.ErrInvalidKey) {
				return echo.NewHTTPError(http.StatusUnauthorized, "The API key is not valid (unknown or revoked).")
			}
			if err != nil {
				return err
			}
			c.Set(keyKey, k)
			return next(c)
		}
		if id := s.sessions.GetInt64(ctx, "user_id"); id != 0 {
			u, err := s.users.Get(ctx, id)
			switch {
			case err == nil && !u.Disabled:
				c.Set(userKey, u)
			case err == nil || errors.Is(err, users.ErrNotFound):
				_ = s.sessions.Destroy(ctx)
			default:
				return err
			}
		}
		return next(c)
	}
}

func currentUser(c echo.Context) *users.User {
	u, _ := c.Get(userKey).(*users.User)
	return u
}

// currentKey is the API key that authenticated the request, if one did.
func currentKey(c echo.Context) *apikeys.Key {
	k, _ := c.Get(keyKey).(*apikeys.Key)
	return k
}

func subject(c echo.Context) string {
	if k := currentKey(c); k != nil {
		return policy.APIKeySubject(k.ID)
	}
	if u := currentUser(c); u != nil {
		return policy.Subject(u.ID)
	}
	return policy.Anonymous
}

// deny answers a request the policy refused: anonymous visitors are sent to sign
// in; signed-in users get a plain 403. An API key gets 403 everywhere (JSON under
// /api/, plain on pages): it is authenticated, so signing in would not help.
func (s *Server) deny(c echo.Context, sub string) error {
	if currentKey(c) != nil {
		if isAPI(c) {
			return echo.NewHTTPError(http.StatusForbidden, "This API key may not do this.")
		}
		return c.String(http.StatusForbidden, "This API key may not use this page.\n")
	}
	if isAPI(c) {
		if sub == policy.Anonymous {
			return echo.NewHTTPError(http.StatusUnauthorized, "Sign in first.")
		}
		return echo.NewHTTPError(http.StatusForbidden, "You may not do this.")
	}
	if sub == policy.Anonymous {
		next := ""
		if c.Request().Method == http.MethodGet {
			next = "?next=" + urlQueryEscape(c.Request().URL.RequestURI())
		}
		return c.Redirect(http.StatusSeeOther, "/login"+next)
	}
	return echo.NewHTTPError(http.StatusForbidden, "You do not have access to this page.")
}

// readableQueues returns the queues the viewer may read, by asking the policy.
func (s *Server) readableQueues(c echo.Context) []string {
	var qs []string
	for _, q := range cases.Queues {
		if s.can(c, "queue/"+q, "read") {
			qs = append(qs, q)
		}
	}
	return qs
}

// can asks the policy whether the current subject may act on obj: a route
// pattern with a method (to decide which buttons to show) or a non-route object.
func (s *Server) can(c echo.Context, obj, act string) bool {
	ok, err := s.enforcer.Allowed(subject(c), obj, act)
	return err == nil && ok
}

// actor is the signed-in user as the cases package sees them.
func (s *Server) actor(c echo.Context) cases.Actor {
	u := currentUser(c)
	if u == nil {
		return cases.Actor{}
	}
	return cases.Actor{UserID: u.ID, Can: func(obj, act string) bool { return s.can(c, obj, act) }}
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

func parseID(c echo.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	return id, err == nil && id > 0
}
