package webhook

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/server/storage"
)

// secretPrefix starts every signing secret, as the Standard Webhooks libraries expect.
const secretPrefix = "whsec_"

// secretBytes is the size of a signing key: 256 bits, within the specification's 24 to 64 bytes.
const secretBytes = 32

// newSecret returns a new signing secret, "whsec_" and the base64 of a random key.
func newSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey returns the HMAC key of a signing secret.
func secretKey(secret string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
}

// hint is the part of a secret shown to tell secrets apart.
func hint(secret string) string { return secret[:len(secretPrefix)+4] + "…" }

// KeyRing holds the keys that encrypt signing secrets at rest (AES-256-GCM). The first key encrypts; every
// key decrypts, so the key can be rotated: put the new key first, keep the old one after it, run
// "tradeassured admin rewrap-webhook-secrets", then drop the old key.
type KeyRing struct {
	primary string
	keys    map[string]cipher.AEAD
}

// ParseKeys reads a comma-separated list of base64 32-byte keys (standard or URL alphabet, padded or
// not), the first being the one that encrypts. An empty list gives a nil ring.
func ParseKeys(list string) (*KeyRing, error) {
	var r *KeyRing
	for i, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, err := decodeKey(part)
		if err != nil {
			return nil, fmt.Errorf("webhook key %d: %w", i+1, err)
		}
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		sum := sha256.Sum256(key)
		id := hex.EncodeToString(sum[:4])
		if r == nil {
			r = &KeyRing{primary: id, keys: map[string]cipher.AEAD{}}
		}
		r.keys[id] = aead
	}
	return r, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("is %d bytes; want 32 (for example: head -c 32 /dev/urandom | base64)", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("is not base64 (for example: head -c 32 /dev/urandom | base64)")
}

// NewKey returns a new random key in the form ParseKeys reads.
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// seal encrypts a secret for the endpoint id (the id is authenticated, so a ciphertext copied to another
// endpoint does not decrypt).
func (r *KeyRing) seal(endpointID, secret string) string {
	aead := r.keys[r.primary]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct := aead.Seal(nonce, nonce, []byte(secret), []byte(endpointID))
	return r.primary + ":" + base64.RawStdEncoding.EncodeToString(ct)
}

// open decrypts a sealed secret of the endpoint id.
func (r *KeyRing) open(endpointID, sealed string) (string, error) {
	id, body, ok := strings.Cut(sealed, ":")
	if !ok {
		return "", errors.New("malformed sealed secret")
	}
	aead, ok := r.keys[id]
	if !ok {
		return "", fmt.Errorf("secret is sealed with webhook key %s, which is not configured", id)
	}
	ct, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(ct) < aead.NonceSize() {
		return "", errors.New("malformed sealed secret")
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(endpointID))
	if err != nil {
		return "", fmt.Errorf("secret does not decrypt with webhook key %s", id)
	}
	return string(pt), nil
}

// current reports whether a sealed secret is sealed with the primary key.
func (r *KeyRing) current(sealed string) bool { return strings.HasPrefix(sealed, r.primary+":") }

// Rewrap re-encrypts every stored signing secret with the ring's first key and returns how many
// endpoints it changed, so that older keys can then be removed from the configuration.
func Rewrap(ctx context.Context, store *storage.Store, keys *KeyRing) (int, error) {
	if keys == nil {
		return 0, errors.New("no webhook key is configured")
	}
	n := 0
	err := store.WithTx(ctx, func(tx *ent.Tx) error {
		eps, err := tx.WebhookEndpoint.Query().All(ctx)
		if err != nil {
			return err
		}
		for _, e := range eps {
			if keys.current(e.SecretCipher) && (e.PreviousSecretCipher == "" || keys.current(e.PreviousSecretCipher)) {
				continue
			}
			u := tx.WebhookEndpoint.UpdateOne(e)
			secret, err := keys.open(e.ID, e.SecretCipher)
			if err != nil {
				return fmt.Errorf("endpoint %s: %w", e.ID, err)
			}
			u.SetSecretCipher(keys.seal(e.ID, secret))
			if e.PreviousSecretCipher != "" {
				prev, err := keys.open(e.ID, e.PreviousSecretCipher)
				if err != nil {
					return fmt.Errorf("endpoint %s: %w", e.ID, err)
				}
				u.SetPreviousSecretCipher(keys.seal(e.ID, prev))
			}
			if err := u.Exec(ctx); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return nil
		}
		// Running servers read the endpoints' new ciphers (they cache endpoints per version).
		return recordChange(ctx, tx, store.Dialect == dialect.Postgres)
	})
	return n, err
}
