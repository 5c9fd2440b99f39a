package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/errs"
)

// Rule is one row of casbin_rule as admins see it: a permission (p: role may
// act on object) or an inheritance (g: role includes role).
type Rule struct {
	ID     int64
	Kind   string // p or g
	Role   string
	Object string // p: route pattern or object; g: the inherited role
	Action string // p only
}

// groups are the role names that exist besides the grantable roles.
var groups = []string{"staff", Anonymous}

// Rules lists permissions and inheritances (not user grants), for the admin page.
func Rules(tx *gorm.DB) ([]Rule, error) {
	var rows []rule
	err := tx.Where("(ptype = 'p') OR (ptype = 'g' AND v0 NOT LIKE 'user:%' AND v0 NOT LIKE 'apikey:%')").Order("ptype DESC, v0, v1, v2").Find(&rows).Error
	out := make([]Rule, 0, len(rows))
	for _, r := range rows {
		out = append(out, Rule{ID: r.ID, Kind: r.Ptype, Role: r.V0, Object: r.V1, Action: r.V2})
	}
	return out, err
}

// protected are the permissions that keep the policy editable: removing them
// would lock every admin out of this page.
var protected = []Rule{
	{Kind: "p", Role: Admin, Object: "/admin/policy", Action: "GET"},
	{Kind: "p", Role: Admin, Object: "/admin/policy", Action: "POST"},
	{Kind: "p", Role: Admin, Object: "/admin/policy/delete", Action: "POST"},
	{Kind: "p", Role: Admin, Object: "/admin/users", Action: "GET"},
	{Kind: "p", Role: Admin, Object: "/admin/users/:id/roles", Action: "POST"},
	{Kind: "g", Role: Admin, Object: "staff"},
}

func (r Rule) key() string { return r.Kind + "|" + r.Role + "|" + r.Object + "|" + r.Action }

// AddRule adds a permission or inheritance inside tx, audited. Call
// Enforcer.Reload after tx commits.
func AddRule(tx *gorm.DB, at time.Time, actor string, r Rule) error {
	r.Role, r.Object, r.Action = strings.TrimSpace(r.Role), strings.TrimSpace(r.Object), strings.TrimSpace(r.Action)
	f := map[string]string{}
	known := append(slices.Clone(Roles), groups...)
	if !slices.Contains(known, r.Role) {
		f["role"] = "Choose one of " + strings.Join(known, ", ") + "."
	}
	switch r.Kind {
	case "p":
		if r.Object == "" || len(r.Object) > 100 || strings.ContainsAny(r.Object, " \t\r\n") {
			f["object"] = "Enter a route pattern (e.g. /cases/:id) or an object (e.g. queue/restricted), without spaces."
		}
		if !slices.Contains([]string{"GET", "POST", "read", "decide", "give", "*"}, r.Action) {
			f["action"] = "Choose GET, POST, read, decide, give or *."
		}
	case "g":
		if !slices.Contains(known, r.Object) || r.Object == r.Role {
			f["object"] = "Choose another role for the role to include."
		}
		r.Action = ""
	default:
		f["kind"] = "Choose a permission or an inheritance."
	}
	if err := errs.Fields(f); err != nil {
		return err
	}
	row := rule{Ptype: r.Kind, V0: r.Role, V1: r.Object, V2: r.Action}
	var n int64
	if err := tx.Model(&rule{}).Where("ptype = ? AND v0 = ? AND v1 = ? AND v2 = ?", row.Ptype, row.V0, row.V1, row.V2).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return errs.E(errs.Conflict, "That rule exists already.")
	}
	if err := tx.Create(&row).Error; err != nil {
		return err
	}
	r.ID = row.ID
	return audit.Record(tx, at, actor, "policy.rule_added", "policy_rule", strconv.FormatInt(row.ID, 10), map[string]any{"before": nil, "after": r})
}

// DeleteRule removes a permission or inheritance inside tx, audited, unless it
// is one that keeps the policy editable.
func DeleteRule(tx *gorm.DB, at time.Time, actor string, id int64) error {
	var row rule
	if err := tx.Where("id = ? AND NOT (ptype = 'g' AND v0 LIKE 'user:%')", id).Take(&row).Error; err != nil {
		return errs.E(errs.NotFound, "There is no such rule.")
	}
	r := Rule{ID: row.ID, Kind: row.Ptype, Role: row.V0, Object: row.V1, Action: row.V2}
	for _, p := range protected {
		if p.key() == r.key() {
			return errs.E(errs.Conflict, "This rule keeps the policy editable by admins; it cannot be removed here.")
		}
	}
	if err := tx.Delete(&rule{}, id).Error; err != nil {
		return err
	}
	return audit.Record(tx, at, actor, "policy.rule_removed", "policy_rule", strconv.FormatInt(id, 10), map[string]any{"before": r, "after": nil})
}

// Describe renders a rule for people.
func (r Rule) Describe() string {
	if r.Kind == "g" {
		return fmt.Sprintf("%s includes %s", r.Role, r.Object)
	}
	return fmt.Sprintf("%s may %s %s", r.Role, r.Action, r.Object)
}
