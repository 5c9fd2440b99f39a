package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dockethq/docket/cases"
)

// cmdImport is `docket import sites`: customers and their hostnames from billing.
func cmdImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "sites" {
		return errors.New("usage: docket import sites [--dry-run] FILE.csv|FILE.json|- (see docket import sites -h)")
	}
	var dryRun bool
	var format string
	cfg, rest, err := parse("import sites", args[1:], stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "check the file and print what would change, change nothing")
		fs.StringVar(&format, "format", "", "csv or json (default: from the file name; - reads stdin and needs this)")
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), `Usage: docket import sites [--dry-run] [--format csv|json] FILE

Loads customers and their hostnames, as billing knows them. Every row is an
upsert keyed by the customer's external id: a new id creates the customer, a
known one updates its name, plan and contact, and adds hostnames it does not
have yet (hostnames are normalized like report URLs; a hostname another
customer holds is an error on that line). Running the same file twice changes
nothing the second time.

CSV: a header row with external_id,name,plan,contact_email,hostnames
(hostnames separated by spaces or semicolons); plan and contact_email may be
empty, or the columns left out.
JSON: [{"external_id": "...", "name": "...", "plan": "...", "contact_email": "...",
"hostnames": ["a.example", "www.a.example"]}, ...]

Flags:
`)
			fs.PrintDefaults()
		}
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("docket import sites: give one file (or - for stdin)")
	}
	name := rest[0]
	if format == "" {
		switch {
		case strings.HasSuffix(strings.ToLower(name), ".csv"):
			format = "csv"
		case strings.HasSuffix(strings.ToLower(name), ".json"):
			format = "json"
		default:
			return errors.New("docket import sites: say --format csv or --format json (the file name does not)")
		}
	}
	var in io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	var rows []cases.ImportRow
	switch format {
	case "csv":
		rows, err = cases.ParseImportCSV(in)
	case "json":
		rows, err = cases.ParseImportJSON(in)
	default:
		return fmt.Errorf("docket import sites: --format %q is neither csv nor json", format)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	res, err := a.cases.Import(ctx, "import:"+name, rows, dryRun)
	for _, e := range res.Errors {
		fmt.Fprintf(stderr, "%s:%s\n", name, e)
	}
	if err != nil {
		return err
	}
	verb := "imported"
	if dryRun {
		verb = "dry run, nothing changed; would have"
	}
	fmt.Fprintf(stdout, "%s: %s %d customers created, %d updated, %d unchanged; %d hostnames added; %d rows with errors\n",
		name, verb, res.CustomersCreated, res.CustomersUpdated, res.CustomersUnchanged, res.SitesAdded, len(res.Errors))
	if len(res.Errors) > 0 {
		return fmt.Errorf("%d of %d rows were not imported (listed above)", len(res.Errors), len(rows))
	}
	return nil
}
