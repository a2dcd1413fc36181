// Package rulebook renders docs/rules.md, the business rules for integrators, from the values the service
// enforces: each domain's transition and timer table (its rules.go) and every policy set (server/policy).
// The prose around the tables is rules.md.tmpl. A test compares the rendered text with docs/rules.md, so
// the document cannot drift from the code; `make rules-doc` (go generate ./server/rulebook) refreshes it.
package rulebook

//go:generate go test -run TestRulesDoc -update .

import (
	"bytes"
	_ "embed"
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"time"

	"github.com/tradeassure/tradeassure/server/complaint"
	"github.com/tradeassure/tradeassure/server/dispute"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/payout"
	"github.com/tradeassure/tradeassure/server/policy"
	"github.com/tradeassure/tradeassure/server/returns"
	"github.com/tradeassure/tradeassure/server/transition"
)

//go:embed rules.md.tmpl
var text string

// Machines are the state machines the document shows, by the name the template uses.
func Machines() map[string]transition.Table {
	return map[string]transition.Table{
		"Return":     returns.Rules(),
		"Complaint":  complaint.Rules(),
		"Dispute":    dispute.Rules(),
		"Order":      order.Rules(),
		"Withdrawal": payout.Rules(),
	}
}

// Sources are the files the machines are written in, by the name the template uses; the document links
// each table to its file.
var Sources = map[string]string{
	"Return":     "server/returns/rules.go",
	"Complaint":  "server/complaint/rules.go",
	"Dispute":    "server/dispute/rules.go",
	"Order":      "server/order/rules.go",
	"Withdrawal": "server/payout/rules.go",
}

// Parameter is a field of policy.Set as the document names it.
type Parameter struct {
	Field, Label string
}

// Parameters are every field of policy.Set but its name and version, with a label each, in the order of
// the struct. A field without a label makes Render fail, so a new parameter cannot go undocumented.
var labels = map[string]string{
	"AutoConfirmAfterDelivery":      "automatic receipt confirmation after delivery",
	"NoExportAgentCapUSDMinor":      "largest order of a supplier without one-touch export",
	"CardCapUSDMinor":               "card payment cap",
	"PayLaterCapUSDMinor":           "Pay Later cap",
	"WesternUnionLimitUSDMinor":     "Western Union payments must be under",
	"TTExpectedSettle":              "T/T wire expected to settle within",
	"BankTransferSettle":            "online bank transfer expected to settle within",
	"PlatformFeeBasisPoints":        "platform fee on escrow release",
	"SoldNotShippedFreeze":          "sold-not-shipped count that freezes a supplier",
	"ShipByHorizon":                 "latest ship-by date, from the draft or change",
	"ReturnWindow":                  "return request window after receipt",
	"ReturnAnswer":                  "supplier answers a return request within",
	"ReturnShip":                    "buyer ships an approved return within",
	"ReturnConfirm":                 "supplier confirms returned goods within",
	"FreeReturnWindow":              "free-return (no reason) window after receipt",
	"FreeReturnCompensate":          "platform compensates a free return's supplier within",
	"DisputeWindow":                 "dispute window after completion",
	"DisputeResponse":               "supplier responds to a dispute within",
	"DisputeEscalateFrom":           "buyer may escalate a dispute after (never: only after the supplier rejects)",
	"DisputeAutoEscalate":           "automatic escalation of a dispute after",
	"ChargebackWindow":              "chargeback window after payment",
	"EvidenceDueHorizon":            "longest time an arbiter gives to answer an evidence request",
	"ComplaintWindow":               "complaint window after completion or cancellation",
	"ComplaintDecisionBusinessDays": "arbiter decides a complaint within",
	"TradingRestrictionHorizon":     "longest trading restriction a complaint may impose",
}

// Parameters lists policy.Set's parameters with their labels.
func Parameters() ([]Parameter, error) {
	var out []Parameter
	t := reflect.TypeOf(policy.Set{})
	for i := range t.NumField() {
		f := t.Field(i).Name
		if f == "Name" || f == "SetName" || f == "Version" || f == "EffectiveTime" {
			continue
		}
		l, ok := labels[f]
		if !ok {
			return nil, fmt.Errorf("policy parameter %s has no label in server/rulebook", f)
		}
		out = append(out, Parameter{Field: f, Label: l})
	}
	return out, nil
}

// value is a parameter of a set in words.
func value(s policy.Set, field string) string {
	v := reflect.ValueOf(s).FieldByName(field)
	switch x := v.Interface().(type) {
	case time.Duration:
		if x == 0 {
			return "none"
		}
		return s.Describe(policy.Param(field))
	case int:
		if strings.HasSuffix(field, "BusinessDays") || field == string(policy.FreeReturnCompensate) {
			return s.Describe(policy.Param(field))
		}
		return fmt.Sprint(x)
	case int64:
		switch {
		case strings.HasSuffix(field, "USDMinor") && x == 0:
			return "none"
		case strings.HasSuffix(field, "USDMinor"):
			return usd(x)
		case strings.HasSuffix(field, "BasisPoints"):
			return fmt.Sprintf("%d.%02d %%", x/100, x%100)
		}
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v.Interface())
}

// usd shows USD cents as "5,000 USD".
func usd(minor int64) string {
	whole := fmt.Sprint(minor / 100)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	if c := minor % 100; c != 0 {
		return fmt.Sprintf("%s.%02d USD", whole, c)
	}
	return whole + " USD"
}

// Render renders docs/rules.md.
func Render() (string, error) {
	params, err := Parameters()
	if err != nil {
		return "", err
	}
	sets := policy.Sets()
	machines := Machines()
	funcs := template.FuncMap{
		"machine": func(name string) (string, error) {
			t, ok := machines[name]
			if !ok {
				return "", fmt.Errorf("no machine %q", name)
			}
			src, ok := Sources[name]
			if !ok {
				return "", fmt.Errorf("no source file for machine %q", name)
			}
			return fmt.Sprintf("The steps and timers below are written in [%s](../%s).\n\n", src, src) + machineText(t, sets), nil
		},
		"policies": func() string { return policyText(params, sets) },
	}
	tpl, err := template.New("rules.md").Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	// The deadline kinds the prose names, the explicit exceptions to the tables.
	kinds := map[string]string{
		"EvidenceDue": dispute.KindEvidenceDue, "RestrictionEnd": complaint.KindRestrictionEnd,
		"WithdrawalOverdue": payout.KindOverdue,
		// Not a kind: the version the shipped sets carry.
		"ShippedVersion": policy.Current,
	}
	if err := tpl.Execute(&b, kinds); err != nil {
		return "", err
	}
	return b.String(), nil
}

func code(s string) string { return "`" + s + "`" }

func codes(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

// machineText is one machine's states, transitions and timers as Markdown.
func machineText(t transition.Table, sets []policy.Set) string {
	var b strings.Builder
	var open, final []string
	for _, st := range t.States {
		if st.Final {
			final = append(final, st.Name)
		} else {
			open = append(open, st.Name)
		}
	}
	fmt.Fprintf(&b, "States: %s (open); %s (final).\n\n", codes(open), codes(final))
	b.WriteString("| step | run by | from | to |\n|---|---|---|---|\n")
	for _, r := range t.Transitions {
		from := codes(r.From)
		if len(r.From) == 0 {
			from = "(created)"
		}
		by := r.By
		if r.Late {
			by += "; allowed after the state's timer passed"
		}
		to := code(r.To)
		if strings.HasPrefix(r.To, "(") {
			to = r.To
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Name, by, from, to)
	}
	if len(t.Timers) == 0 {
		return b.String()
	}
	b.WriteString("\nTimers (entering the state starts the timer, leaving it cancels it; when a timer blocks, a step out of " +
		"its state that is not allowed late is refused with `DEADLINE_PASSED` once the timer's time has come):\n\n")
	b.WriteString("| in state | deadline kind | blocks | runs for |")
	for _, s := range sets {
		fmt.Fprintf(&b, " %s %s |", policyName(s), s.Version)
	}
	b.WriteString(" then |\n|---|---|---|---|")
	for range sets {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for _, tm := range t.Timers {
		in := codes(tm.In)
		if tm.Only != "" {
			in += " (" + tm.Only + ")"
		}
		blocks := "no"
		if tm.Blocks {
			blocks = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |", in, code(tm.Kind), blocks, code(string(tm.After)))
		for _, s := range sets {
			fmt.Fprintf(&b, " %s |", s.Describe(tm.After))
		}
		fmt.Fprintf(&b, " %s: %s |\n", tm.OnDue, tm.Doc)
	}
	return b.String()
}

func policyName(s policy.Set) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s.Name.String(), "POLICY_")), "_", "-")
}

// policyText is every parameter of every policy set as a Markdown table.
func policyText(params []Parameter, sets []policy.Set) string {
	var b strings.Builder
	b.WriteString("| parameter | field |")
	for _, s := range sets {
		fmt.Fprintf(&b, " %s %s |", code(policyName(s)), s.Version)
	}
	b.WriteString("\n|---|---|")
	for range sets {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, p := range params {
		fmt.Fprintf(&b, "| %s | %s |", p.Label, code(p.Field))
		for _, s := range sets {
			fmt.Fprintf(&b, " %s |", value(s, p.Field))
		}
		b.WriteString("\n")
	}
	return b.String()
}
