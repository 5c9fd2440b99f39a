package cases

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"gorm.io/gorm"

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
	if err != nil {
		return nil, nil, err
	}
	return &c, sites, nil
}
