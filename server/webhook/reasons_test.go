package webhook_test

import commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"

const (
	reasonDisabled = commonv1.ErrorReason_ERROR_REASON_WEBHOOK_ENDPOINT_DISABLED
	reasonEtag     = commonv1.ErrorReason_ERROR_REASON_ETAG_MISMATCH
	reasonInvalid  = commonv1.ErrorReason_ERROR_REASON_INVALID_FIELD
	reasonURL      = commonv1.ErrorReason_ERROR_REASON_WEBHOOK_URL_NOT_ALLOWED
)
