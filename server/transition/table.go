package transition

import "github.com/tradeassure/tradeassure/server/policy"

// Table is a machine written out for people: what server/rulebook renders into docs/rules.md and what
// the domains' specification tests walk.
type Table struct {
	Subject     string
	States      []State
	Transitions []Row
	Timers      []TimerRow
}

// State is one state of a table; a state is final when no transition leaves it.
type State struct {
	Name  string
	Final bool
}

// Row is one transition of a table.
type Row struct {
	Name string
	By   string
	From []string
	To   string
	Late bool
}

// TimerRow is one timer of a table.
type TimerRow struct {
	Kind   string
	In     []string
	Blocks bool
	After  policy.Param
	Only   string
	OnDue  string
	Doc    string
}

// Table writes the machine out.
func (m *Machine[S, R, M]) Table() Table {
	t := Table{Subject: m.Subject}
	for _, st := range m.States {
		t.States = append(t.States, State{Name: m.Name(st), Final: !m.Open(st)})
	}
	for _, tr := range m.transitions {
		row := Row{Name: tr.Name, By: tr.By, To: m.Name(tr.To), Late: tr.Late}
		switch {
		case tr.Stays:
			row.To = "(unchanged)"
		case tr.ToDoc != "":
			row.To = tr.ToDoc
		}
		for _, f := range tr.From {
			row.From = append(row.From, m.Name(f))
		}
		t.Transitions = append(t.Transitions, row)
	}
	for _, tm := range m.timers {
		row := TimerRow{Kind: tm.Kind, After: tm.After, Only: tm.Only, OnDue: tm.OnDue.Name, Doc: tm.Doc, Blocks: tm.Blocks}
		for _, st := range tm.In {
			row.In = append(row.In, m.Name(st))
		}
		t.Timers = append(t.Timers, row)
	}
	return t
}
