package transparency

// Definition is one entry of the methodology: what a figure counts.
type Definition struct {
	Term, Text string
}

// Methodology says exactly what every figure counts. The page shows it; the
// test in this package checks the figures against independent queries that
// follow these sentences.
var Methodology = []Definition{
	{"Period", "From 00:00 UTC on the start date up to, but not including, 00:00 UTC on the end date. A figure counts an event when the moment it happened falls in the period; the state of things afterwards (a decision reversed later, an appeal still open) is as of the time the report was generated."},
	{"Notices received", "Every report received in the period, through any channel, about anything: also those about sites we do not host and repeats of an earlier notice (shown separately by status, not left out). One notice names one URL; a form submission with several URLs counts once per URL."},
	{"Status", "Filed: the notice joined or opened a case. Not hosted: it named a site we do not serve, so no case was opened. Duplicate: the same reporter had already reported the same URL and category within the deduplication window; it follows the original's case."},
	{"Source", "Trusted flaggers are reporters registered as such (they file through the API with a key). Public: anyone through the form. Abuse networks: automated email feeds (ARF, X-ARF)."},
	{"Channel", "Web form, API or email: how the notice arrived."},
	{"Decisions", "Every decision that became final in the period (the moment it took effect: at once for most, at the last sign-off for a termination, at once for an emergency restriction), whatever happened to it later. Reinstatements — the decisions that undo a restriction or termination after a reversal — are not decisions about content and are counted on their own."},
	{"Type", "No action, warning, interstitial warning page, URLs blocked, site restricted (all of it) or service terminated. The three restrictions are the measures of a restrict decision."},
	{"Ground", "Illegal content: the decision rests on the law. Terms of service: it rests on our contract with the customer. No ground recorded: decisions that restrict nothing (no action) and decisions made before the ground was recorded."},
	{"Later reversed / revoked", "Of the decisions counted, those reversed since (by a senior reviewer or on appeal) and the emergency restrictions revoked at sign-off. They stay counted under their type: they were taken."},
	{"Median time to decision", "For each decision counted, the time from the first notice received on its case to the moment the decision became final; the median of those times (for an even count, the mean of the two middle values). Decisions on a case that has no notice left (all moved to other cases) are not measured. Median time to action is the same over warnings, restrictions and terminations only."},
	{"Automated help", "Whether automated means took part in a decision, as recorded with it: none, partly or fully. The share is the decisions partly or fully automated among all decisions counted, in percent rounded to one decimal."},
	{"Appeals received", "Appeals filed in the period, by customers (against a warning, restriction or termination) and by reporters (against a decision not to act)."},
	{"Upheld / reversed", "Appeals decided in the period, whenever they were filed: upheld means the decision stands, reversed means it was undone. Open at the end: filed before the end of the period and not decided by then."},
	{"Median appeal time", "For each appeal decided in the period, the time from filing to the decision; the median of those times."},
	{"CSV layout", "One figure per line: section,key,subkey,value. Sections: period (from, to), notices (total; status, source and channel by subkey), notices_by_category (key: category; subkey: total or a channel), notices_by_category_source (key: category; subkey: a source), decisions (total; ground and automated by subkey; automated_share_percent; later_reversed; later_revoked; reinstatements; median_time_to_decision_seconds and median_time_to_action_seconds, with their count as subkey count), decisions_by_action (key: type; subkey: total or a ground), appeals (received; received_by by subkey; upheld; reversed; open_at_end; median_time_to_decide_seconds and its count). An empty value is a median or share with nothing to measure. New figures only add lines; the JSON file holds the same figures."},
}
