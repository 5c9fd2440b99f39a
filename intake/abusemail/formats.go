package abusemail

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// arf reads an RFC 5965 feedback report. The reporter is the message's sender
// (ARF has no reporter field); the target is what Reported-Uri and
// Reported-Domain name, else the URLs in the reported message's body.
func (w *walker) arf(m *Message) (Report, error) {
	f, err := readFields(w.feedback)
	if err != nil && f.Len() == 0 {
		return Report{}, fail(err, "The ARF feedback report cannot be read (%s).", short(err))
	}
	ft := clean(f.Get("Feedback-Type"), 100)
	if ft == "" {
		return Report{}, fail(nil, "The ARF feedback report has no Feedback-Type.")
	}
	r := Report{Format: FormatARF, Type: strings.ToLower(ft), ReporterName: m.FromName, ReporterEmail: m.FromEmail, Reference: m.MessageID}
	r.Category, r.NotAbuse = arfCategory(ft)
	var t targets
	for _, u := range f.Values("Reported-Uri") {
		t.add(u, "uri")
	}
	for _, d := range f.Values("Reported-Domain") {
		t.add(d, "domain")
	}
	fromOriginal := false
	if len(t.urls)+len(t.domains) == 0 && w.original != nil {
		t.scan(string(w.original[headerEnd(w.original):]), 5)
		fromOriginal = len(t.urls) > 0
	}
	for _, ip := range f.Values("Source-Ip") {
		t.add(ip, "ip")
	}
	r.URLs, r.Domains, r.IPs = t.urls, t.domains, t.ips
	for _, k := range []string{"Arrival-Date", "Received-Date"} {
		if d := parseTime(f.Get(k)); !d.IsZero() {
			r.Time = d
			break
		}
	}
	summary := []string{fmt.Sprintf("ARF feedback report (Feedback-Type: %s) from %s.", r.Type, who(r.ReporterName, r.ReporterEmail))}
	for _, k := range []string{"User-Agent", "Source-Ip", "Original-Mail-From", "Original-Rcpt-To", "Arrival-Date", "Received-Date", "Reporting-Mta", "Auth-Failure", "Dkim-Domain", "Incidents"} {
		if v := clean(f.Get(k), 300); v != "" {
			summary = append(summary, k+": "+v)
		}
	}
	for _, k := range []string{"Reported-Domain", "Reported-Uri"} {
		for _, v := range f.Values(k) {
			summary = append(summary, k+": "+clean(v, 500))
		}
	}
	if fromOriginal {
		summary = append(summary, "URLs found in the reported message: "+strings.Join(r.URLs, " "))
	}
	if orig := originalSummary(w.original); orig != "" {
		summary = append(summary, orig)
	}
	r.Description = describe(summary, w.humanText())
	return r, nil
}

// originalSummary names the reported message by its From, Subject and Message-ID.
func originalSummary(raw []byte) string {
	if raw == nil {
		return ""
	}
	e, _ := readEntity(cleanHeader(raw))
	if e == nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"From", "Subject", "Message-Id", "Date"} {
		v := e.Header.Get(k)
		if k == "Subject" {
			if s, err := e.Header.Text(k); err == nil {
				v = s
			}
		}
		if v = clean(v, 300); v != "" {
			parts = append(parts, k+": "+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Reported message — " + strings.Join(parts, "; ")
}

func who(name, email string) string {
	switch {
	case name != "" && email != "":
		return name + " <" + email + ">"
	case email != "":
		return email
	case name != "":
		return name
	}
	return "an unnamed sender"
}

// xarf reads an X-ARF v0.1/v0.2 report: a YAML part with Reported-From,
// Category, Report-Type, Source-Type, Source, Report-ID, Date (x-arf.org).
func (w *walker) xarf(m *Message) (Report, error) {
	if w.yaml == nil {
		return Report{}, fail(nil, "The message says it is X-ARF but has no report part (YAML with Category, Report-Type and Source).")
	}
	f, order := yamlFields(w.yaml)
	get := func(k string) string { return clean(f[strings.ToLower(k)], 500) }
	category, typ := get("Category"), get("Report-Type")
	if typ == "" && category == "" {
		// The looser style names the kind in the file name and a signature.
		typ = strings.TrimSuffix(strings.TrimSuffix(w.yamlName, ".txt"), "-report")
		if typ == "" {
			typ = strings.ToLower(get("Signature"))
		}
	}
	if typ == "" && category == "" {
		return Report{}, fail(nil, "The X-ARF report part has neither Category nor Report-Type.")
	}
	r := Report{Format: FormatXARF, Type: strings.ToLower(strings.Trim(category+"/"+typ, "/")), Category: categoryFor(typ, category, get("Signature")), Reference: get("Report-ID")}
	r.ReporterName, r.ReporterEmail = m.FromName, m.FromEmail
	if a, err := mail.ParseAddress(get("Reported-From")); err == nil {
		r.ReporterEmail = strings.ToLower(a.Address)
		if a.Name != "" {
			r.ReporterName = clean(a.Name, 200)
		}
	}
	if r.Reference == "" {
		r.Reference = m.MessageID
	}
	var t targets
	st := strings.ToLower(get("Source-Type"))
	t.add(get("Source"), st)
	t.add(get("Uri"), "uri")
	t.add(get("Url"), "uri")
	t.add(get("Download-Link"), "uri")
	t.add(get("Domain"), "domain")
	t.add(get("Ip"), "ip")
	r.URLs, r.Domains, r.IPs = t.urls, t.domains, t.ips
	r.Time = parseTime(get("Date"))
	if r.Time.IsZero() {
		r.Time = parseTime(get("First_seen"))
	}
	summary := []string{fmt.Sprintf("X-ARF report (Category: %s, Report-Type: %s) from %s.", orDash(category), orDash(typ), who(r.ReporterName, r.ReporterEmail))}
	if w.repaired {
		summary = append(summary, "The message's MIME boundary did not match its parts; Docket read the parts by the boundary they use.")
	}
	for _, fl := range order {
		if v := clean(fl.value, 500); v != "" {
			summary = append(summary, clean(fl.name, 100)+": "+v)
		}
	}
	r.Description = describe(summary, w.humanText())
	return r, nil
}

// field is one field of an X-ARF report as sent.
type field struct{ name, value string }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// yamlFields reads the X-ARF YAML part: values by lower-cased key, and the
// fields in the order and spelling sent. Real reports are not always valid
// YAML (unquoted colons, tabs); then each "Key: value" line is read as it
// stands.
func yamlFields(b []byte) (map[string]string, []field) {
	out := map[string]string{}
	var order []field
	add := func(k, v string) {
		out[strings.ToLower(k)] = v
		order = append(order, field{k, v})
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err == nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 && n.Content[0].Kind == yaml.MappingNode {
		m := n.Content[0].Content
		for i := 0; i+1 < len(m); i += 2 {
			if m[i].Kind == yaml.ScalarNode && m[i+1].Kind == yaml.ScalarNode {
				add(m[i].Value, m[i+1].Value)
			}
		}
		if len(order) > 0 {
			return out, order
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(k, " \t") || k == "" {
			continue
		}
		add(k, strings.Trim(strings.TrimSpace(v), `"'`))
	}
	return out, order
}

// scalar prints a YAML or JSON value as text; nested values are left out.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(x)
	case json.Number:
		return x.String()
	}
	return ""
}

// parseTime reads the dates reports use: RFC 3339 or RFC 2822.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	if t, err := mail.ParseDate(s); err == nil {
		// Go reads an unknown zone name as UTC; RFC 5322 §4.3 gives the
		// obsolete US zones their offsets (ARF's own examples use EDT).
		if name, off := t.Zone(); off == 0 {
			if h, ok := obsZones[strings.ToUpper(name)]; ok {
				y, mo, d := t.Date()
				t = time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone(name, h*3600))
			}
		}
		return t.UTC()
	}
	return time.Time{}
}

var obsZones = map[string]int{"EDT": -4, "EST": -5, "CDT": -5, "CST": -6, "MDT": -6, "MST": -7, "PDT": -7, "PST": -8}

// xarfJSON reads XARF v4 (xarf_version 4.x) or v3 (Version 3.x) JSON parts:
// one report per object, a part may hold an object or an array of them.
func (w *walker) xarfJSON(m *Message) ([]Report, string, error) {
	var out []Report
	format := FormatXARF4
	for _, b := range w.json {
		b = bytes.TrimSpace(b)
		var objs []map[string]any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if len(b) > 0 && b[0] == '[' {
			if err := dec.Decode(&objs); err != nil {
				return nil, format, fail(err, "The XARF JSON part is not valid JSON (%s).", short(err))
			}
		} else {
			var o map[string]any
			if err := dec.Decode(&o); err != nil {
				return nil, format, fail(err, "The XARF JSON part is not valid JSON (%s).", short(err))
			}
			objs = append(objs, o)
		}
		for _, o := range objs {
			if len(out) >= maxTargets {
				break
			}
			switch {
			case strings.HasPrefix(str(o, "xarf_version"), "4"):
				out = append(out, xarf4(o, m, w.humanText()))
			case strings.HasPrefix(str(o, "Version"), "3") && obj(o, "Report") != nil:
				format = FormatXARF3
				out = append(out, xarf3(o, m, w.humanText()))
			}
		}
	}
	if len(out) == 0 {
		return nil, format, fail(ErrNoReport, "The JSON part is not an XARF v3 or v4 report (no xarf_version 4.x or Version 3.x).")
	}
	return out, format, nil
}

func str(o map[string]any, k string) string {
	if o == nil {
		return ""
	}
	return clean(scalar(o[k]), 2000)
}

func obj(o map[string]any, k string) map[string]any {
	if o == nil {
		return nil
	}
	v, _ := o[k].(map[string]any)
	return v
}

// xarf4 maps one XARF v4 report (xarf-core.json): category and type, the
// URL fields the content and copyright types carry, source_identifier.
func xarf4(o map[string]any, m *Message, human string) Report {
	cat, typ := str(o, "category"), str(o, "type")
	r := Report{Format: FormatXARF4, Type: strings.ToLower(strings.Trim(cat+"/"+typ, "/")), Category: categoryFor(typ, cat), Reference: str(o, "report_id")}
	rep := obj(o, "reporter")
	r.ReporterName, r.ReporterEmail = clean(str(rep, "org"), 200), strings.ToLower(str(rep, "contact"))
	if r.ReporterName == "" && r.ReporterEmail == "" {
		r.ReporterName, r.ReporterEmail = m.FromName, m.FromEmail
	}
	if r.Reference == "" {
		r.Reference = m.MessageID
	}
	var t targets
	for _, k := range []string{"url", "infringing_url", "download_url", "phishing_url"} {
		t.add(str(o, k), "uri")
	}
	t.add(str(o, "source_identifier"), "")
	r.URLs, r.Domains, r.IPs = t.urls, t.domains, t.ips
	r.Time = parseTime(str(o, "timestamp"))
	summary := []string{fmt.Sprintf("XARF %s report (%s) from %s.", orDash(str(o, "xarf_version")), orDash(r.Type), who(r.ReporterName, r.ReporterEmail))}
	if s := obj(o, "sender"); s != nil && str(s, "contact") != "" && str(s, "contact") != str(rep, "contact") {
		summary = append(summary, "Sent by: "+who(str(s, "org"), str(s, "contact")))
	}
	for _, k := range []string{"description", "source_identifier", "evidence_source", "target_brand", "malware_family", "fraud_type", "scheme_description", "impersonated_entity", "work_title", "work_identifier", "rights_holder", "file_hash", "confidence"} {
		if v := str(o, k); v != "" {
			summary = append(summary, k+": "+clean(v, 500))
		}
	}
	if ev, ok := o["evidence"].([]any); ok {
		for i, e := range ev {
			if i >= 10 {
				break
			}
			if em, ok := e.(map[string]any); ok {
				summary = append(summary, fmt.Sprintf("evidence %d: %s (%s)", i+1, clean(str(em, "description"), 300), clean(str(em, "content_type"), 100)))
			}
		}
	}
	r.Description = describe(summary, human)
	return r
}

// xarf3 maps a legacy XARF v3 report: ReporterInfo and Report.Source.
func xarf3(o map[string]any, m *Message, human string) Report {
	rep, rp := obj(o, "ReporterInfo"), obj(o, "Report")
	class, typ := str(rp, "ReportClass"), str(rp, "ReportType")
	r := Report{Format: FormatXARF3, Type: strings.ToLower(strings.Trim(class+"/"+typ, "/")), Category: categoryFor(typ, class), Reference: m.MessageID}
	r.ReporterName = clean(str(rep, "ReporterOrg"), 200)
	r.ReporterEmail = strings.ToLower(str(rep, "ReporterContactEmail"))
	if r.ReporterEmail == "" {
		r.ReporterEmail = strings.ToLower(str(rep, "ReporterOrgEmail"))
	}
	if r.ReporterName == "" && r.ReporterEmail == "" {
		r.ReporterName, r.ReporterEmail = m.FromName, m.FromEmail
	}
	var t targets
	src := obj(rp, "Source")
	t.add(str(src, "URL"), "uri")
	t.add(str(src, "Domain"), "domain")
	t.add(str(src, "IP"), "ip")
	t.add(str(rp, "SourceIp"), "ip")
	r.URLs, r.Domains, r.IPs = t.urls, t.domains, t.ips
	r.Time = parseTime(str(rp, "Date"))
	summary := []string{fmt.Sprintf("XARF %s report (%s) from %s.", orDash(str(o, "Version")), orDash(r.Type), who(r.ReporterName, r.ReporterEmail))}
	if ai := obj(rp, "AdditionalInfo"); ai != nil {
		keys := make([]string, 0, len(ai))
		for k := range ai {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v := str(ai, k); v != "" {
				summary = append(summary, k+": "+clean(v, 500))
			}
		}
	}
	r.Description = describe(summary, human)
	return r
}
