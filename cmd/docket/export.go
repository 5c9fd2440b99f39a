package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// cmdExport runs `docket export sor`: the final statements of reasons of a
// period, validated, in batches of 100 for the DSA Transparency Database.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "sor" {
		return errors.New("usage: docket export sor --since YYYY-MM-DD [--until YYYY-MM-DD] [--out DIR|-] (see docket export sor -h)")
	}
	var since, until, out string
	cfg, rest, err := parse("export sor", args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&since, "since", "", "the first day (UTC, YYYY-MM-DD) whose final decisions to export (required)")
		fs.StringVar(&until, "until", "", "the day (UTC, YYYY-MM-DD) to stop before (default: no end)")
		fs.StringVar(&out, "out", "-", "a directory to write sor-<since>-NNNN.json files into, or - for stdout (one batch per line)")
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), `Usage: docket export sor --since YYYY-MM-DD [--until YYYY-MM-DD] [--out DIR|-]

Exports the statements of reasons (DSA Art. 17) of decisions that became final
in the period, as the DSA Transparency Database API takes them: batches of at
most 100, {"statements": [...]}, ready for its multiple-statements endpoint.
Each statement is validated first; one that breaks a rule is listed on stderr
with the fields at fault and left out (the command then exits non-zero). The
PUIDs are fixed per decision, so exporting again gives the same identifiers and
the database refuses a duplicate rather than storing it twice.

Flags:
`)
			fs.PrintDefaults()
		}
	})
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("docket export sor: unexpected arguments %v", rest)
	}
	from, err := time.Parse(time.DateOnly, since)
	if err != nil {
		return errors.New("docket export sor: give --since as YYYY-MM-DD")
	}
	var to time.Time
	if until != "" {
		if to, err = time.Parse(time.DateOnly, until); err != nil {
			return errors.New("docket export sor: give --until as YYYY-MM-DD")
		}
		if !to.After(from) {
			return errors.New("docket export sor: --until must be after --since")
		}
	}
	if out != "-" {
		if st, err := os.Stat(out); err != nil || !st.IsDir() {
			return fmt.Errorf("docket export sor: --out %s is not a directory", out)
		}
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	res, err := a.cases.ExportStatements(ctx, "cli:export-sor", from, to)
	if err != nil {
		return err
	}
	n := 0
	for i, b := range res.Batches {
		n += len(b.Statements)
		if out == "-" {
			line, _ := json.Marshal(b)
			if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
				return err
			}
			continue
		}
		doc, _ := json.MarshalIndent(b, "", "  ")
		name := filepath.Join(out, fmt.Sprintf("sor-%s-%04d.json", from.Format("20060102"), i+1))
		if err := os.WriteFile(name, append(doc, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: %d statements\n", name, len(b.Statements))
	}
	for _, r := range res.Invalid {
		fmt.Fprintf(stderr, "%s (case %d): %s\n", r.Statement.PUID, r.Statement.CaseID, r.Problems.Error())
	}
	fmt.Fprintf(stderr, "exported %d statements in %d batches (%s); %d invalid\n", n, len(res.Batches), res.Batch, len(res.Invalid))
	if len(res.Invalid) > 0 {
		return fmt.Errorf("%d statements were not exported (listed above)", len(res.Invalid))
	}
	return nil
}
