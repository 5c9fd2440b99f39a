package cases

// Importing customers and their hostnames from billing (`docket import sites`).

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/intake"
)

// ImportRow is one customer as billing lists it. Line is where it was in the
// file, for error messages.
type ImportRow struct {
	Line         int      `json:"-"`
	ExternalID   string   `json:"external_id"`
	Name         string   `json:"name"`
	Plan         string   `json:"plan"`
	ContactEmail string   `json:"contact_email"`
	Hostnames    []string `json:"hostnames"`
}

// ImportError is a row that was not imported, and why.
type ImportError struct {
	Line    int
	Message string
}

func (e ImportError) String() string { return strconv.Itoa(e.Line) + ": " + e.Message }

// ImportResult counts what an import did (or, dry, would do).
type ImportResult struct {
	CustomersCreated, CustomersUpdated, CustomersUnchanged, SitesAdded int
	Errors                                                             []ImportError
}

// maxImportFile bounds an import file; a billing export of a million sites fits.
const maxImportFile = 256 << 20

// ParseImportCSV reads rows from CSV with a header naming the columns
// external_id, name, plan, contact_email, hostnames (any order; plan,
// contact_email and hostnames optional). Hostnames are separated by spaces,
// commas inside quotes, or semicolons.
func ParseImportCSV(r io.Reader) ([]ImportRow, error) {
	cr := csv.NewReader(io.LimitReader(r, maxImportFile))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty; the first line must be a header such as external_id,name,plan,contact_email,hostnames")
	}
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "external_id", "name", "plan", "contact_email", "hostnames":
			if _, dup := col[h]; dup {
				return nil, fmt.Errorf("line 1: the column %s appears twice", h)
			}
			col[h] = i
		default:
			return nil, fmt.Errorf("line 1: unknown column %q (the columns are external_id, name, plan, contact_email, hostnames)", h)
		}
	}
	for _, need := range []string{"external_id", "name"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("line 1: the header has no %s column", need)
		}
	}
	var rows []ImportRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err // csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		row := ImportRow{Line: line, ExternalID: get("external_id"), Name: get("name"), Plan: get("plan"), ContactEmail: get("contact_email")}
		row.Hostnames = strings.FieldsFunc(get("hostnames"), func(r rune) bool { return r == ';' || r == ',' || unicode.IsSpace(r) })
		rows = append(rows, row)
	}
}

// ParseImportJSON reads rows from a JSON array of objects with the fields of
// ImportRow; unknown fields are an error naming their line.
func ParseImportJSON(r io.Reader) ([]ImportRow, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImportFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxImportFile {
		return nil, fmt.Errorf("the file is larger than %d MB", maxImportFile>>20)
	}
	lineAt := func(off int64) int { return bytes.Count(data[:min(int(off), len(data))], []byte("\n")) + 1 }
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("line %d: the file must be a JSON array of customers, [{\"external_id\": …}, …]", lineAt(dec.InputOffset()))
	}
	var rows []ImportRow
	for dec.More() {
		// The offset before an element is the end of the previous one; the
		// element starts at the next non-space byte.
		off := dec.InputOffset()
		for off < int64(len(data)) && (data[off] == ',' || unicode.IsSpace(rune(data[off]))) {
			off++
		}
		var row ImportRow
		if err := dec.Decode(&row); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("line %d: not valid JSON: %v", lineAt(se.Offset), err)
			}
			return nil, fmt.Errorf("line %d: %v", lineAt(off), strings.TrimPrefix(err.Error(), "json: "))
		}
		row.Line = lineAt(off)
		rows = append(rows, row)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("line %d: the array is not closed: %v", lineAt(dec.InputOffset()), err)
	}
	return rows, nil
}

var planRe = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

// check validates and normalizes a row, hostnames included.
func (r *ImportRow) check() ([]Site, error) {
	r.ExternalID, r.Name = strings.TrimSpace(r.ExternalID), strings.TrimSpace(r.Name)
	r.Plan = strings.ToLower(strings.TrimSpace(r.Plan))
	r.ContactEmail = strings.ToLower(strings.TrimSpace(r.ContactEmail))
	bad := func(s string, n int) bool {
		return !utf8.ValidString(s) || utf8.RuneCountInString(s) > n || strings.IndexFunc(s, unicode.IsControl) >= 0
	}
	switch {
	case r.ExternalID == "":
		return nil, errors.New("external_id is empty")
	case bad(r.ExternalID, 200):
		return nil, errors.New("external_id must be one line of up to 200 characters")
	case r.Name == "":
		return nil, errors.New("name is empty")
	case bad(r.Name, MaxName):
		return nil, fmt.Errorf("name must be one line of up to %d characters", MaxName)
	}
	if r.Plan == "" {
		r.Plan = "free"
	} else if !planRe.MatchString(r.Plan) {
		return nil, fmt.Errorf("plan %q: use a short name such as free, pro, business, enterprise", r.Plan)
	}
	if r.ContactEmail != "" {
		if a, err := mail.ParseAddress(r.ContactEmail); err != nil || a.Address != r.ContactEmail {
			return nil, fmt.Errorf("contact_email %q is not an address like abuse@example.com", r.ContactEmail)
		}
	}
	seen := map[string]bool{}
	var sites []Site
	for _, h := range r.Hostnames {
		host, err := intake.NormalizeHost(h)
		if err != nil {
			return nil, fmt.Errorf("hostname %q: %v", h, err)
		}
		if seen[host] {
			continue
		}
		seen[host] = true
		t, _ := intake.NormalizeURL("http://" + host)
		sites = append(sites, Site{Hostname: host, RegistrableDomain: t.RegistrableDomain})
	}
	return sites, nil
}

// errDryRun rolls a dry run back.
var errDryRun = errors.New("dry run")

// Import upserts customers by external id and adds their hostnames, each row in
// its own transaction (a bad row is reported and skipped; the others go in).
// Hostnames missing from a row are left alone: removing a site is a decision,
// not a sync. A hostname that belongs to another customer is an error on its
// row. With dryRun everything runs inside one transaction that is rolled back,
// so the counts and errors are exactly what a real run would give.
func (s *Service) Import(ctx context.Context, actor string, rows []ImportRow, dryRun bool) (ImportResult, error) {
	var res ImportResult
	run := func(db *gorm.DB) error {
		for i := range rows {
			r := &rows[i]
			sites, err := r.check()
			if err != nil {
				res.Errors = append(res.Errors, ImportError{r.Line, err.Error()})
				continue
			}
			var row ImportResult
			err = db.Transaction(func(tx *gorm.DB) error {
				row = ImportResult{}
				return s.importRow(tx, actor, r, sites, &row)
			})
			var ie importError
			switch {
			case errors.As(err, &ie):
				res.Errors = append(res.Errors, ImportError{r.Line, ie.msg})
			case err != nil:
				return fmt.Errorf("line %d: %w", r.Line, err)
			default:
				res.CustomersCreated += row.CustomersCreated
				res.CustomersUpdated += row.CustomersUpdated
				res.CustomersUnchanged += row.CustomersUnchanged
				res.SitesAdded += row.SitesAdded
			}
		}
		return nil
	}
	db := s.db.W.WithContext(ctx)
	defer s.sites.reset() // sites may have been added
	if !dryRun {
		return res, run(db)
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := run(tx); err != nil {
			return err
		}
		return errDryRun
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return res, err
}

// importError is a row's own problem (as opposed to the database's).
type importError struct{ msg string }

func (e importError) Error() string { return e.msg }

func (s *Service) importRow(tx *gorm.DB, actor string, r *ImportRow, sites []Site, res *ImportResult) error {
	now := s.now().UTC()
	var found []Customer
	if err := tx.Where("external_id = ?", r.ExternalID).Limit(1).Find(&found).Error; err != nil {
		return err
	}
	var c Customer
	if len(found) == 0 {
		ext := r.ExternalID
		c = Customer{Name: r.Name, Plan: r.Plan, ContactEmail: r.ContactEmail, Status: "active", CreatedAt: now, ExternalID: &ext}
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		res.CustomersCreated++
		if err := audit.Record(tx, now, actor, "customer.created", "customer", strconv.FormatInt(c.ID, 10), map[string]any{"name": c.Name, "plan": c.Plan, "external_id": ext}); err != nil {
			return err
		}
	} else {
		c = found[0]
		before := map[string]any{"name": c.Name, "plan": c.Plan, "contact_email": c.ContactEmail}
		if c.Name != r.Name || c.Plan != r.Plan || c.ContactEmail != r.ContactEmail {
			c.Name, c.Plan, c.ContactEmail = r.Name, r.Plan, r.ContactEmail
			if err := tx.Model(&c).Select("name", "plan", "contact_email").Updates(&c).Error; err != nil {
				return err
			}
			res.CustomersUpdated++
			after := map[string]any{"name": c.Name, "plan": c.Plan, "contact_email": c.ContactEmail}
			if err := audit.Record(tx, now, actor, "customer.updated", "customer", strconv.FormatInt(c.ID, 10), map[string]any{"before": before, "after": after}); err != nil {
				return err
			}
		} else {
			res.CustomersUnchanged++
		}
	}
	for _, site := range sites {
		var have []Site
		if err := tx.Where("hostname = ?", site.Hostname).Limit(1).Find(&have).Error; err != nil {
			return err
		}
		if len(have) == 1 {
			if have[0].CustomerID != c.ID {
				return importError{fmt.Sprintf("hostname %s belongs to another customer (id %d); move it in Docket first", site.Hostname, have[0].CustomerID)}
			}
			continue
		}
		site.CustomerID, site.CreatedAt = c.ID, now
		if err := tx.Create(&site).Error; err != nil {
			return err
		}
		res.SitesAdded++
		if err := audit.Record(tx, now, actor, "site.created", "site", strconv.FormatInt(site.ID, 10), map[string]any{"hostname": site.Hostname, "customer": c.ID}); err != nil {
			return err
		}
	}
	return nil
}
