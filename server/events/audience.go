package events

import (
	"entgo.io/ent/dialect/sql"

	entevent "github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/ent/eventparty"
	"github.com/tradeassure/tradeassure/ent/predicate"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/auth"
)

// Audience is who reads events: the feed's one visibility rule. Operators see every event, arbiters the
// events of the subjects they rule on, and everyone else the events of the objects they are a party to.
// ListEvents and WatchEvents query with Predicate; webhook endpoints receive an appended event when
// their owner's audience Sees it, so an endpoint gets exactly what its owner would read in the feed.
type Audience struct {
	Role      commonv1.Role
	AccountID string
}

// AudienceOf is the audience of a principal.
func AudienceOf(p auth.Principal) Audience { return Audience{Role: p.Role, AccountID: p.AccountID} }

// arbiterSubjects are the subjects arbiters follow.
var arbiterSubjects = []string{"dispute", "complaint"}

// Predicate is the rule as a condition on stored events.
func (a Audience) Predicate() predicate.Event {
	switch a.Role {
	case commonv1.Role_ROLE_OPERATOR:
		return func(*sql.Selector) {}
	case commonv1.Role_ROLE_ARBITER:
		return entevent.SubjectTypeIn(arbiterSubjects...)
	}
	if a.AccountID == "" {
		return entevent.IDLT(0)
	}
	return func(s *sql.Selector) {
		t := sql.Table(eventparty.Table)
		s.Where(sql.In(s.C(entevent.FieldID), sql.Select(t.C(eventparty.FieldEventID)).From(t).
			Where(sql.EQ(t.C(eventparty.FieldAccountID), a.AccountID))))
	}
}

// isParty reports whether the audience reads as a party: its own rows of event_parties.
func (a Audience) isParty() bool {
	return a.Role != commonv1.Role_ROLE_OPERATOR && a.Role != commonv1.Role_ROLE_ARBITER && a.AccountID != ""
}

// Sees is the rule applied to an event as it is appended: its subject type and the parties it names.
func (a Audience) Sees(subjectType string, parties []string) bool {
	switch a.Role {
	case commonv1.Role_ROLE_OPERATOR:
		return true
	case commonv1.Role_ROLE_ARBITER:
		for _, s := range arbiterSubjects {
			if s == subjectType {
				return true
			}
		}
		return false
	}
	if a.AccountID == "" {
		return false
	}
	for _, id := range parties {
		if id == a.AccountID {
			return true
		}
	}
	return false
}
