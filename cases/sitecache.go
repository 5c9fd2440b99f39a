package cases

// Sites are only ever added (AddCustomer, Import), never changed or removed,
// so the site serving a host can be remembered: the lookup was about a sixth
// of the CPU of filing a flagger's report (issue 7). Only hosts found are
// remembered; a host not served is asked again every time, so a site added by
// another instance serves its reports at once. What a remembered answer can
// miss is a more specific site added since (a.example.com after example.com):
// this process forgets everything when it adds a site, another one within
// siteCacheFor.

import (
	"context"
	"sync"
	"time"
)

// siteCacheFor is how long a host's site is remembered.
const siteCacheFor = 2 * time.Second

// siteCacheMax bounds the hosts remembered; when full, all are forgotten.
const siteCacheMax = 10000

type siteCache struct {
	mu    sync.Mutex
	gen   uint64 // bumped by reset, so a lookup racing with it is not stored
	hosts map[string]cachedSite
}

type cachedSite struct {
	site Site
	at   time.Time
}

func (c *siteCache) get(host string) (Site, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.hosts[host]
	if ok && time.Since(e.at) >= siteCacheFor {
		delete(c.hosts, host)
		ok = false
	}
	return e.site, c.gen, ok
}

func (c *siteCache) put(host string, site Site, gen uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.hosts == nil || len(c.hosts) >= siteCacheMax {
		c.hosts = map[string]cachedSite{}
	}
	c.hosts[host] = cachedSite{site: site, at: at}
}

// reset forgets every host, after sites were added.
func (c *siteCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.hosts = nil
}

// siteFor is findSite on the read pool, remembered for siteCacheFor.
func (s *Service) siteFor(ctx context.Context, host string) (*Site, error) {
	site, gen, ok := s.sites.get(host)
	if ok {
		return &site, nil
	}
	// The time of the read, not of its answer: an answer is never used
	// longer than siteCacheFor after the database gave it.
	at := time.Now()
	found, err := findSite(s.db.R.WithContext(ctx), host)
	if err != nil || found == nil {
		return found, err
	}
	s.sites.put(host, *found, gen, at)
	return found, nil
}
