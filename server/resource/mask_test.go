package resource

import (
	"testing"
	"unicode/utf8"
)

func TestMaskAccount(t *testing.T) {
	cases := []struct{ in, mask, last4 string }{
		{"", "", ""},
		{"1234", "1234", "1234"},                 // four characters: nothing to hide
		{"12345", "*2345", "2345"},               // five: one hidden
		{"FR76 é 1234", "*******1234", "1234"},   // é before the last four
		{"Aé123", "*é123", "é123"},               // é among the last four, shown whole
		{"DE89 😀😀 9876", "********9876", "9876"}, // emoji before the last four
		{"😀12😀", "😀12😀", "😀12😀"},                 // four runes, eight bytes more than four
		{"BANK😀😀😀😀😀", "*****😀😀😀😀", "😀😀😀😀"},         // emoji in the tail
		{"acct\xff\xfe1234", "******1234", "1234"}, // bytes that are not UTF-8, hidden
		{"123\xff", "123\uFFFD", "123\uFFFD"},      // … or shown as U+FFFD
	}
	for _, c := range cases {
		if got := MaskAccount(c.in); got != c.mask || !utf8.ValidString(got) {
			t.Errorf("MaskAccount(%q) = %q, want %q", c.in, got, c.mask)
		}
		if got := AccountLast4(c.in); got != c.last4 || !utf8.ValidString(got) {
			t.Errorf("AccountLast4(%q) = %q, want %q", c.in, got, c.last4)
		}
	}
}
