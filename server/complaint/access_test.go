package complaint_test

import (
	"testing"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	"github.com/tradeassure/tradeassure/server/servertest"
)

// TestRefile refiles a dismissed complaint once with new evidence.
func TestRefile(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		pq := complaintv1.Complaint_TYPE_PRODUCT_QUALITY
		o := m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		cp := m.file(m.buyer, o, pq)
		refile := func(p *servertest.Party, c *complaintv1.Complaint, ev ...*commonv1.Evidence) (*complaintv1.Complaint, error) {
			resp, err := p.Complaints.RefileComplaint(e.Ctx, connect.NewRequest(&complaintv1.RefileComplaintRequest{
				Id: c.GetId(), Evidence: ev, Description: "new photos from the inspection"}))
			if err != nil {
				return nil, err
			}
			return resp.Msg.GetComplaint(), nil
		}
		photo := evidence(commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO)
		_, err := refile(m.buyer, cp, photo...)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)
		dismissed, err := m.decide(cp, complaintv1.Decision_OUTCOME_DISMISSED)
		if err != nil {
			t.Fatal(err)
		}
		// Filing the same complaint afresh is refused: the dismissed one is refiled instead.
		_, err = m.buyer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(o, pq, evidence(required[pq]...))))
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_COMPLAINT_ALREADY_DECIDED)
		// Only the complainant refiles; the same evidence again is not new evidence.
		_, err = refile(m.supplier, dismissed, photo...)
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		_, err = refile(m.buyer, dismissed, dismissed.GetEvidence()[0])
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED)
		again, err := refile(m.buyer, dismissed, photo...)
		if err != nil {
			t.Fatal(err)
		}
		if again.GetState() != complaintv1.Complaint_STATE_FILED || again.GetRefiledFrom() != cp.GetId() ||
			len(again.GetEvidence()) != len(required[pq])+1 || again.GetDescription() != "new photos from the inspection" ||
			!again.GetOrderEndTime().AsTime().Equal(dismissed.GetOrderEndTime().AsTime()) {
			t.Fatalf("refiled = %v", again)
		}
		if got := m.get(cp); got.GetRefiledAs() != again.GetId() {
			t.Fatalf("original refiled_as = %q", got.GetRefiledAs())
		}
		wantEvent(t, eventTypes(t, e, m.supplier, cp.GetId()), "complaint.refiled")
		_, err = refile(m.buyer, m.get(cp), evidence(commonv1.EvidenceKind_EVIDENCE_KIND_OTHER)...)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_REFILED)
		second, err := m.decide(again, complaintv1.Decision_OUTCOME_DISMISSED)
		if err != nil {
			t.Fatal(err)
		}
		_, err = refile(m.buyer, second, evidence(commonv1.EvidenceKind_EVIDENCE_KIND_OTHER)...)
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ALREADY_REFILED)
	})
}

// TestRefileAfterWindow refiles after the filing window closed: the original was filed in time.
func TestRefileAfterWindow(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		cp := m.file(m.supplier, m.cancelled(commonv1.Policy_POLICY_RETAIL), complaintv1.Complaint_TYPE_FALSE_TRANSACTION)
		dismissed, err := m.decide(cp, complaintv1.Decision_OUTCOME_DISMISSED)
		if err != nil {
			t.Fatal(err)
		}
		e.Advance(40 * day)
		if _, err := m.supplier.Complaints.RefileComplaint(e.Ctx, connect.NewRequest(&complaintv1.RefileComplaintRequest{
			Id: dismissed.GetId(), Etag: dismissed.GetEtag(), Description: "the full chat log",
			Evidence: evidence(commonv1.EvidenceKind_EVIDENCE_KIND_CHAT_LOG)})); err != nil {
			t.Fatalf("refile after the window: %v", err)
		}
	})
}

// TestAccess checks who sees and does what: the two parties and arbiters (and operators) see a
// complaint, others get NOT_FOUND or PERMISSION_DENIED; only arbiters decide; evidence comes from the
// parties while the complaint is filed; standing is read by the account itself and by staff.
func TestAccess(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		cp := m.file(m.buyer, m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE), complaintv1.Complaint_TYPE_PRODUCT_QUALITY)
		stranger, otherSupplier := e.Buyer("US"), e.Supplier(1_000_00, false)
		warehouse := e.Staff(commonv1.Role_ROLE_WAREHOUSE)
		get := func(p *servertest.Party) error {
			_, err := p.Complaints.GetComplaint(e.Ctx, connect.NewRequest(&complaintv1.GetComplaintRequest{Id: cp.GetId()}))
			return err
		}
		for _, p := range []*servertest.Party{m.buyer, m.supplier, m.arbiter, m.operator} {
			if err := get(p); err != nil {
				t.Fatalf("%s cannot read: %v", p.Account.Role, err)
			}
		}
		servertest.WantError(t, get(stranger), connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
		servertest.WantError(t, get(otherSupplier), connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
		servertest.WantError(t, get(warehouse), connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)

		list := func(p *servertest.Party, req *complaintv1.ListComplaintsRequest) []*complaintv1.Complaint {
			t.Helper()
			resp, err := p.Complaints.ListComplaints(e.Ctx, connect.NewRequest(req))
			if err != nil {
				t.Fatalf("list as %s: %v", p.Account.Role, err)
			}
			return resp.Msg.GetComplaints()
		}
		if n := len(list(stranger, &complaintv1.ListComplaintsRequest{})); n != 0 {
			t.Fatalf("a stranger lists %d complaints", n)
		}
		if n := len(list(m.supplier, &complaintv1.ListComplaintsRequest{RespondentAccountId: m.supplier.ID()})); n != 1 {
			t.Fatalf("the respondent lists %d complaints", n)
		}
		if n := len(list(m.arbiter, &complaintv1.ListComplaintsRequest{State: complaintv1.Complaint_STATE_UPHELD})); n != 0 {
			t.Fatalf("the arbiter lists %d upheld complaints", n)
		}

		for _, p := range []*servertest.Party{m.buyer, m.supplier, m.operator} {
			_, err := p.Complaints.DecideComplaint(e.Ctx, connect.NewRequest(&complaintv1.DecideComplaintRequest{
				Id: cp.GetId(), Outcome: complaintv1.Decision_OUTCOME_DISMISSED, Note: "no"}))
			servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		}

		add := func(p *servertest.Party, etag string) (*complaintv1.Complaint, error) {
			resp, err := p.Complaints.AddComplaintEvidence(e.Ctx, connect.NewRequest(&complaintv1.AddComplaintEvidenceRequest{
				Id: cp.GetId(), Etag: etag, Statement: "the goods matched the listing",
				Evidence: evidence(commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO)}))
			if err != nil {
				return nil, err
			}
			return resp.Msg.GetComplaint(), nil
		}
		_, err := add(stranger, "")
		servertest.WantError(t, err, connect.CodeNotFound, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
		_, err = add(m.arbiter, "")
		servertest.WantError(t, err, connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
		_, err = add(m.supplier, "stale")
		servertest.WantError(t, err, connect.CodeAborted, commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH)
		answered, err := add(m.supplier, cp.GetEtag())
		if err != nil {
			t.Fatal(err)
		}
		if len(answered.GetEvidence()) != len(cp.GetEvidence())+1 || len(answered.GetStatements()) != 1 ||
			answered.GetStatements()[0].GetAuthor().GetAccountId() != m.supplier.ID() ||
			answered.GetEvidence()[len(answered.GetEvidence())-1].GetAddedBy().GetRole() != commonv1.Role_ROLE_SUPPLIER {
			t.Fatalf("answered = %v", answered)
		}
		if _, err := m.decide(answered, complaintv1.Decision_OUTCOME_DISMISSED); err != nil {
			t.Fatal(err)
		}
		_, err = add(m.buyer, "")
		servertest.WantError(t, err, connect.CodeFailedPrecondition, commonv1.ErrorReason_ERROR_REASON_ILLEGAL_STATE)

		standing := func(p *servertest.Party, id string) error {
			_, err := p.Complaints.GetStanding(e.Ctx, connect.NewRequest(&complaintv1.GetStandingRequest{AccountId: id}))
			return err
		}
		for _, c := range []struct {
			p    *servertest.Party
			id   string
			code connect.Code
		}{
			{m.buyer, m.buyer.ID(), 0}, {m.supplier, m.supplier.ID(), 0}, {m.arbiter, m.supplier.ID(), 0}, {m.operator, m.buyer.ID(), 0},
			{m.buyer, m.supplier.ID(), connect.CodeNotFound}, {m.supplier, m.buyer.ID(), connect.CodeNotFound},
			{m.arbiter, m.operator.ID(), connect.CodeNotFound}, {m.arbiter, "acc_missing", connect.CodeNotFound},
			{warehouse, m.buyer.ID(), connect.CodePermissionDenied},
		} {
			err := standing(c.p, c.id)
			switch c.code {
			case 0:
				if err != nil {
					t.Fatalf("%s reading standing of %s: %v", c.p.Account.Role, c.id, err)
				}
			case connect.CodeNotFound:
				servertest.WantError(t, err, c.code, commonv1.ErrorReason_ERROR_REASON_NOT_FOUND)
			default:
				servertest.WantError(t, err, c.code, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED)
			}
		}
	})
}

// TestFileIdempotent retries a filing with its request id: one complaint; the same id with another
// request is refused.
func TestFileIdempotent(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		o := m.completed(commonv1.Policy_POLICY_TRADE_ASSURANCE)
		req := fileReq(o, complaintv1.Complaint_TYPE_SERVICE_FAILURE, evidence(required[complaintv1.Complaint_TYPE_SERVICE_FAILURE]...))
		req.RequestId = "file-1"
		first, err := m.buyer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(req))
		if err != nil {
			t.Fatal(err)
		}
		second, err := m.buyer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(req))
		if err != nil || second.Msg.GetComplaint().GetId() != first.Msg.GetComplaint().GetId() {
			t.Fatalf("retry = %v, %v", second, err)
		}
		req.Description = "something else"
		_, err = m.buyer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(req))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_REQUEST_ID_REUSED)
		// Schema validation: a type is required.
		_, err = m.buyer.Complaints.FileComplaint(e.Ctx, connect.NewRequest(fileReq(o, 0, evidence(commonv1.EvidenceKind_EVIDENCE_KIND_OTHER))))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
	})
}

// TestListPages pages through a party's complaints, newest first, with tokens bound to the filter.
func TestListPages(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		var want []string
		for i := 0; i < 3; i++ {
			c := m.file(m.buyer, m.completed(commonv1.Policy_POLICY_RETAIL), complaintv1.Complaint_TYPE_PRODUCT_QUALITY)
			want = append([]string{c.GetId()}, want...)
		}
		var got []string
		token := ""
		for {
			resp, err := m.buyer.Complaints.ListComplaints(e.Ctx, connect.NewRequest(&complaintv1.ListComplaintsRequest{
				PageSize: 1, PageToken: token, ComplainantAccountId: m.buyer.ID()}))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range resp.Msg.GetComplaints() {
				got = append(got, c.GetId())
			}
			if token == "" && resp.Msg.GetNextPageToken() != "" {
				_, err := m.buyer.Complaints.ListComplaints(e.Ctx, connect.NewRequest(&complaintv1.ListComplaintsRequest{
					PageSize: 1, PageToken: resp.Msg.GetNextPageToken(), Type: complaintv1.Complaint_TYPE_SERVICE_FAILURE}))
				servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN)
			}
			if token = resp.Msg.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(got) != 3 || got[0] != want[0] || got[2] != want[2] {
			t.Fatalf("pages = %v, want %v", got, want)
		}
		_, err := m.buyer.Complaints.ListComplaints(e.Ctx, connect.NewRequest(&complaintv1.ListComplaintsRequest{PageSize: -1}))
		servertest.WantError(t, err, connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
	})
}

// TestEvidenceLimit stops a complaint from growing past 200 pieces of evidence.
func TestEvidenceLimit(t *testing.T) {
	one(t, func(t *testing.T, e *servertest.Env) {
		m := newMarket(t, e)
		cp := m.file(m.buyer, m.completed(commonv1.Policy_POLICY_RETAIL), complaintv1.Complaint_TYPE_SERVICE_FAILURE)
		add := func(n int) error {
			kinds := make([]commonv1.EvidenceKind, n)
			for i := range kinds {
				kinds[i] = commonv1.EvidenceKind_EVIDENCE_KIND_OTHER
			}
			_, err := m.supplier.Complaints.AddComplaintEvidence(e.Ctx, connect.NewRequest(&complaintv1.AddComplaintEvidenceRequest{
				Id: cp.GetId(), Evidence: evidence(kinds...)}))
			return err
		}
		for held := len(cp.GetEvidence()); held+20 <= 200; held += 20 {
			if err := add(20); err != nil {
				t.Fatalf("add evidence at %d: %v", held, err)
			}
		}
		servertest.WantError(t, add(20), connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD)
	})
}
