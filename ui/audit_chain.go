package ui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/errs"
)

// The audit chain page (/audit/chain): for auditors and admins, read-only. It
// shows the chain's head, the last signed checkpoint and the last verification;
// walking the whole chain is a button (POST), not a page view, because on a
// large log it reads every row. The export is the JSON lines of `docket audit
// export`, for storing outside Docket's database.
func (s *Server) routesChain() {
	if s.chain == nil {
		s.chain = audit.NewChain(s.db, audit.Options{Now: s.now})
	}
	e := s.echo
	e.GET("/audit/chain", s.auditChain)
	e.POST("/audit/chain/verify", s.auditChainVerify)
	e.GET("/audit/chain/export.jsonl", s.auditChainExport)
}

type auditChainPage struct {
	Status    *audit.Status
	Flash     string
	FlashOK   bool
	CanVerify bool
	Intact    bool // every row is in the chain or waiting for its seal, as far as counting tells
}

func (s *Server) auditChain(c echo.Context) error {
	st, err := s.chain.Status(c.Request().Context())
	if err != nil {
		return err
	}
	flash := s.popFlash(c)
	return s.render(c, http.StatusOK, "audit_chain", view{Title: "Audit chain", Data: auditChainPage{
		Status: st, Flash: flash, FlashOK: strings.HasPrefix(flash, "audit chain intact"), CanVerify: s.can(c, "/audit/chain/verify", http.MethodPost),
		Intact: st.HeadSeq+st.Pending == st.Events,
	}})
}

// auditChainVerify walks the whole chain now and keeps the result.
func (s *Server) auditChainVerify(c echo.Context) error {
	unlimited(c)
	rep, err := s.chain.VerifyAndStore(c.Request().Context(), subject(c))
	if err != nil {
		return err
	}
	s.flash(c, rep.Summary())
	return c.Redirect(http.StatusSeeOther, "/audit/chain")
}

// auditChainExport streams the export. Taking a copy of the whole log is
// itself audited (who, from which seq, up to which head).
func (s *Server) auditChainExport(c echo.Context) error {
	var since int64
	if v := c.QueryParam("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return errs.E(errs.Invalid, "since is a seq: a whole number, 0 or more.")
		}
		since = n
	}
	ctx := c.Request().Context()
	st, err := s.chain.Status(ctx)
	if err != nil {
		return err
	}
	err = s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return audit.Record(tx, s.now(), subject(c), "audit.exported", "audit_chain", audit.Log, map[string]int64{"since": since, "head_seq": st.HeadSeq})
	})
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/jsonl; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="docket-audit-`+s.now().UTC().Format("20060102T150405Z")+`.jsonl"`)
	h.Set("Cache-Control", "no-store")
	unlimited(c)
	c.Response().WriteHeader(http.StatusOK)
	if _, err := s.chain.Export(ctx, c.Response(), since); err != nil {
		// The status is sent; the missing end line tells a verifier the file is cut off.
		s.log.ErrorContext(ctx, "audit export", "err", err)
	}
	return nil
}

// unlimited lifts the server's write timeout (60 s) for this response: a walk
// of a log of many millions of events takes longer, and the auditor asked for it.
func unlimited(c echo.Context) {
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Time{})
}

func init() {
	actionLabels["audit.exported"] = "Audit log exported"
}
