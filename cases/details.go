package cases

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DetailField is one category-specific question on the report form. The table
// below is the whole definition: the form renders it, validate checks it, and
// the case page shows the answers under the same labels.
type DetailField struct {
	Name     string // form field "detail_<category>_<name>" and key in Report.Details
	Label    string
	Hint     string
	Required bool     // on the web form; the API may leave details out
	Choices  []string // a select when set
	Max      int      // characters
}

// CategoryDetails lists the extra fields per category, in form order.
var CategoryDetails = map[Category][]DetailField{
	Copyright: {
		{Name: "work", Label: "The copyrighted work", Hint: "Title, or where the original can be found.", Required: true, Max: 500},
		{Name: "holder", Label: "The rights holder", Required: true, Max: 200},
		{Name: "relationship", Label: "Your relationship to the rights holder", Required: true, Choices: []string{"I am the rights holder", "I represent the rights holder", "Other"}},
	},
	Trademark: {
		{Name: "mark", Label: "The trademark", Required: true, Max: 200},
		{Name: "registration", Label: "Registration number and office", Hint: "For example EUIPO 018123456.", Max: 200},
		{Name: "holder", Label: "The trademark owner", Required: true, Max: 200},
	},
	Phishing: {
		{Name: "brand", Label: "Brand or organisation impersonated", Required: true, Max: 200},
	},
	Malware: {
		{Name: "kind", Label: "Kind of malware", Required: true, Choices: []string{"Drive-by download", "Malicious file hosted", "Command and control", "Cryptominer", "Other"}},
		{Name: "hash", Label: "File hash (SHA-256), if known", Max: 100},
	},
	Threat: {
		{Name: "target", Label: "Who is threatened", Required: true, Max: 300},
		{Name: "urgency", Label: "How urgent is it", Required: true, Choices: []string{"Imminent danger to life", "Credible threat", "Unclear"}},
	},
	ViolentExtremism: {
		{Name: "group", Label: "Group or movement, if known", Max: 200},
		{Name: "urgency", Label: "How urgent is it", Required: true, Choices: []string{"Imminent danger to life", "Credible threat", "Unclear"}},
	},
	Harassment: {
		{Name: "target", Label: "Who is targeted", Hint: "You, or someone you act for.", Max: 300},
	},
}

// DetailKey is a detail's form field name.
func DetailKey(c Category, name string) string { return "detail_" + string(c) + "_" + name }

// Details are the answers to a category's fields, keyed by DetailField.Name.
type Details map[string]string

// DetailItem is one answer with its label, for display.
type DetailItem struct{ Label, Value string }

// DetailItems decodes a report's stored details in the table's order; unknown
// keys (a category's fields changed since) are shown under their key.
func DetailItems(c Category, stored string) []DetailItem {
	if stored == "" {
		return nil
	}
	var d Details
	if json.Unmarshal([]byte(stored), &d) != nil {
		return nil
	}
	var out []DetailItem
	for _, f := range CategoryDetails[c] {
		if v, ok := d[f.Name]; ok && v != "" {
			out = append(out, DetailItem{f.Label, v})
			delete(d, f.Name)
		}
	}
	for k, v := range d {
		if v != "" {
			out = append(out, DetailItem{k, v})
		}
	}
	return out
}

// validateDetails checks d against the category's table: no unknown keys, text
// within limits, choices from the list, required fields when required is set.
// Errors are keyed by form field name.
func validateDetails(c Category, d Details, required bool, f map[string]string) {
	fields := CategoryDetails[c]
	known := map[string]bool{}
	for _, df := range fields {
		known[df.Name] = true
		key := DetailKey(c, df.Name)
		v := strings.TrimSpace(d[df.Name])
		d[df.Name] = v
		max := df.Max
		if max == 0 {
			max = 200
		}
		switch {
		case v == "":
			if required && df.Required {
				f[key] = "Enter " + strings.ToLower(df.Label[:1]) + df.Label[1:] + "."
			}
			delete(d, df.Name)
		case !utf8.ValidString(v) || strings.IndexFunc(v, badControl) >= 0:
			f[key] = "This contains characters that are not plain text."
		case utf8.RuneCountInString(v) > max:
			f[key] = fmt.Sprintf("Keep this under %d characters.", max)
		case df.Choices != nil && !contains(df.Choices, v):
			f[key] = "Choose one of the options."
		}
	}
	for k := range d {
		if !known[k] {
			f["details"] = fmt.Sprintf("%q is not a field of this category.", k)
		}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// encodeDetails is the stored form: JSON, or empty when there is nothing.
func encodeDetails(d Details) string {
	if len(d) == 0 {
		return ""
	}
	b, _ := json.Marshal(d)
	return string(b)
}
