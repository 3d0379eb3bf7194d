package redact_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oarepo/heartbeat/redact"
)

// leak is one way a password reaches an error message.
type leak struct {
	name string
	// text puts the password into a message; form is how the password is
	// spelled there (raw, quoted, percent-encoded, …).
	text func(pw string) (text, form string)
	// ok says whether pw can be spelled this way at all.
	ok func(pw string) bool
}

// libpqQuote quotes a DSN value as libpq reads it: 'it\'s'.
func libpqQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// plainDSNValue reports whether a DSN value needs no quotes.
func plainDSNValue(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\n\r\v\f'\"\\`")
}

func always(string) bool { return true }

// token68 maps pw onto the characters of an HTTP token (RFC 7235), the way
// a bearer token or an API key looks.
func token68(pw string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
	b := make([]byte, len(pw))
	for i := range len(pw) {
		b[i] = alphabet[int(pw[i])%len(alphabet)]
	}
	return string(b)
}

var leaks = []leak{
	{"dsn", func(pw string) (string, string) {
		form := pw
		if !plainDSNValue(pw) {
			form = libpqQuote(pw)
		}
		return "cannot parse `host=db.internal port=5432 user=app password=" + form + " dbname=test sslmode=disable`: failed", form
	}, always},
	{"dsn-quoted", func(pw string) (string, string) {
		form := libpqQuote(pw)
		return "connect: host=db.internal user=app password=" + form + " dbname=test", form
	}, always},
	{"url", func(pw string) (string, string) {
		u := url.URL{Scheme: "postgres", User: url.UserPassword("app", pw), Host: "db.internal:5432", Path: "/test", RawQuery: "sslmode=disable"}
		form := strings.TrimPrefix(url.UserPassword("", pw).String(), ":")
		return "dial " + u.String() + ": connection refused", form
	}, always},
	{"url-no-user", func(pw string) (string, string) {
		u := url.URL{Scheme: "redis", User: url.UserPassword("", pw), Host: "127.0.0.1:6379", Path: "/0"}
		form := strings.TrimPrefix(url.UserPassword("", pw).String(), ":")
		return "redis: " + u.String() + " unreachable", form
	}, always},
	{"url-quoted", func(pw string) (string, string) {
		// As url.Parse and redis.ParseURL print the URL they reject.
		raw := "redis://:" + pw + "@127.0.0.1:x/0"
		return fmt.Sprintf("parse %q: invalid port \":x\" after host", raw), strings.Trim(strconv.Quote(pw), `"`)
	}, always},
	{"query", func(pw string) (string, string) {
		form := url.QueryEscape(pw)
		return "GET https://es.internal:9200/_cluster/health?api_key=" + form + "&pretty: 401 Unauthorized", form
	}, always},
	{"query-password", func(pw string) (string, string) {
		form := url.QueryEscape(pw)
		return "GET http://search.internal/status?user=app&password=" + form + ": timeout", form
	}, always},
	{"basic-auth", func(pw string) (string, string) {
		form := base64.StdEncoding.EncodeToString([]byte("app:" + pw))
		return "request headers: Authorization: Basic " + form + ", Accept: */*", form
	}, always},
	{"bearer", func(pw string) (string, string) {
		form := token68(pw)
		return "upstream said 401 to Authorization: Bearer " + form, form
	}, func(pw string) bool { return len(pw) >= 8 }},
	{"bare-bearer", func(pw string) (string, string) {
		form := token68(pw)
		return "token rejected: Bearer " + form + " is expired", form
	}, func(pw string) bool { return len(pw) >= 8 }},
	{"json", func(pw string) (string, string) {
		b, _ := json.Marshal(pw)
		form := string(b[1 : len(b)-1])
		return `config {"user":"app","password":"` + form + `","host":"db"}`, form
	}, always},
}

// FuzzStringHidesPasswords puts a password into every kind of message the
// scrubber knows, and checks that redact.String leaves none of it, in the
// spelling it was written in, and also hides it when passed as a literal
// secret.
//
//	go test -run '^$' -fuzz '^FuzzStringHidesPasswords$' -fuzztime 30s ./redact
func FuzzStringHidesPasswords(f *testing.F) {
	for _, pw := range []string{
		"hunter22", "s3cr3t!", "p@ss:word/x", "with space", `it's "quoted"`, `back\slash`, "pässwörd",
		"a&b=c#d?e", "%41%zz", "x@y@z", "tab\there", "nl\nhere", "emoji🔑key", "ends=", "xxxxx1", "Bearer abc",
	} {
		for i := range leaks {
			f.Add(pw, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, pw string, kind uint8) {
		l := leaks[int(kind)%len(leaks)]
		if pw == "" || !l.ok(pw) {
			t.Skip("no password to hide")
		}
		if strings.Contains(pw, redact.Mask) || strings.Contains(redact.Mask, pw) {
			t.Skip("the scrubbed message spells the mask, which is this password")
		}
		text, form := l.text(pw)
		// A form that the message spells anyway, without the password, or
		// that the mask itself contains, is no leak: "ost" is in "host".
		without, _ := l.text("")
		if strings.Contains(without, form) || strings.Contains(strings.ReplaceAll(text, form, redact.Mask), form) {
			t.Skip("the password is part of the message's own words")
		}
		out := redact.String(text)
		assert.NotContains(t, out, form, "%s: %q\nscrubbed: %q", l.name, text, out)

		// Passed as a literal secret it goes in every spelling, whatever
		// the context.
		plain := "login failed: wrong credentials " + pw + " for app"
		if len(pw) >= redact.MinSecretLen && !strings.Contains(strings.ReplaceAll(plain, pw, redact.Mask), pw) {
			assert.NotContains(t, redact.String(plain, pw), pw, "literal secret in %q", plain)
		}
	})
}
