package cases

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/intake"
	"github.com/dockethq/docket/internal/errs"
)

// AddCustomer creates a customer account with its sites, in one transaction.
func (s *Service) AddCustomer(ctx context.Context, actor string, c Customer, hostnames ...string) (*Customer, []Site, error) {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return nil, nil, errs.E(errs.Invalid, "A customer needs a name.")
	}
	if c.Plan == "" {
		c.Plan = "free"
	}
	if c.Status == "" {
		c.Status = "active"
	}
	now := s.now().UTC()
	c.CreatedAt = now
	sites := make([]Site, 0, len(hostnames))
	for _, h := range hostnames {
		host, err := intake.NormalizeHost(h)
		if err != nil {
			return nil, nil, errs.E(errs.Invalid, "Site %q: %v", h, err)
		}
		t, _ := intake.NormalizeURL("http://" + host)
		sites = append(sites, Site{Hostname: host, RegistrableDomain: t.RegistrableDomain, CreatedAt: now})
	}
	err := s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		if err := audit.Record(tx, now, actor, "customer.created", "customer", strconv.FormatInt(c.ID, 10), map[string]any{"name": c.Name, "plan": c.Plan}); err != nil {
			return err
		}
		for i := range sites {
			sites[i].CustomerID = c.ID
			if err := tx.Create(&sites[i]).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return errs.E(errs.Conflict, "Site %s already belongs to a customer.", sites[i].Hostname)
				}
				return err
			}
			if err := audit.Record(tx, now, actor, "site.created", "site", strconv.FormatInt(sites[i].ID, 10), map[string]any{"hostname": sites[i].Hostname, "customer": c.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	s.sites.reset()
	if err != nil {
		return nil, nil, err
	}
	return &c, sites, nil
}

// CustomerDecision is one decision in a customer's history, with its case.
type CustomerDecision struct {
	Decision
	Hostname string
	Category Category
	Queue    string
}

// CustomerRecord is the repeat-offender picture of one customer: the account,
// its sites, counts over its cases and its decisions, newest first. Cases and
// decisions are limited to the queues the viewer may read, so a restricted case
// shows up nowhere, not even in a count.
type CustomerRecord struct {
	Customer     Customer
	Sites        []Site
	OpenCases    int64 // cases still needing work
	Decided      int64 // cases with a final decision
	ActionsTaken int64 // final warn, restrict or terminate decisions
	Decisions    []CustomerDecision
	MoreDecided  bool // Decisions was cut at MaxCustomerDecisions
}

// MaxCustomerDecisions bounds the decision history shown on the customer page.
const MaxCustomerDecisions = 200

// ErrCustomerNotFound is returned for an unknown customer.
var ErrCustomerNotFound = errs.E(errs.NotFound, "There is no such customer.")

// CustomerRecord returns the customer's account, sites, counts and decisions, the
// counts and decisions over cases in queues only.
func (s *Service) CustomerRecord(ctx context.Context, id int64, queues []string) (*CustomerRecord, error) {
	db := s.db.R.WithContext(ctx)
	var r CustomerRecord
	if err := db.Take(&r.Customer, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrCustomerNotFound
		}
		return nil, err
	}
	if err := db.Where("customer_id = ?", id).Order("hostname").Find(&r.Sites).Error; err != nil {
		return nil, err
	}
	if len(queues) == 0 {
		return &r, nil
	}
	err := db.Table("cases").Where("customer_id = ? AND queue IN ? AND state IN "+openStatesSQL, id, queues).Count(&r.OpenCases).Error
	if err != nil {
		return nil, err
	}
	err = db.Table("cases").Where("customer_id = ? AND queue IN ?", id, queues).
		Where("EXISTS (SELECT 1 FROM decisions WHERE decisions.case_id = cases.id AND decisions.status = 'final')").
		Count(&r.Decided).Error
	if err != nil {
		return nil, err
	}
	err = db.Table("decisions").Joins("JOIN cases ON cases.id = decisions.case_id").
		Where("cases.customer_id = ? AND cases.queue IN ? AND decisions.status = 'final' AND decisions.action IN ?", id, queues, []DecisionAction{Warn, Restrict, Terminate}).
		Count(&r.ActionsTaken).Error
	if err != nil {
		return nil, err
	}
	err = db.Table("decisions").
		Select("decisions.*, cases.hostname, cases.category, cases.queue").
		Joins("JOIN cases ON cases.id = decisions.case_id").
		Where("cases.customer_id = ? AND cases.queue IN ?", id, queues).
		Order("decisions.created_at DESC, decisions.id DESC").
		Limit(MaxCustomerDecisions + 1).
		Scan(&r.Decisions).Error
	if err != nil {
		return nil, err
	}
	if len(r.Decisions) > MaxCustomerDecisions {
		r.Decisions, r.MoreDecided = r.Decisions[:MaxCustomerDecisions], true
	}
	return &r, nil
}

// FindCustomers returns up to limit customers whose name contains name, ignoring
// case; an exact match (ignoring case) comes first.
func (s *Service) FindCustomers(ctx context.Context, name string, limit int) ([]Customer, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return nil, nil
	}
	var out []Customer
	err := s.db.R.WithContext(ctx).
		Where("LOWER(name) LIKE ? ESCAPE '\\'", "%"+escapeLike(name)+"%").
		Order(clause.OrderBy{Expression: clause.Expr{SQL: "CASE WHEN LOWER(name) = ? THEN 0 ELSE 1 END, name, id", Vars: []any{name}, WithoutParentheses: true}}).
		Limit(limit).Find(&out).Error
	return out, err
}
