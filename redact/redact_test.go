package redact_test

import (
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oarepo/heartbeat/redact"
)

func TestString(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{
			name: "redis.ParseURL error quotes the URL",
			in:   `parse "redis://:S3cr3t-pw@127.0.0.1:notaport/0": invalid port ":notaport" after host`,
			want: `parse "redis://:xxxxx@127.0.0.1:notaport/0": invalid port ":notaport" after host`,
		},
		{
			name: "go-elasticsearch NewClient error",
			in:   `cannot create client: cannot parse url: parse "http://elastic:changeme@es:92 00": invalid port ":92 00" after host`,
			want: `cannot create client: cannot parse url: parse "http://elastic:xxxxx@es:92 00": invalid port ":92 00" after host`,
		},
		{
			name: "URL in running text",
			in:   `dial postgres://app:hunter22@db.example:5432/app failed`,
			want: `dial postgres://app:xxxxx@db.example:5432/app failed`,
		},
		{
			name: "URL without a user keeps the empty user",
			in:   `redis://:pw@localhost:6379`,
			want: `redis://:xxxxx@localhost:6379`,
		},
		{
			name: "URL with a user and no password is left alone",
			in:   `postgres://postgres@127.0.0.1:5432/test`,
			want: `postgres://postgres@127.0.0.1:5432/test`,
		},
		{
			name: "percent-encoded password",
			in:   `postgres://app:p%40ss%3Aw%2Frd@db:5432/app`,
			want: `postgres://app:xxxxx@db:5432/app`,
		},
		{
			name: "raw @ and : in the password run to the last @",
			in:   `redis://u:p@ss:w@rd@cache:6379/0 refused`,
			want: `redis://u:xxxxx@cache:6379/0 refused`,
		},
		{
			name: "quoted URL with spaces and / in the password",
			in:   `parse "postgres://u:a b/c@d@db/app": net/url: invalid userinfo`,
			want: `parse "postgres://u:xxxxx@db/app": net/url: invalid userinfo`,
		},
		{
			name: "two URLs in one message",
			in:   `from redis://:one1@a:1 to redis://:two2@b:2`,
			want: `from redis://:xxxxx@a:1 to redis://:xxxxx@b:2`,
		},
		{
			name: "net/http already masked it",
			in:   `Get "http://elastic:***@127.0.0.1:9200/": dial tcp 127.0.0.1:9200: connect: connection refused`,
			want: `Get "http://elastic:xxxxx@127.0.0.1:9200/": dial tcp 127.0.0.1:9200: connect: connection refused`,
		},
		{
			name: "pgx DSN key/value",
			in:   `cannot parse ` + "`host=db user=app password=hunter22 dbname=app`" + `: failed to parse as DSN (invalid dsn)`,
			want: `cannot parse ` + "`host=db user=app password=xxxxx dbname=app`" + `: failed to parse as DSN (invalid dsn)`,
		},
		{
			name: "DSN single-quoted value with spaces and an escaped quote",
			in:   `host=db password='a b\'c d' user=app`,
			want: `host=db password='xxxxx' user=app`,
		},
		{
			name: "DSN double-quoted value",
			in:   `password="x y z" sslmode=disable`,
			want: `password="xxxxx" sslmode=disable`,
		},
		{
			name: "spaces around =",
			in:   `host=db password = hunter22 user=app`,
			want: `host=db password = xxxxx user=app`,
		},
		{
			name: "pwd, passwd, secret, token keys, any case",
			in:   `PWD=aaaa1 passwd=bbbb2 client_secret=cccc3 Token=dddd4 sslpassword=eeee5`,
			want: `PWD=xxxxx passwd=xxxxx client_secret=xxxxx Token=xxxxx sslpassword=xxxxx`,
		},
		{
			name: "query string",
			in:   `GET https://api.example/v1?user=a&password=hunter22&x=1#frag`,
			want: `GET https://api.example/v1?user=a&password=xxxxx&x=1#frag`,
		},
		{
			name: "query string api keys and access tokens",
			in:   `/search?api_key=k1k1k1&apikey=k2k2&access_token=t0k3n`,
			want: `/search?api_key=xxxxx&apikey=xxxxx&access_token=xxxxx`,
		},
		{
			name: "query string in a DSN URL",
			in:   `postgres://db/app?sslmode=disable&password=hunter22`,
			want: `postgres://db/app?sslmode=disable&password=xxxxx`,
		},
		{
			name: "JSON field",
			in:   `body {"user":"a","password":"p\"w d"}`,
			want: `body {"user":"a","password":"xxxxx"}`,
		},
		{
			name: "Authorization Basic header",
			in:   `Authorization: Basic ZWxhc3RpYzpjaGFuZ2VtZQ==`,
			want: `Authorization: Basic xxxxx`,
		},
		{
			name: "Authorization Bearer and ApiKey",
			in:   `authorization=Bearer abc.def.ghi; Authorization: ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==`,
			want: `authorization=Bearer xxxxx; Authorization: ApiKey xxxxx`,
		},
		{
			name: "printed http.Header",
			in:   `header map[Authorization:[Basic ZWxhc3RpYzpjaGFuZ2VtZQ==] Accept:[*/*]]`,
			want: `header map[Authorization:[Basic xxxxx] Accept:[*/*]]`,
		},
		{
			name:    "raw space in a URL password in running text needs the secret",
			in:      `dial postgres://app:pass word@db/app failed`,
			secrets: []string{"pass word"},
			want:    `dial postgres://app:xxxxx@db/app failed`,
		},
		{
			name: "bare bearer token",
			in:   `sent bearer eyJhbGciOiJIUzI1NiJ9.e30.sig to the server`,
			want: `sent bearer xxxxx to the server`,
		},
		{
			name: "WWW-Authenticate challenge stays readable",
			in:   `401: Bearer realm="security", ApiKey`,
			want: `401: Bearer realm="security", ApiKey`,
		},
		{
			name:    "literal secret anywhere",
			in:      `FATAL: the password is hunter22, really (hunter22)`,
			secrets: []string{"hunter22"},
			want:    `FATAL: the password is xxxxx, really (xxxxx)`,
		},
		{
			name:    "literal secret, percent-encoded",
			in:      `https://h/?k=a+b%26c`,
			secrets: []string{"a b&c"},
			want:    `https://h/?k=xxxxx`,
		},
		{
			name:    "literal secret, Go-quoted",
			in:      `parse "q\"uote\\d": bad`,
			secrets: []string{`q"uote\d`},
			want:    `parse "xxxxx": bad`,
		},
		{
			name:    "longest secret first",
			in:      `abcdef and abcd`,
			secrets: []string{"abcd", "abcdef"},
			want:    `xxxxx and xxxxx`,
		},
		{
			name:    "empty and short secrets are ignored",
			in:      `a plain message with pw in it`,
			secrets: []string{"", "a", "pw", "ith"},
			want:    `a plain message with pw in it`,
		},
		{
			name: "ordinary messages are untouched",
			in:   `failed to connect to ` + "`user=postgres database=test`" + `: 127.0.0.1:5432 (127.0.0.1): dial error: dial tcp 127.0.0.1:5432: connect: connection refused`,
			want: `failed to connect to ` + "`user=postgres database=test`" + `: 127.0.0.1:5432 (127.0.0.1): dial error: dial tcp 127.0.0.1:5432: connect: connection refused`,
		},
		{
			name: "password in prose without a value is untouched",
			in:   `FATAL: password authentication failed for user "heartbeat_pw" (SQLSTATE 28P01)`,
			want: `FATAL: password authentication failed for user "heartbeat_pw" (SQLSTATE 28P01)`,
		},
		{
			name: "WRONGPASS is untouched",
			in:   `WRONGPASS invalid username-password pair or user is disabled.`,
			want: `WRONGPASS invalid username-password pair or user is disabled.`,
		},
		{
			name: "user name holding @, running text",
			in:   `dial postgres://me@example.org:hunter22@db:5432/app failed`,
			want: `dial postgres://me@example.org:xxxxx@db:5432/app failed`,
		},
		{
			name: "user name holding @, space and quote inside %q",
			in:   `parse "redis://me@x \"y\":pw@cache:x/0": invalid port`,
			want: `parse "redis://me@x \"y\":xxxxx@cache:x/0": invalid port`,
		},
		{
			name: "raw ' in a URL password",
			in:   `dial postgres://app:it's-me@db/app refused`,
			want: `dial postgres://app:xxxxx@db/app refused`,
		},
		{
			name: "DSN value that opens with a quote and runs on",
			in:   "cannot parse `host=db password='ab'cd dbname=app`: failed",
			want: "cannot parse `host=db password='xxxxx' dbname=app`: failed",
		},
		{
			name: "DSN value that opens with a double quote, unquoted",
			in:   "cannot parse `host=db password=\"ab\"cd dbname=app`",
			want: "cannot parse `host=db password=\"xxxxx\" dbname=app`",
		},
		{
			name: "DSN inside %q",
			in:   `open "host=db password='a b' user=app": bad`,
			want: `open "host=db password='xxxxx' user=app": bad`,
		},
		{
			name: "JSON body inside %q",
			in:   `body "{\"user\":\"app\",\"password\":\"p w\"}" rejected`,
			want: `body "{\"user\":\"app\",\"password\":\"xxxxx\"}" rejected`,
		},
		{
			name: "Authorization header as JSON",
			in:   `headers {"Authorization":["Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="]}`,
			want: `headers {"Authorization":["xxxxx"]}`,
		},
		{
			name: "URL in a JSON string, with escapes",
			in:   `{"url":"redis://app:p\u0026\"w@cache:6379/0"}`,
			want: `{"url":"redis://app:xxxxx@cache:6379/0"}`,
		},
		{
			name: "empty string",
			in:   ``,
			want: ``,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, redact.String(tc.in, tc.secrets...))
		})
	}
}

// TestURLParseErrors feeds the standard library's own error messages through
// String, so a change in their wording shows up here.
func TestURLParseErrors(t *testing.T) {
	for _, raw := range []string{
		"postgres://app:S3cr3t-pw@db:notaport/app",
		"http://elastic:S3cr3t-pw@es host:9200",
		"redis://:S3cr3t-pw@127.0.0.1:6379/0\x7f",
		"postgres://app:S3cr3t pw@db/app",
		"postgres://app:S3cr3t-pw@[::1/app",
		`redis://:S3cr3t"pw\x@127.0.0.1:notaport/0`, // %q escapes the quote and backslash
	} {
		_, err := url.Parse(raw)
		if !assert.Error(t, err, raw) {
			continue
		}
		got := redact.Error(err)
		assert.NotContains(t, got, "S3cr3t", "from %q", err.Error())
		assert.Contains(t, got, redact.Mask)
	}
}

func TestError(t *testing.T) {
	assert.Equal(t, "", redact.Error(nil, "hunter22"))
	err := fmt.Errorf("connect: %w", errors.New("password=hunter22 rejected"))
	assert.Equal(t, "connect: password=xxxxx rejected", redact.Error(err))
	assert.Equal(t, "connect: password=xxxxx rejected", redact.Error(err, "hunter22"))
}

// TestIdempotent checks that scrubbing scrubbed text changes nothing, so a
// message that passes through two layers reads the same.
func TestIdempotent(t *testing.T) {
	for _, in := range []string{
		`parse "redis://:S3cr3t-pw@127.0.0.1:notaport/0": invalid port`,
		`host=db password='a b' user=app`,
		`?password=x&token=y Authorization: Basic abc`,
	} {
		once := redact.String(in, "S3cr3t-pw")
		assert.Equal(t, once, redact.String(once, "S3cr3t-pw"))
	}
}

func ExampleString() {
	msg := `parse "redis://:S3cr3t-pw@127.0.0.1:notaport/0": invalid port ":notaport" after host`
	fmt.Println(redact.String(msg))
	fmt.Println(redact.String("host=db user=app password='a b' dbname=app"))
	fmt.Println(redact.String("server said: hunter22 is wrong", "hunter22"))
	// Output:
	// parse "redis://:xxxxx@127.0.0.1:notaport/0": invalid port ":notaport" after host
	// host=db user=app password='xxxxx' dbname=app
	// server said: xxxxx is wrong
}

func ExampleError() {
	err := fmt.Errorf("open cache: %w", errors.New(`parse "redis://:pw@cache:x/0": invalid port`))
	fmt.Println(redact.Error(err))
	// Output: open cache: parse "redis://:xxxxx@cache:x/0": invalid port
}

// TestStringHidesWhatURLParseQuotesBack feeds String the standard library's
// own messages for URLs whose password makes net/url quote a piece of it back.
func TestStringHidesWhatURLParseQuotesBack(t *testing.T) {
	cases := []struct {
		name, url, pw, want string
	}{
		{"bad escape in the password", "postgres://#:%zz@db:5432/app", "%zz",
			`parse "postgres://#:xxxxx@db:5432/app": invalid URL escape "xxxxx"`},
		{"user name ending in a percent", "postgres://#%:é@db:5432/app", "é",
			`parse "postgres://#%:xxxxx@db:5432/app": invalid URL escape "xxxxx"`},
		{"slash in the password cuts the authority", "redis://app:pw/secret@cache:6379/0", "pw",
			`parse "redis://app:xxxxx@cache:6379/0": invalid port "xxxxx" after host`},
		{"bracketed host cut out of the password", "postgres://[:zz]/x@db:5432/app", "zz",
			`parse "postgres://[:xxxxx@db:5432/app": invalid host: ParseAddr("xxxxx"): each colon-separated field must have at least one digit (at "xxxxx")`},
		{"a port the masked URL still shows", "redis://app:hunter22@cache:notaport/0", "hunter22",
			`parse "redis://app:xxxxx@cache:notaport/0": invalid port ":notaport" after host`},
		{"a bad escape in the path", "http://es:9200/a%zz", "",
			`parse "http://es:9200/a%zz": invalid URL escape "%zz"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := url.Parse(c.url)
			if !assert.Error(t, err) {
				return
			}
			got := redact.Error(err)
			assert.Equal(t, c.want, got)
			if c.pw != "" {
				assert.NotContains(t, got, c.pw)
			}
		})
	}
}
