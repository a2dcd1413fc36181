package email

import "testing"

func TestNormalize(t *testing.T) {
	cases := []struct {
		a, b  string
		equal bool
	}{
		{"Jane.Doe@Example.com", "jane.doe@example.com", true},
		{"  jane.doe@example.com\t", "jane.doe@example.com", true},
		{"JANE.DOE@EXAMPLE.COM", "Jane.Doe@Example.com", true},
		{"jane.doe@example.com", "jane.doe@example.org", false},
		{"jane.doe@example.com", "janedoe@example.com", false},
		{"", "", true},
	}
	for _, c := range cases {
		if got := Equal(c.a, c.b); got != c.equal {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.equal)
		}
	}
	if got := Normalize(" Jane.Doe@Example.COM "); got != "jane.doe@example.com" {
		t.Errorf("Normalize = %q", got)
	}
}
