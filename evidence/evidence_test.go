package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dockethq/docket/cases"
	"github.com/dockethq/docket/evidence"
	"github.com/dockethq/docket/internal/errs"
)

// PNG returns a small real PNG image.
func PNG(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// uploads builds multipart file headers as a browser would send them.
func uploads(t *testing.T, files map[string][]byte) []*multipart.FileHeader {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for name, data := range files {
		fw, err := w.CreateFormFile("evidence", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	w.Close()
	req := httptest.NewRequest("POST", "/", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if err := req.ParseMultipartForm(1 << 20); err != nil {
		t.Fatal(err)
	}
	return req.MultipartForm.File["evidence"]
}

func fieldErr(t *testing.T, err error) string {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Fields["evidence"] == "" {
		t.Fatalf("want an evidence field error, got %v", err)
	}
	return e.Fields["evidence"]
}

func TestPrepare(t *testing.T) {
	img := PNG(t)
	fs, err := evidence.Prepare(uploads(t, map[string][]byte{"../../shot.png": img}), cases.Phishing)
	if err != nil || len(fs) != 1 {
		t.Fatalf("png: %v", err)
	}
	sum := sha256.Sum256(img)
	if fs[0].ContentType != "image/png" || fs[0].SHA256 != hex.EncodeToString(sum[:]) || fs[0].Size != int64(len(img)) || fs[0].Name != "shot.png" {
		t.Errorf("prepared %+v", fs[0])
	}
	// The type comes from the bytes: HTML named .png is refused, a PDF named .txt is a PDF.
	msg := fieldErr(t, second(evidence.Prepare(uploads(t, map[string][]byte{"cute.png": []byte("<!DOCTYPE html><script>alert(1)</script>")}), cases.Phishing)))
	if !strings.Contains(msg, "cute.png") || !strings.Contains(msg, "text/html") {
		t.Errorf("html as png: %q", msg)
	}
	fs, err = evidence.Prepare(uploads(t, map[string][]byte{"notes.txt": []byte("%PDF-1.4\n%…")}), cases.Phishing)
	if err != nil || fs[0].ContentType != "application/pdf" {
		t.Errorf("pdf named txt: %v %+v", err, fs)
	}
	fieldErr(t, second(evidence.Prepare(uploads(t, map[string][]byte{"a.exe": {0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff}}), cases.Malware)))
	// Size and count.
	big := append(PNG(t), bytes.Repeat([]byte{0}, evidence.MaxSize)...)
	if msg := fieldErr(t, second(evidence.Prepare(uploads(t, map[string][]byte{"big.png": big}), cases.Phishing))); !strings.Contains(msg, "10 MB") {
		t.Errorf("too big: %q", msg)
	}
	six := map[string][]byte{}
	for _, n := range []string{"1", "2", "3", "4", "5", "6"} {
		six[n+".png"] = img
	}
	fieldErr(t, second(evidence.Prepare(uploads(t, six), cases.Phishing)))
	fieldErr(t, second(evidence.Prepare(uploads(t, map[string][]byte{"empty.txt": {}}), cases.Phishing)))
	// csam: refused with guidance, whatever the file.
	if msg := fieldErr(t, second(evidence.Prepare(uploads(t, map[string][]byte{"x.png": img}), cases.CSAM))); !strings.Contains(msg, "hash") {
		t.Errorf("csam guidance: %q", msg)
	}
	// No files is fine for every category.
	if fs, err := evidence.Prepare(nil, cases.CSAM); err != nil || fs != nil {
		t.Errorf("no files: %v", err)
	}
}

func second(_ []evidence.File, err error) error { return err }

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Users\x\evil.png`: "evil.png", "../../etc/passwd": "passwd", "a\x00b\u202e.png": "ab.png",
		"": "evidence", "..": "evidence", strings.Repeat("é", 300): strings.Repeat("é", 100),
	} {
		if got := evidence.SanitizeName(in); got != want {
			t.Errorf("SanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStorePutOpen(t *testing.T) {
	ctx := context.Background()
	st, err := evidence.Open(ctx, "file://"+t.TempDir()+"?create_dir=1", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	img := PNG(t)
	fs, err := evidence.Prepare(uploads(t, map[string][]byte{"a.png": img}), cases.Phishing)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, fs); err != nil { // stored once, by content
		t.Fatal(err)
	}
	ok, err := st.Exists(ctx, fs[0].Key())
	if err != nil || !ok || !strings.HasSuffix(fs[0].Key(), fs[0].SHA256) {
		t.Errorf("blob %s not stored: %v", fs[0].Key(), err)
	}
}

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"a.png", `..\..\x`, "\u202egnp.exe", "", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := evidence.SanitizeName(s)
		if got == "" || strings.ContainsAny(got, "/\\\x00\n\r") || len([]rune(got)) > 100 || got == ".." {
			t.Errorf("SanitizeName(%q) = %q", s, got)
		}
	})
}
