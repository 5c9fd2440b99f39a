// Package policy decides who may do what. The casbin model is embedded here; the
// policy rows (role grants and role → route permissions) live in the database, in
// casbin_rule, so admins can change them without a release. One echo middleware asks
// the Enforcer about every request; handlers never check roles themselves.
package policy

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	gormadapter "github.com/casbin/gorm-adapter/v3"
	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
)

//go:embed model.conf
var modelText string

// Role names. Staff roles can be granted to users; Anonymous is the subject of
// every request without a signed-in user.
const (
	Reviewer       = "reviewer"
	SeniorReviewer = "senior_reviewer"
	Legal          = "legal"
	Leadership     = "leadership"
	Admin          = "admin"
	Auditor        = "auditor"
	Anonymous      = "anonymous"
)

// Roles lists the roles a user can be granted, in the order the UI shows them.
var Roles = []string{Reviewer, SeniorReviewer, Legal, Leadership, Admin, Auditor}

// ValidRole reports whether r can be granted to a user.
func ValidRole(r string) bool { return slices.Contains(Roles, r) }

// Subject is the casbin subject for a user id.
func Subject(userID int64) string { return "user:" + strconv.FormatInt(userID, 10) }

// Enforcer wraps a synced casbin enforcer backed by casbin_rule. The rules are
// cached in memory; version is the policy_version counter (migration 00025,
// bumped by a trigger on every casbin_rule change) the cache was loaded at,
// which Watch compares to notice changes made by other instances.
type Enforcer struct {
	e       *casbin.SyncedEnforcer
	db      *database.DB
	version atomic.Int64
	memo    memo // Allowed's answers for the rules loaded (memo.go)
}

// NewEnforcer loads the model and the policy rows from db.
func NewEnforcer(db *database.DB) (*Enforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("policy model: %w", err)
	}
	// The goose migrations own casbin_rule; TurnOffAutoMigrate mutates the handle
	// it is given, so give it a session of its own.
	g := db.W.Session(&gorm.Session{})
	gormadapter.TurnOffAutoMigrate(g)
	a, err := gormadapter.NewAdapterByDB(g)
	if err != nil {
		return nil, fmt.Errorf("policy adapter: %w", err)
	}
	en := &Enforcer{db: db}
	v, err := en.storedVersion(context.Background())
	if err != nil {
		return nil, fmt.Errorf("policy version: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m, a)
	if err != nil {
		return nil, fmt.Errorf("policy enforcer: %w", err)
	}
	en.e = e
	en.version.Store(v)
	return en, nil
}

// Allowed reports whether subject may perform act (an HTTP method) on obj (a route pattern).
func (en *Enforcer) Allowed(subject, obj, act string) (bool, error) {
	k := memoKey{subject, obj, act}
	allowed, ok, gen := en.memo.get(k)
	if ok {
		return allowed, nil
	}
	allowed, err := en.e.Enforce(subject, obj, act)
	if err == nil {
		en.memo.put(k, allowed, gen)
	}
	return allowed, err
}

// Reload re-reads the policy rows, after a change made through SetUserRoles or by
// another instance.
func (en *Enforcer) Reload() error {
	// The counter is read before the rules: a change committing in between
	// moves it past what is stored here, and the next check reloads again.
	v, err := en.storedVersion(context.Background())
	if err != nil {
		return err
	}
	// Forgotten before and after: an answer computed while the rules load
	// is not kept.
	en.memo.forget()
	defer en.memo.forget()
	if err := en.e.LoadPolicy(); err != nil {
		return err
	}
	en.version.Store(v)
	return nil
}

func (en *Enforcer) storedVersion(ctx context.Context) (int64, error) {
	var v int64
	err := en.db.R.WithContext(ctx).Table("policy_version").Select("version").Where("id = 1").Scan(&v).Error
	return v, err
}

// Watch keeps the cache in step with the database until ctx ends: every
// interval it reads policy_version and reloads the rules when it moved, so a
// role granted or a rule edited on one instance (or by `docket user add`)
// holds on every instance within one interval. A one-row read by primary key
// every few seconds costs nothing, needs no connection of its own, and cannot
// miss a change the way a notification sent while a listener reconnects can.
func (en *Enforcer) Watch(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := en.storedVersion(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("policy version check", "err", err)
			}
			continue
		}
		if v == en.version.Load() {
			continue
		}
		if err := en.Reload(); err != nil {
			log.Warn("policy reload", "err", err)
			continue
		}
		log.Debug("policy reloaded", "version", en.version.Load())
	}
}

// Version is the policy_version the cached rules were loaded at.
func (en *Enforcer) Version() int64 { return en.version.Load() }

// RolesOf returns the roles granted directly to a user.
func (en *Enforcer) RolesOf(userID int64) []string {
	roles, _ := en.e.GetRolesForUser(Subject(userID))
	slices.SortFunc(roles, func(a, b string) int { return slices.Index(Roles, a) - slices.Index(Roles, b) })
	return roles
}

// HasRole reports whether a user holds role, directly or through inheritance.
func (en *Enforcer) HasRole(userID int64, role string) bool {
	roles, _ := en.e.GetImplicitRolesForUser(Subject(userID))
	return slices.Contains(roles, role)
}

// rule mirrors casbin_rule for writes made inside our own transactions (the
// adapter cannot join them).
type rule struct {
	ID    int64
	Ptype string
	V0    string
	V1    string
	V2    string
	V3    string
	V4    string
	V5    string
}

func (rule) TableName() string { return "casbin_rule" }

// SetUserRoles replaces a user's role grants inside tx and audits the change with
// before and after, plus any extra details the caller knows (e.g. that an admin
// granted themselves a sign-off role while proposals were in flight). Call Reload
// after tx commits.
func SetUserRoles(tx *gorm.DB, at time.Time, actor string, userID int64, roles []string, extra ...map[string]any) error {
	for _, r := range roles {
		if !ValidRole(r) {
			return &errs.Error{Code: errs.Invalid, Message: fmt.Sprintf("%q is not a role; roles are %s.", r, strings.Join(Roles, ", ")), Fields: map[string]string{"roles": "unknown role " + r}}
		}
	}
	sub := Subject(userID)
	var before []rule
	if err := tx.Where("ptype = 'g' AND v0 = ?", sub).Find(&before).Error; err != nil {
		return err
	}
	if err := tx.Where("ptype = 'g' AND v0 = ?", sub).Delete(&rule{}).Error; err != nil {
		return err
	}
	after := slices.Compact(slices.Sorted(slices.Values(roles)))
	for _, r := range after {
		if err := tx.Create(&rule{Ptype: "g", V0: sub, V1: r}).Error; err != nil {
			return err
		}
	}
	prev := make([]string, 0, len(before))
	for _, b := range before {
		prev = append(prev, b.V1)
	}
	details := map[string]any{"before": prev, "after": after}
	for _, m := range extra {
		for k, v := range m {
			details[k] = v
		}
	}
	return audit.Record(tx, at, actor, "user.roles_set", "user", strconv.FormatInt(userID, 10), details)
}

// TrustedFlagger is the role of trusted flaggers' API keys. It is not a staff
// role (ValidRole is false, so no user can be granted it) and inherits nothing:
// a key may file reports and read its own, and nothing else.
const TrustedFlagger = "trusted_flagger"

// APIKeySubject is the casbin subject of an API key.
func APIKeySubject(keyID int64) string { return "apikey:" + strconv.FormatInt(keyID, 10) }

// GrantAPIKey gives an API key the trusted_flagger role inside tx (the
// transaction that issues the key). Call Reload after tx commits.
func GrantAPIKey(tx *gorm.DB, keyID int64) error {
	return tx.Create(&rule{Ptype: "g", V0: APIKeySubject(keyID), V1: TrustedFlagger}).Error
}

// RevokeAPIKey removes every grant of an API key inside tx. Call Reload after
// tx commits.
func RevokeAPIKey(tx *gorm.DB, keyID int64) error {
	return tx.Where("ptype = 'g' AND v0 = ?", APIKeySubject(keyID)).Delete(&rule{}).Error
}
