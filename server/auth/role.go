package auth

import commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"

// roleNames are the stored names of the roles: actor roles on timelines, approvals and penalties, and the
// words messages use for them. RoleFromName is the inverse.
var roleNames = map[commonv1.Role]string{
	commonv1.Role_ROLE_BUYER:     "buyer",
	commonv1.Role_ROLE_SUPPLIER:  "supplier",
	commonv1.Role_ROLE_ARBITER:   "arbiter",
	commonv1.Role_ROLE_WAREHOUSE: "warehouse",
	commonv1.Role_ROLE_OPERATOR:  "operator",
	commonv1.Role_ROLE_SYSTEM:    "system",
}

// RoleName is the stored name of a role ("buyer"), or "unknown principal" for none.
func RoleName(r commonv1.Role) string {
	if n, ok := roleNames[r]; ok {
		return n
	}
	return "unknown principal"
}
