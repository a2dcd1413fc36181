package events_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/events"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestPartyPageKeepsToItsParty checks a party's feed pages at the edges of its index range: among events
// of accounts whose ids sort just before and just after the party's (a prefix of it, the id with a
// character added, its neighbours by one character), paged two at a time, the party reads exactly its
// own events, each once, in feed order — on SQLite and on Postgres, where the page is asked for as a
// range of the index.
func TestPartyPageKeepsToItsParty(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		buyer := e.Buyer("US")
		id := buyer.ID()
		last := id[len(id)-1]
		neighbours := []string{id[:len(id)-1], id + "0", id[:len(id)-1] + string(last-1), id[:len(id)-1] + string(last+1), id + "~"}
		var want []string
		err := e.Store.WithTx(e.Ctx, func(tx *ent.Tx) error {
			for i := range 9 {
				parties := []string{neighbours[i%len(neighbours)]}
				if i%3 == 0 {
					parties = append(parties, id)
				}
				subject := fmt.Sprintf("ord_party_%d", i)
				if err := e.Server.Feed.Append(e.Ctx, tx, events.Event{Type: "order.changed", SubjectType: "order", SubjectID: subject,
					Revision: 1, Time: e.Clock.Now(), Actor: auth.System, Parties: parties, Payload: &eventv1.Event{}}); err != nil {
					return err
				}
				if slices.Contains(parties, id) {
					want = append(want, subject)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		after := ""
		for pages := 0; pages < 10; pages++ {
			resp, err := buyer.Events.ListEvents(e.Ctx, connect.NewRequest(&eventv1.ListEventsRequest{AfterId: after, PageSize: 2}))
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range resp.Msg.GetEvents() {
				got = append(got, ev.GetSubjectId())
			}
			if len(resp.Msg.GetEvents()) == 0 {
				break
			}
			after = resp.Msg.GetNextAfterId()
		}
		// The buyer's own account events (its creation) come first; the appended ones follow in order.
		var appended []string
		for _, s := range got {
			if strings.HasPrefix(s, "ord_party_") {
				appended = append(appended, s)
			}
		}
		if !slices.Equal(appended, want) {
			t.Fatalf("party %s read %v, want %v (every event read: %v)", id, appended, want, got)
		}
	})
}
