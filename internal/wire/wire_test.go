package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
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
