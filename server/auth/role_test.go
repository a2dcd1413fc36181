package auth

import (
	"testing"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
)

// TestRoleNamesRoundTrip checks that every role is stored under a name RoleFromName reads back.
func TestRoleNamesRoundTrip(t *testing.T) {
	for v := range commonv1.Role_name {
		r := commonv1.Role(v)
		if r == commonv1.Role_ROLE_UNSPECIFIED {
			continue
		}
		if got := RoleFromName(RoleName(r)); got != r {
			t.Errorf("RoleFromName(RoleName(%s)) = %s", r, got)
		}
	}
	if got := RoleName(commonv1.Role_ROLE_UNSPECIFIED); got != "unknown principal" {
		t.Errorf("RoleName(unspecified) = %q", got)
	}
}
