package ui

import (
	"html/template"
	"strconv"
	"strings"

	"github.com/dockethq/docket/transparency"
)

// The transparency charts are SVG written on the server: readable without
// JavaScript and without the stylesheet (colours and sizes are presentation
// attributes, which the Content Security Policy allows where inline styles are
// not). Each chart is an image with a title and a description for screen
// readers, every bar has a tooltip title, and every number is printed as text
// beside its bar.

// svgSegment is one part of a bar.
type svgSegment struct {
	Label string
	N     int64
}

// svgBar is one row of a horizontal bar chart; several segments stack.
type svgBar struct {
	Label    string
	Segments []svgSegment
}

func (b svgBar) total() int64 {
	var n int64
	for _, s := range b.Segments {
		n += s.N
	}
	return n
}

// svgPalette is colour-blind safe (Okabe–Ito) and dark enough for white text
// not to be needed: labels are outside the bars.
var svgPalette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"}

const (
	svgWidth  = 720
	svgLabelW = 290 // fits "Violent extremism or terrorist content" at 13 px
	svgBarMax = 340
	svgRowH   = 26
	svgBarH   = 18
)

// svgBarChart renders bars as an accessible SVG image. id must be unique on
// the page; legend names the segments (nil for single-segment bars).
func svgBarChart(id, title, desc string, legend []string, bars []svgBar) template.HTML {
	esc := template.HTMLEscapeString
	var max int64
	for _, b := range bars {
		max = maxInt64(max, b.total())
	}
	top := 8
	if len(legend) > 0 {
		top = 34
	}
	height := top + len(bars)*svgRowH + 8
	var sb strings.Builder
	w := func(parts ...string) {
		for _, p := range parts {
			sb.WriteString(p)
		}
	}
	itoa := strconv.Itoa
	w(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="`, esc(id), `" role="img" aria-labelledby="`, esc(id), `-title `, esc(id), `-desc" viewBox="0 0 `,
		itoa(svgWidth), ` `, itoa(height), `" width="100%" font-family="system-ui, sans-serif" font-size="13">`)
	w(`<title id="`, esc(id), `-title">`, esc(title), `</title><desc id="`, esc(id), `-desc">`, esc(desc), `</desc>`)
	if len(legend) > 0 {
		x := svgLabelW
		w(`<g class="legend">`)
		for i, l := range legend {
			w(`<rect x="`, itoa(x), `" y="8" width="12" height="12" fill="`, svgPalette[i%len(svgPalette)], `"/>`)
			w(`<text x="`, itoa(x+16), `" y="18" fill="#1b2430">`, esc(l), `</text>`)
			x += 28 + 7*len(l)
		}
		w(`</g>`)
	}
	for i, b := range bars {
		y := top + i*svgRowH
		total := b.total()
		w(`<g class="bar">`)
		w(`<text class="label" x="`, itoa(svgLabelW-8), `" y="`, itoa(y+svgBarH-5), `" text-anchor="end" fill="#1b2430">`, esc(b.Label), `</text>`)
		x := float64(svgLabelW)
		for j, s := range b.Segments {
			if s.N == 0 {
				continue
			}
			wd := float64(svgBarMax) * float64(s.N) / float64(max)
			name := b.Label
			if len(legend) > 0 {
				name += ", " + s.Label
			}
			w(`<rect x="`, svgNum(x), `" y="`, itoa(y), `" width="`, svgNum(wd), `" height="`, itoa(svgBarH), `" fill="`, svgPalette[j%len(svgPalette)], `">`,
				`<title>`, esc(name), `: `, thousands(s.N), `</title></rect>`)
			x += wd
		}
		w(`<text class="value" x="`, svgNum(x+6), `" y="`, itoa(y+svgBarH-5), `" fill="#1b2430">`, thousands(total), `</text>`)
		w(`</g>`)
	}
	w(`</svg>`)
	return template.HTML(sb.String()) // every piece of text above is escaped
}

func svgNum(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func labels(cs []transparency.Count) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Label
	}
	return out
}

func single(cs []transparency.Count) []svgBar {
	out := make([]svgBar, len(cs))
	for i, c := range cs {
		out[i] = svgBar{Label: c.Label, Segments: []svgSegment{{Label: c.Label, N: c.N}}}
	}
	return out
}

func segments(cs []transparency.Count) []svgSegment {
	out := make([]svgSegment, len(cs))
	for i, c := range cs {
		out[i] = svgSegment{Label: c.Label, N: c.N}
	}
	return out
}

// transparencyCharts draws the report's charts, in page order.
func transparencyCharts(r *transparency.Report) []template.HTML {
	n, d, a := r.Notices, r.Decisions, r.Appeals
	var cats []svgBar
	for _, c := range n.ByCategory {
		cats = append(cats, svgBar{Label: c.Label, Segments: segments(c.ByChannel)})
	}
	var acts []svgBar
	for _, x := range d.ByAction {
		acts = append(acts, svgBar{Label: x.Label, Segments: segments(x.ByGround)})
	}
	appeals := []svgBar{
		{Label: "Received", Segments: []svgSegment{{Label: "Received", N: a.Received}}},
		{Label: "Upheld", Segments: []svgSegment{{Label: "Upheld", N: a.Upheld}}},
		{Label: "Reversed", Segments: []svgSegment{{Label: "Reversed", N: a.Reversed}}},
		{Label: "Open at the end", Segments: []svgSegment{{Label: "Open at the end", N: a.OpenAtEnd}}},
	}
	var chLegend []string
	if len(n.ByCategory) > 0 {
		chLegend = labels(n.ByCategory[0].ByChannel)
	}
	var grLegend []string
	if len(d.ByAction) > 0 {
		grLegend = labels(d.ByAction[0].ByGround)
	}
	return []template.HTML{
		svgBarChart("chart-categories", "Notices received by category and channel",
			"Horizontal bars, one per category, split by channel (web form, API, email); the number after each bar is the category's total. "+thousands(n.Total)+" notices in all.", chLegend, cats),
		svgBarChart("chart-sources", "Notices received by source",
			"Horizontal bars: notices from trusted flaggers, the public and abuse networks.", nil, single(n.BySource)),
		svgBarChart("chart-actions", "Decisions by type and ground",
			"Horizontal bars, one per type of decision, split by ground (law, terms of service, none recorded); the number after each bar is the type's total. "+thousands(d.Total)+" decisions in all.", grLegend, acts),
		svgBarChart("chart-automated", "Decisions by automated help",
			"Horizontal bars: decisions made without automated means, partly and fully automated.", nil, single(d.Automated)),
		svgBarChart("chart-appeals", "Appeals",
			"Horizontal bars: appeals received, upheld and reversed in the period, and open at its end.", nil, appeals),
	}
}
