// Package evidence stores the files reporters attach to reports: through
// gocloud.dev/blob (local files by default, S3-compatible storage by
// configuration), each file's type sniffed from its bytes and its SHA-256
// recorded. Files are stored once under their hash; a row per report says which
// report each belongs to. csam uploads are refused and never stored.
package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets (the default)
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets, any S3-compatible endpoint
	"gocloud.dev/gcerrors"
	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
)

// Limits per submission.
const (
	MaxFiles = 5
	MaxSize  = 10 << 20
	// MaxBody is the most a report form with MaxFiles files of MaxSize can be,
	// with room for the text fields and multipart framing.
	MaxBody = MaxFiles*MaxSize + 2<<20
)

// Types lists what may be uploaded, by the type sniffed from the content
// (net/http's MIME sniffing algorithm), with the name the form shows.
var Types = map[string]string{
	"image/png":       "PNG",
	"image/jpeg":      "JPEG",
	"image/gif":       "GIF",
	"image/webp":      "WebP",
	"application/pdf": "PDF",
	"text/plain":      "plain text (including saved emails)",
}

// IsImage reports whether content of type t is shown as an image to reviewers.
func IsImage(t string) bool { return strings.HasPrefix(t, "image/") }

// Evidence is one stored file attached to one report.
type Evidence struct {
	ID           int64
	ReportID     int64
	SHA256       string `gorm:"column:sha256"`
	Size         int64
	ContentType  string
	OriginalName string
	BlobKey      string
	CreatedAt    time.Time
}

// TableName is the evidence table.
func (Evidence) TableName() string { return "evidence" }

// File is an upload that passed the checks, ready to be stored.
type File struct {
	Name        string // sanitized original name
	SHA256      string
	Size        int64
	ContentType string
	header      *multipart.FileHeader
}

// Key is where the file is stored: by content, so the same file sent twice is
// stored once and the key itself proves the hash.
func (f File) Key() string { return "sha256/" + f.SHA256[:2] + "/" + f.SHA256 }

// CSAMGuidance is the answer to a file attached to a csam report.
const CSAMGuidance = "Do not upload child sexual abuse material, not even as evidence: possessing or sending it is a crime. Report the address (URL) only; if you have a hash of the file (for example SHA-256 or PhotoDNA), put it in the description."

// Prepare checks uploads: how many, their size and their type (sniffed from the
// bytes, never the client's word or the name), and hashes them. Problems are
// field errors under "evidence" naming the file. Nothing is stored.
func Prepare(headers []*multipart.FileHeader, category cases.Category) ([]File, error) {
	var nonEmpty []*multipart.FileHeader
	for _, h := range headers {
		if h.Filename != "" || h.Size > 0 {
			nonEmpty = append(nonEmpty, h)
		}
	}
	if len(nonEmpty) == 0 {
		return nil, nil
	}
	bad := func(msg string, args ...any) error {
		return errs.Fields(map[string]string{"evidence": fmt.Sprintf(msg, args...)})
	}
	if category == cases.CSAM {
		return nil, bad("%s", CSAMGuidance)
	}
	if len(nonEmpty) > MaxFiles {
		return nil, bad("Attach at most %d files (you chose %d).", MaxFiles, len(nonEmpty))
	}
	var out []File
	for _, h := range nonEmpty {
		name := SanitizeName(h.Filename)
		if h.Size > MaxSize {
			return nil, bad("%s is larger than %d MB.", name, MaxSize>>20)
		}
		f, err := sniff(h)
		if err != nil {
			return nil, err
		}
		if f.Size == 0 {
			return nil, bad("%s is empty.", name)
		}
		if f.Size > MaxSize {
			return nil, bad("%s is larger than %d MB.", name, MaxSize>>20)
		}
		if _, ok := Types[f.ContentType]; !ok {
			return nil, bad("%s is not an allowed kind of file (it looks like %s). Attach PNG, JPEG, GIF or WebP images, PDF or plain text.", name, f.ContentType)
		}
		f.Name = name
		out = append(out, f)
	}
	return out, nil
}

// sniff reads the upload once: its first 512 bytes decide the type, all of it
// the hash and the size.
func sniff(h *multipart.FileHeader) (File, error) {
	r, err := h.Open()
	if err != nil {
		return File{}, fmt.Errorf("open upload: %w", err)
	}
	defer r.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return File{}, fmt.Errorf("read upload: %w", err)
	}
	head = head[:n]
	sum := sha256.New()
	sum.Write(head)
	rest, err := io.Copy(sum, io.LimitReader(r, MaxSize+1-int64(n)))
	if err != nil {
		return File{}, fmt.Errorf("read upload: %w", err)
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return File{SHA256: hex.EncodeToString(sum.Sum(nil)), Size: int64(n) + rest, ContentType: ct, header: h}, nil
}

// SanitizeName keeps the last path element of a client's file name, without
// control or formatting characters, at most 100 characters.
func SanitizeName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	if name == "" || name == "." || name == "/" || name == ".." {
		name = "evidence"
	}
	return name
}

// Store is the evidence bucket and its table.
type Store struct {
	bucket *blob.Bucket
	db     *database.DB
	now    func() time.Time
}

// Open opens the bucket at url: file:///path?create_dir=1 or
// s3://bucket?endpoint=…&region=… (credentials from the usual AWS variables).
func Open(ctx context.Context, url string, db *database.DB, now func() time.Time) (*Store, error) {
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open evidence bucket: %w", err)
	}
	return &Store{bucket: b, db: db, now: now}, nil
}

// Close closes the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// Check opens the bucket at url and asks whether it can be reached, writing
// no object (docket doctor; a file:// URL with create_dir=1 makes its folder).
func Check(ctx context.Context, url string) error {
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return fmt.Errorf("open evidence bucket: %w", err)
	}
	defer b.Close()
	ok, err := b.IsAccessible(ctx)
	if err != nil {
		return fmt.Errorf("evidence bucket: %w", err)
	}
	if !ok {
		return fmt.Errorf("the evidence bucket does not exist or cannot be reached")
	}
	return nil
}

// Put writes the files to the bucket (before the reports' transaction; a file
// left by a transaction that then failed is harmless: it is named by its hash
// and referenced by nothing).
func (s *Store) Put(ctx context.Context, files []File) error {
	for _, f := range files {
		if ok, err := s.bucket.Exists(ctx, f.Key()); err == nil && ok {
			continue
		}
		if err := s.put(ctx, f); err != nil {
			return fmt.Errorf("store evidence %s: %w", f.SHA256, err)
		}
	}
	return nil
}

func (s *Store) put(ctx context.Context, f File) error {
	r, err := f.header.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := s.bucket.NewWriter(ctx, f.Key(), &blob.WriterOptions{ContentType: f.ContentType})
	if err != nil {
		return err
	}
	sum := sha256.New()
	if _, err := io.Copy(w, io.TeeReader(io.LimitReader(r, MaxSize), sum)); err != nil {
		_ = w.Close()
		return err
	}
	if hex.EncodeToString(sum.Sum(nil)) != f.SHA256 {
		_ = w.Close()
		return errors.New("the upload changed while it was stored")
	}
	return w.Close()
}

// Record writes the evidence rows of files for a report, and audits them on
// the report's case, in the filing transaction.
func (s *Store) Record(tx *gorm.DB, r *cases.Report, files []File) error {
	now := s.now().UTC()
	for _, f := range files {
		e := Evidence{ReportID: r.ID, SHA256: f.SHA256, Size: f.Size, ContentType: f.ContentType, OriginalName: f.Name, BlobKey: f.Key(), CreatedAt: now}
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		err := audit.Record(tx, now, "reporter:"+strconv.FormatInt(r.ReporterID, 10), "report.evidence", "case", strconv.FormatInt(r.CaseID, 10),
			map[string]any{"report": r.PublicID, "evidence": e.ID, "sha256": e.SHA256, "size": e.Size, "content_type": e.ContentType})
		if err != nil {
			return err
		}
	}
	return nil
}

// ForCase returns the evidence of a case's reports, by report id.
func (s *Store) ForCase(ctx context.Context, caseID int64) (map[int64][]Evidence, error) {
	var es []Evidence
	err := s.db.R.WithContext(ctx).Table("evidence").Select("evidence.*").
		Joins("JOIN reports ON reports.id = evidence.report_id").
		Where("reports.case_id = ?", caseID).Order("evidence.id").Scan(&es).Error
	if err != nil {
		return nil, err
	}
	m := map[int64][]Evidence{}
	for _, e := range es {
		m[e.ReportID] = append(m[e.ReportID], e)
	}
	return m, nil
}

// ErrNotFound is the answer for evidence that does not exist, is not in the
// case, or must not be shown.
var ErrNotFound = errs.E(errs.NotFound, "There is no such evidence file.")

// Open returns evidence id of the case caseID and its content. It never
// returns a file of a csam report or case: only hashes are shown there.
func (s *Store) Open(ctx context.Context, caseID, id int64) (*Evidence, io.ReadCloser, error) {
	var e Evidence
	err := s.db.R.WithContext(ctx).Table("evidence").Select("evidence.*").
		Joins("JOIN reports ON reports.id = evidence.report_id").
		Joins("JOIN cases ON cases.id = reports.case_id").
		Where("evidence.id = ? AND reports.case_id = ? AND reports.category <> ? AND cases.category <> ?", id, caseID, cases.CSAM, cases.CSAM).
		Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	r, err := s.bucket.NewReader(ctx, e.BlobKey, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return &e, r, nil
}

// Exists reports whether the blob of a file is stored (tests, repair).
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	return s.bucket.Exists(ctx, key)
}
