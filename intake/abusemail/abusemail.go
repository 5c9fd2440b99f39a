// Package abusemail reads abuse reports that arrive by email: ARF feedback
// reports (RFC 5965, RFC 6591), X-ARF v0.1/v0.2 (a YAML report part) and XARF
// v3/v4 (a JSON report part). It is a pure parser: raw message bytes in, the
// normalized reports the message carries out, or an *Error saying why not. It
// touches no database; inbox decides what is filed and what waits for a human.
package abusemail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode ISO-8859-x, Windows-125x… text parts
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/dockethq/docket/cases"
)

// MaxSize is the largest message Docket accepts: larger mail is refused, not
// truncated, so what is stored is always the whole message.
const MaxSize = 25 << 20

// Limits on what one message may make Docket do.
const (
	maxDepth    = 8   // nested multiparts and message/rfc822 parts
	maxParts    = 200 // parts walked in one message
	maxTargets  = 20  // URLs and domains taken from one report
	maxPartRead = 5 << 20
	maxDescr    = 8000 // runes; cases.MaxDescription leaves room for reviewer edits
)

// Formats a report can arrive in.
const (
	FormatARF   = "arf"      // RFC 5965 message/feedback-report
	FormatXARF  = "x-arf"    // x-arf.org v0.1/v0.2: YAML report part
	FormatXARF3 = "xarf-3"   // XARF v3 JSON
	FormatXARF4 = "xarf-4"   // XARF v4 JSON
	FormatNone  = "none"     // not a report format Docket knows
	FormatPlain = "not-mime" // could not be read as a message at all
)

// Report is one abuse report found in a message, in Docket's terms.
type Report struct {
	Format   string
	Type     string         // the sender's own words: "abuse", "fraud/phishing", "content/malware"
	Category cases.Category // Docket's category for Type
	URLs     []string       // http(s) URLs the report names
	Domains  []string       // hostnames the report names without a URL
	IPs      []string       // IP addresses the report names
	// Description is the text a reviewer reads: a summary of the report's
	// fields and the sender's human-readable part, plain text.
	Description   string
	ReporterName  string
	ReporterEmail string
	Reference     string    // the sender's id: X-ARF Report-ID, else the Message-ID
	Time          time.Time // when the abuse was seen, if the report says; else zero
	// NotAbuse says why a report is not a complaint Docket acts on by itself
	// (an ARF not-spam or auth-failure report); empty for a complaint.
	NotAbuse string
}

// Message is what Parse read: the envelope a reviewer needs and the reports.
type Message struct {
	FromName  string
	FromEmail string
	Subject   string
	MessageID string
	Date      time.Time
	Format    string
	Reports   []Report
}

// Error says why a message yields no report. Reason is one plain sentence.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Reason }
func (e *Error) Unwrap() error { return e.Err }

func fail(err error, format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), Err: err}
}

// ErrNoReport is the cause when a readable message carries no ARF or X-ARF report.
var ErrNoReport = errors.New("no ARF or X-ARF report")

// Parse reads a raw message. It returns the message with every report it
// carries; on error the returned *Message still holds what could be read of
// the headers (nil if not even they could), and the error is an *Error.
func Parse(raw []byte) (*Message, error) {
	if len(raw) > MaxSize {
		return nil, fail(nil, "The message is %d bytes; Docket accepts at most %d.", len(raw), MaxSize)
	}
	e, err := readEntity(cleanHeader(raw))
	if e == nil {
		return nil, fail(err, "The message header cannot be read (%s).", short(err))
	}
	m := &Message{Format: FormatNone}
	h := gomail.Header{Header: e.Header}
	if as, err := h.AddressList("From"); err == nil && len(as) > 0 {
		m.FromName, m.FromEmail = clean(as[0].Name, 200), strings.ToLower(as[0].Address)
	} else if f := h.Get("From"); f != "" {
		// A From that go-message will not parse (8-bit, broken quoting): the
		// standard library is more forgiving.
		if a, err := mail.ParseAddress(f); err == nil {
			m.FromName, m.FromEmail = clean(a.Name, 200), strings.ToLower(a.Address)
		}
	}
	if s, err := h.Subject(); err == nil {
		m.Subject = clean(s, 500)
	} else {
		m.Subject = clean(h.Get("Subject"), 500)
	}
	if id, err := h.MessageID(); err == nil && id != "" {
		m.MessageID = clean(id, 500)
	} else {
		m.MessageID = clean(strings.Trim(h.Get("Message-Id"), "<> "), 500)
	}
	m.Date = parseTime(h.Get("Date"))

	p := &walker{}
	err = p.walk(e, 0)
	if err != nil || p.empty() {
		// Senders get the boundary wrong (a multipart header naming one
		// boundary, parts separated by another): read the parts by the
		// boundary they use.
		if e2 := reboundary(raw, e); e2 != nil {
			p2 := &walker{repaired: true}
			if err2 := p2.walk(e2, 0); err2 == nil && !p2.empty() {
				p, err = p2, nil
			}
		}
	}
	if err != nil {
		return m, err
	}
	switch {
	case p.feedback != nil:
		m.Format = FormatARF
		r, err := p.arf(m)
		if err != nil {
			return m, err
		}
		m.Reports = []Report{r}
	case len(p.json) > 0:
		rs, format, err := p.xarfJSON(m)
		if err != nil {
			return m, err
		}
		m.Format, m.Reports = format, rs
	case p.yaml != nil || isXARF(e.Header):
		m.Format = FormatXARF
		r, err := p.xarf(m)
		if err != nil {
			return m, err
		}
		m.Reports = []Report{r}
	default:
		return m, fail(ErrNoReport, "The message carries no ARF (message/feedback-report) or X-ARF report part.")
	}
	return m, nil
}

// isXARF reports whether the top-level header announces X-ARF.
func isXARF(h message.Header) bool {
	return h.Get("X-Xarf") != "" || strings.EqualFold(h.Get("X-Arf"), "yes")
}

// readEntity reads a message's header. An unknown charset or transfer encoding
// still yields a readable entity (the bytes as they are), which is better than
// nothing for a reviewer.
func readEntity(r []byte) (*message.Entity, error) {
	e, err := message.Read(bytes.NewReader(r))
	if e != nil && (message.IsUnknownCharset(err) || message.IsUnknownEncoding(err)) {
		err = nil
	}
	return e, err
}

// cleanHeader drops mbox "From " separator lines from the header block: mail
// saved from an mbox (and many published samples) starts with one, and some
// carry it after a line added later. A header name has no space, so such a
// line is never a field.
func cleanHeader(raw []byte) []byte {
	end := headerEnd(raw)
	head := raw[:end]
	if !bytes.Contains(head, []byte("From ")) {
		return raw
	}
	var out bytes.Buffer
	out.Grow(len(raw))
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line = head[:i+1]
		}
		head = head[len(line):]
		if bytes.HasPrefix(line, []byte("From ")) || bytes.HasPrefix(line, []byte(">From ")) {
			continue
		}
		out.Write(line)
	}
	out.Write(raw[end:])
	return out.Bytes()
}

// HeaderEnd is the offset of the blank line that ends a message's header
// (len(raw) when there is none), for showing the header alone.
func HeaderEnd(raw []byte) int { return headerEnd(raw) }

// headerEnd is the offset of the blank line that ends the header (or len).
func headerEnd(raw []byte) int {
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return len(raw)
		}
		line := raw[i : i+j]
		if len(bytes.TrimRight(line, "\r")) == 0 {
			return i
		}
		i += j + 1
	}
	return len(raw)
}

// part is a leaf of the MIME tree that the parser keeps.
type part struct {
	mediaType string
	filename  string
	body      []byte
}

// walker collects the parts a report is made of while walking the MIME tree.
type walker struct {
	parts    int
	texts    []part   // text/plain parts, in order: the human-readable text, X-ARF YAML
	feedback []byte   // message/feedback-report body
	original []byte   // message/rfc822 (or text/rfc822-headers) after the feedback report
	yaml     []byte   // the X-ARF report part
	json     [][]byte // XARF JSON parts
	yamlName string   // the X-ARF part's file name
	repaired bool     // the parts were read by a boundary the header did not name
}

func (w *walker) empty() bool {
	return w.feedback == nil && w.yaml == nil && len(w.json) == 0 && len(w.texts) == 0
}

// boundaryRE finds the first boundary line of a multipart body.
var boundaryRE = regexp.MustCompile(`(?m)^--([^\s]{1,70})\r?$`)

// reboundary re-reads a multipart message whose parts use another boundary
// than its Content-Type names; nil when it is not that case.
func reboundary(raw []byte, e *message.Entity) *message.Entity {
	mt, params, _ := e.Header.ContentType()
	if !strings.HasPrefix(mt, "multipart/") {
		return nil
	}
	raw = cleanHeader(raw)
	body := raw[headerEnd(raw):]
	found := boundaryRE.FindSubmatch(body[:min(len(body), 1<<20)])
	if found == nil || string(found[1]) == params["boundary"] {
		return nil
	}
	h := e.Header.Copy()
	if params == nil {
		params = map[string]string{} // a Content-Type whose parameters do not parse
	}
	params["boundary"] = string(found[1])
	h.SetContentType(mt, params)
	e2, _ := message.New(h, bytes.NewReader(bytes.TrimLeft(body, "\r\n")))
	return e2
}

func (w *walker) walk(e *message.Entity, depth int) error {
	if depth > maxDepth {
		return fail(nil, "The message nests parts more than %d deep.", maxDepth)
	}
	w.parts++
	if w.parts > maxParts {
		return fail(nil, "The message has more than %d parts.", maxParts)
	}
	mt, params, _ := e.Header.ContentType()
	if mt == "" {
		mt = "text/plain"
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if p == nil {
				if len(w.texts)+len(w.json) > 0 || w.feedback != nil {
					return nil // a torn last part: keep what was read
				}
				return fail(err, "The multipart body cannot be read (%s).", short(err))
			}
			if err := w.walk(p, depth+1); err != nil {
				return err
			}
		}
	}
	body, err := io.ReadAll(io.LimitReader(e.Body, maxPartRead))
	if err != nil && len(body) == 0 {
		return fail(err, "A %s part cannot be read (%s).", mt, short(err))
	}
	name := params["name"]
	if _, dp, err := e.Header.ContentDisposition(); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	}
	p := part{mediaType: mt, filename: strings.ToLower(name), body: body}
	switch {
	case mt == "message/feedback-report":
		if w.feedback == nil {
			w.feedback = body
		}
	case mt == "message/rfc822" || mt == "text/rfc822-headers" || mt == "message/rfc822-headers":
		if w.original == nil {
			w.original = body
		}
	case mt == "application/json" || strings.HasSuffix(p.filename, ".json"):
		w.json = append(w.json, body)
	case strings.HasPrefix(mt, "text/"):
		if w.yaml == nil && looksLikeXARF(body) {
			w.yaml, w.yamlName = body, p.filename
			return nil
		}
		if mt == "text/plain" && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) && bytes.Contains(body, []byte("xarf_version")) {
			w.json = append(w.json, body)
			return nil
		}
		w.texts = append(w.texts, p)
	}
	return nil
}

// looksLikeXARF recognizes an X-ARF v0.1/v0.2 report part: YAML with the
// fields every X-ARF schema requires.
func looksLikeXARF(b []byte) bool {
	s := string(b[:min(len(b), 4096)])
	if strings.Contains(s, "Report-Type:") && strings.Contains(s, "Source:") && (strings.Contains(s, "Category:") || strings.Contains(s, "Reported-From:")) {
		return true
	}
	// The looser YAML some senders attach "X-ARF style" (cyscon's
	// MALWARE-report.txt: uri, domain, ip, signature in lower case).
	return strings.HasPrefix(strings.TrimSpace(s), "---") && (strings.Contains(s, "\nuri:") || strings.Contains(s, "\nurl:"))
}

// humanText is the first text/plain part: the sender's explanation.
func (w *walker) humanText() string {
	for _, p := range w.texts {
		if p.mediaType == "text/plain" {
			return string(p.body)
		}
	}
	return ""
}

// readFields reads an RFC 822-style field block (the feedback report),
// tolerating the blank lines and odd endings found in the wild.
func readFields(b []byte) (textproto.Header, error) {
	b = bytes.TrimLeft(b, "\r\n")
	if !bytes.Contains(b, []byte("\n\n")) && !bytes.Contains(b, []byte("\r\n\r\n")) {
		b = append(append([]byte{}, b...), "\r\n\r\n"...)
	}
	return textproto.ReadHeader(bufio.NewReader(bytes.NewReader(b)))
}

// clean makes s safe to file as a one-line field: valid UTF-8, no control
// characters, at most n runes.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n])
	}
	return s
}

// cleanText is clean for multi-line text: line breaks and tabs stay.
func cleanText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}

func short(err error) string {
	if err == nil {
		return "no detail"
	}
	return clean(err.Error(), 200)
}

// describe builds a report's description: a summary of the structured fields,
// then the sender's own text.
func describe(summary []string, human string) string {
	var b strings.Builder
	for _, s := range summary {
		if s != "" {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	if h := cleanText(human, maxDescr); h != "" {
		b.WriteString("\n")
		b.WriteString(h)
	}
	return cleanText(b.String(), maxDescr)
}
