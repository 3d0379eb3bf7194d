package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckMatchesEncodingJSON(t *testing.T) {
	data := map[string]any{"time": 0.5, "<b>": "x&y", "n": 3, "list": []any{1, "a"}, "status": true}
	b, err := Check(false, data)
	require.NoError(t, err)
	assert.Equal(t, `{"status":false,"\u003cb\u003e":"x\u0026y","list":[1,"a"],"n":3,"time":0.5}`, string(b))
	_, err = Check(true, map[string]any{"nan": math.NaN()})
	assert.ErrorContains(t, err, `key "nan"`)
	_, err = Check(true, map[string]any{"big": strings.Repeat("x", MaxSize)})
	assert.ErrorContains(t, err, "over 64 KiB")
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "db", "check-00", "a b~", `q"uote`, `back\slash`, "<html>&", "tab\t", "\x7f", "é", "\u2028", "bad\xff", "\x00"}
	for b := range 256 { // every byte alone, and after a plain prefix
		cases = append(cases, string(rune(b)), "x"+string([]byte{byte(b)}))
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(AppendString(nil, s)), "%q", s)
	}
	assert.Equal(t, `[:"db"`, string(AppendString([]byte("[:"), "db")), "appends")
}

func FuzzAppendString(f *testing.F) {
	f.Add("db")
	f.Add("a\xffb<")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, encoding/json: %s", s, got, want)
		}
	})
}

func TestCleanBoundsDepthAndKeepsKeysApart(t *testing.T) {
	var deep any = 1
	for range MaxDepth + 1 {
		deep = map[string]any{"d": deep}
	}
	_, err := Clean(map[string]any{"v": deep})
	assert.ErrorContains(t, err, "more than 64 levels deep")

	var ok any = 1
	for range MaxDepth - 1 {
		ok = []any{ok}
	}
	_, err = Clean(map[string]any{"v": ok})
	assert.NoError(t, err)

	clean, err := Clean(map[string]any{"k\xff": 1, "k\xfe": 2, "k\uFFFD": 3, "status": 4})
	require.NoError(t, err)
	assert.Len(t, clean, 3, "three keys kept apart, status dropped: %v", clean)
	assert.NotContains(t, clean, "status")
}

func TestCleanMakesNestedKeysValidAndApart(t *testing.T) {
	untouched := map[string]any{"ok": 1}
	list := []any{"x", untouched}
	data := map[string]any{
		"n":    map[string]any{"k\xfe": 1, "k\xff": 2, "deep": map[string]any{"\xff": true}},
		"list": list,
		"in":   []any{map[string]any{"a\xff": 1, "a\uFFFD": 2}},
	}
	clean, err := Clean(data)
	require.NoError(t, err)
	b, err := Check(true, clean)
	require.NoError(t, err)
	want := `{"status":true,"in":[{"a?":2,"a?#2":1}],"list":["x",{"ok":1}],"n":{"deep":{"?":true},"k?":1,"k?#2":2}}`
	assert.Equal(t, strings.ReplaceAll(want, "?", "\uFFFD"), string(b))

	assert.Contains(t, data["n"], "k\xfe", "the receiver's own map is left as it was")
	assert.Same(t, &list[0], &clean["list"].([]any)[0], "a slice with nothing to clean is not copied")
	assert.Equal(t, reflect.ValueOf(untouched).Pointer(), reflect.ValueOf(clean["list"].([]any)[1]).Pointer(),
		"nor is a map")
}

func TestCleanScrubsMessages(t *testing.T) {
	dsn := "dial postgres://app:hunter2pw@db:5432/app: refused"
	clean, err := Clean(map[string]any{"error": dsn, "message": "password=hunter2pw", "warning": dsn,
		"note": "kept as is", "detail": map[string]any{"error": "nested is the receiver's own"}})
	require.NoError(t, err)
	for _, k := range []string{"error", "message", "warning"} {
		assert.NotContains(t, clean[k], "hunter2pw", k)
	}
	assert.Contains(t, clean["error"], "postgres://app:")
	assert.Equal(t, "kept as is", clean["note"])

	clean, err = Clean(map[string]any{"error": "connection refused"})
	require.NoError(t, err)
	assert.Equal(t, "connection refused", clean["error"])
}

func TestUniqueAndValidUTF8(t *testing.T) {
	assert.Equal(t, []string{"db", "db#2", "db#3", "x", "\uFFFD\uFFFD", "\uFFFD\uFFFD#2"},
		Unique([]string{"db", "db", "db", "x", "\xff\xfe", "\xfe\xff"}))
	raw, _ := json.Marshal("a\xffb\xfe\xfd")
	var want string
	require.NoError(t, json.Unmarshal(raw, &want))
	assert.Equal(t, want, ValidUTF8("a\xffb\xfe\xfd"), "the same replacement encoding/json makes")
}

func checkPostgres(context.Context) {}

func TestFuncName(t *testing.T) {
	assert.Equal(t, "wire.checkPostgres", FuncName(checkPostgres))
	assert.Equal(t, "wire.TestFuncName", FuncName(func() {}))
}

func ExampleCheck() {
	b, _ := Check(true, map[string]any{"time": 0.002, "status": false})
	fmt.Println(string(b))
	// Output: {"status":true,"time":0.002}
}
