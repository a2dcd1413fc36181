package complaint_test

import (
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	orderv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/order/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestFileEvidenceRequired files every type with all of its required evidence, and with each required kind
// missing in turn, and with none of them.
func TestFileEvidenceRequired(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		filer := map[complaintv1.Complaint_Type]*servertest.Party{
			complaintv1.Complaint_TYPE_FALSE_TRANSACTION: m.supplier,
			complaintv1.Complaint_TYPE_PRODUCT_QUALITY:   m.buyer,
			complaintv1.Complaint_TYPE_SERVICE_FAILURE:   m.buyer,
			complaintv1.Complaint_TYPE_TRANSACTION_FRAUD: m.buyer,
		}
		for typ, kinds := range required {
			cases := []struct {
				name    string
				kinds   []commonv1.EvidenceKind
				missing []commonv1.EvidenceKind
			}{{name: "none of them", kinds: []commonv1.EvidenceKind{commonv1.EvidenceKind_EVIDENCE_KIND_OTHER}, missing: kinds}}
			for i, k := range kinds {
				rest := append(append([]commonv1.EvidenceKind{}, kinds[:i]...), kinds[i+1:]...)
				cases = append(cases, struct {
					name    string
					kinds   []commonv1.EvidenceKind
					missing []commonv1.EvidenceKind
				}{name: "without " + k.String(), kinds: rest, missing: []commonv1.EvidenceKind{k}})
			}
			for _, c := range cases {
				t.Run(typ.String()+"/"+c.name, func(t *testing.T) {
					if len(c.kinds) == 0 {
						c.kinds = []commonv1.EvidenceKind{commonv1.EvidenceKind_EVIDENCE_KIND_OTHER}
					}
					_, err := filer[typ].Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(o, typ, evidence(c.kinds...))))
					servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED)
					got := servertest.Detail(err).GetMetadata()["missing_evidence_kinds"]
					var want []string
					for _, k := range c.missing {
						want = append(want, k.String())
					}
					if got != strings.Join(want, ",") {
						t.Fatalf("missing_evidence_kinds = %q, want %q", got, strings.Join(want, ","))
					}
				})
			}
			t.Run(typ.String()+"/complete", func(t *testing.T) {
				c := m.file(filer[typ], o, typ)
				if c.GetState() != complaintv1.Complaint_STATE_FILED || c.GetType() != typ || len(c.GetEvidence()) != len(kinds) {
					t.Fatalf("filed complaint = %v", c)
				}
				if c.GetComplainant().GetAccountId() != filer[typ].ID() || c.GetEvidence()[0].GetAddedBy().GetAccountId() != filer[typ].ID() {
					t.Fatalf("complainant/added_by = %v / %v", c.GetComplainant(), c.GetEvidence()[0].GetAddedBy())
				}
				respondent := m.supplier
				if filer[typ] == m.supplier {
					respondent = m.buyer
				}
				if c.GetRespondent().GetAccountId() != respondent.ID() {
					t.Fatalf("respondent = %v, want %s", c.GetRespondent(), respondent.ID())
				}
				if c.GetPolicy() != commonv1.Policy_POLICY_TRADE_ASSURANCE || !c.GetOrderEndTime().AsTime().Equal(e.Clock.Now()) {
					t.Fatalf("policy/order end = %v / %v", c.GetPolicy(), c.GetOrderEndTime())
				}
			})
		}
	})
}

// TestFileWhoMayFile checks which side may file each type, and that one filed complaint per order,
// complainant and type is open at a time.
func TestFileWhoMayFile(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.completed(commonv1.Policy_POLICY_RETAIL)
		cases := []struct {
			typ   complaintv1.Complaint_Type
			filer *servertest.Party
			ok    bool
		}{
			{complaintv1.Complaint_TYPE_FALSE_TRANSACTION, m.supplier, true},
			{complaintv1.Complaint_TYPE_FALSE_TRANSACTION, m.buyer, false},
			{complaintv1.Complaint_TYPE_PRODUCT_QUALITY, m.buyer, true},
			{complaintv1.Complaint_TYPE_PRODUCT_QUALITY, m.supplier, false},
			{complaintv1.Complaint_TYPE_SERVICE_FAILURE, m.buyer, true},
			{complaintv1.Complaint_TYPE_SERVICE_FAILURE, m.supplier, false},
			{complaintv1.Complaint_TYPE_TRANSACTION_FRAUD, m.buyer, true},
			{complaintv1.Complaint_TYPE_TRANSACTION_FRAUD, m.supplier, true},
		}
		for _, c := range cases {
			_, err := c.filer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(o, c.typ, evidence(required[c.typ]...))))
			if c.ok {
				if err != nil {
					t.Fatalf("%v by %s: %v", c.typ, c.filer.Account.Role, err)
				}
				// A second filed complaint of the same type is refused while the first is open.
				_, err = c.filer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(o, c.typ, evidence(required[c.typ]...))))
				servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN)
				continue
			}
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_COMPLAINT_TYPE_NOT_ALLOWED)
		}
		// Staff do not file complaints; a draft is no transaction; a stranger sees no order.
		_, err := m.arbiter.Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(o, complaintv1.Complaint_TYPE_TRANSACTION_FRAUD,
			evidence(required[complaintv1.Complaint_TYPE_TRANSACTION_FRAUD]...))))
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		_, err = m.supplier.Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(m.draft(commonv1.Policy_POLICY_RETAIL),
			complaintv1.Complaint_TYPE_FALSE_TRANSACTION, evidence(required[complaintv1.Complaint_TYPE_FALSE_TRANSACTION]...))))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		_, err = e.Buyer("US").Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(o, complaintv1.Complaint_TYPE_PRODUCT_QUALITY,
			evidence(required[complaintv1.Complaint_TYPE_PRODUCT_QUALITY]...))))
		servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
	})
}

// TestFileWindow files one second before and one second after the 15-day window after completion and
// after cancellation, under both policies; a running order has no window yet.
func TestFileWindow(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		for _, pol := range policies {
			for _, end := range []string{"completed", "cancelled"} {
				for _, c := range []struct {
					at time.Duration
					ok bool
				}{{15*day - time.Second, true}, {15 * day, true}, {15*day + time.Second, false}} {
					t.Run(pol.String()+"/"+end+"/"+c.at.String(), func(t *testing.T) {
						var o *orderv1.Order
						typ, filer := complaintv1.Complaint_TYPE_PRODUCT_QUALITY, m.buyer
						if end == "completed" {
							o = m.completed(pol)
						} else {
							o = m.cancelled(pol)
							typ, filer = complaintv1.Complaint_TYPE_FALSE_TRANSACTION, m.supplier
						}
						e.Advance(c.at)
						_, err := filer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(o, typ, evidence(required[typ]...))))
						if c.ok && err != nil {
							t.Fatalf("file %s after %s: %v", end, c.at, err)
						}
						if !c.ok {
							servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED)
						}
					})
				}
			}
		}
		// An order still running (paid, not shipped) can be complained about long after it started.
		o := m.paid(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		e.Advance(40 * day)
		c := m.file(m.buyer, o, complaintv1.Complaint_TYPE_SERVICE_FAILURE)
		if c.GetOrderEndTime() != nil {
			t.Fatalf("order_end_time of a running order = %v", c.GetOrderEndTime())
		}
	})
}
