package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dockethq/docket/internal/errs"
)

// describe spells out a validation error's fields for the terminal.
func describe(err error) error {
	e, ok := errs.As(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(e.Message)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  --%s: %s", k, e.Fields[k])
	}
	return fmt.Errorf("%s", b.String())
}
