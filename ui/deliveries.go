package ui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/notify"
)

type deliveriesPage struct {
	Directives []notify.DirectiveView
	State      string
	CanReplay  bool
	Flash      string
}

// deliveries shows every directive and where its deliveries stand.
func (s *Server) deliveries(c echo.Context) error {
	state := c.QueryParam("state")
	switch state {
	case "", "pending", "delivered", "dead", "superseded":
	default:
		return errs.E(errs.Invalid, "Filter by pending, delivered or dead.")
	}
	ds, err := notify.Recent(c.Request().Context(), s.db, state, 200)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "deliveries", view{Title: "Deliveries", Data: deliveriesPage{
		Directives: ds, State: state, CanReplay: s.can(c, "/deliveries/:id/replay", http.MethodPost), Flash: s.popFlash(c),
	}})
}

// deliveryReplay puts a dead-lettered delivery back on the queue.
func (s *Server) deliveryReplay(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || s.replay == nil {
		return errs.E(errs.NotFound, "There is no such delivery.")
	}
	if err := s.replay(c.Request().Context(), id); err != nil {
		s.flash(c, "Not replayed: "+err.Error())
	} else {
		s.flash(c, "Delivery "+c.Param("id")+" is queued again.")
	}
	return c.Redirect(http.StatusSeeOther, "/deliveries?state=dead")
}
