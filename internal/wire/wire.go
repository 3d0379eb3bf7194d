// Package wire encodes receivers' replies in heartbeat's wire format, the JSON
// of the Python library oarepo-heartbeat, and bounds what a reply may hold.
package wire

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/oarepo/heartbeat/redact"
)

// The limits on a reply's data. encoding/json recurses once per level and a
// Go stack overflow cannot be recovered, so data nested a million levels deep
// would kill the process; and a probe answer is read by a kubelet that keeps
// 10 KiB of it.
const (
	// MaxDepth is how many levels deep reply data may nest.
	MaxDepth = 64
	// MaxSize is how many bytes one check object may take encoded.
	MaxSize = 64 << 10
)

// Clean returns a reply's data ready to encode: "status" left out, its values
// checked to be no more than MaxDepth levels deep, the keys of the data and of
// every map[string]any nested in it made valid UTF-8 (a key that then collides
// with another gets "#2", "#3", … so that neither hides the other), and the
// string values of the top-level "error", "message" and "warning" scrubbed of
// secrets (redact.String): a receiver quotes its client's errors, DSNs and all.
func Clean(data map[string]any) (map[string]any, error) {
	if len(data) == 0 {
		return nil, nil
	}
	clean := make(map[string]any, len(data))
	for _, k := range sortedKeys(data) { // so that a renamed key is named the same every time
		v := data[k]
		if k == "status" {
			continue
		}
		if err := checkDepth(reflect.ValueOf(v), MaxDepth); err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		key := freeKey(clean, k, "status")
		if s, ok := v.(string); ok && (key == "error" || key == "message" || key == "warning") {
			v = redact.String(s)
		}
		clean[key], _ = cleanKeys(v)
	}
	return clean, nil
}

// cleanKeys returns v with the keys of every map[string]any in it, within
// slices too, made valid UTF-8 as Clean makes the top level's, and whether it
// changed anything. Only the maps and slices that change are copied. v must
// have passed checkDepth, which bounds the recursion.
func cleanKeys(v any) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		var changed map[string]any // the values that changed, by key
		valid := true
		for k, e := range v {
			valid = valid && utf8.ValidString(k)
			if c, ok := cleanKeys(e); ok {
				if changed == nil {
					changed = make(map[string]any)
				}
				changed[k] = c
			}
		}
		if valid && changed == nil {
			return v, false
		}
		clean := make(map[string]any, len(v))
		for _, k := range sortedKeys(v) {
			e, ok := changed[k]
			if !ok {
				e = v[k]
			}
			clean[freeKey(clean, k, "")] = e
		}
		return clean, true
	case []any:
		var clean []any
		for i, e := range v {
			if c, ok := cleanKeys(e); ok {
				if clean == nil {
					clean = slices.Clone(v)
				}
				clean[i] = c
			}
		}
		if clean != nil {
			return clean, true
		}
	}
	return v, false
}

// freeKey returns k made valid UTF-8, with "#2", "#3", … appended while that
// is a key of m or is reserved.
func freeKey(m map[string]any, k, reserved string) string {
	key := ValidUTF8(k)
	for n := 2; ; n++ {
		if _, taken := m[key]; !taken && key != reserved {
			return key
		}
		key = ValidUTF8(k) + "#" + strconv.Itoa(n)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkDepth walks v as encoding/json would and fails past left levels of
// nesting. Maps, slices, arrays, structs and pointers count as levels (an
// interface holds a value of another kind), so that a cycle ends here too
// instead of in a stack overflow.
func checkDepth(v reflect.Value, left int) error {
	if left < 0 {
		return fmt.Errorf("nested more than %d levels deep", MaxDepth)
	}
	if !v.IsValid() {
		return nil
	}
	if v.Type().Implements(marshalerType) {
		return nil // its encoding is its own, and json checks it without recursing
	}
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			return checkDepth(v.Elem(), left)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return checkDepth(v.Elem(), left-1)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := checkDepth(it.Value(), left-1); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // []byte encodes as a string
		}
		for i := range v.Len() {
			if err := checkDepth(v.Index(i), left-1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				if err := checkDepth(v.Field(i), left-1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

// Check encodes a check object: "status" first, then the data's keys
// in sorted order, each value with encoding/json. A value that cannot be
// encoded (NaN, a channel, a MarshalJSON that fails or panics) is an error
// naming its key; so is an object over MaxSize.
func Check(status bool, data map[string]any) ([]byte, error) {
	b := append(make([]byte, 0, 32), `{"status":`...)
	b = strconv.AppendBool(b, status)
	if len(data) == 0 {
		return append(b, '}'), nil
	}
	return appendData(b, data)
}

// appendData appends data's keys to an open check object, in sorted order,
// and closes it.
func appendData(b []byte, data map[string]any) (_ []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			b, err = nil, fmt.Errorf("encoding panicked: %v", v)
		}
	}()
	for _, k := range slices.Sorted(maps.Keys(data)) {
		if k == "status" {
			continue
		}
		value, err := json.Marshal(data[k])
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		b = append(AppendString(append(b, ','), k), ':')
		b = append(b, value...)
		if len(b) > MaxSize {
			return nil, fmt.Errorf("the check is over %d KiB encoded", MaxSize>>10)
		}
	}
	return append(b, '}'), nil
}

// AppendString appends s to b as a JSON string, byte for byte as
// encoding/json writes it. A check's name is nearly always plain ASCII, which
// needs only its quotes; any other string is left to encoding/json.
func AppendString(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Unique returns names made valid UTF-8 and unique: a name an earlier one
// already has becomes "name#2", "name#3", …, in order.
func Unique(names []string) []string {
	out := make([]string, len(names))
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		name = ValidUTF8(name)
		unique := name
		for n := 2; seen[unique]; n++ {
			unique = name + "#" + strconv.Itoa(n)
		}
		seen[unique] = true
		out[i] = unique
	}
	return out
}

// closureSuffix matches what the compiler appends to a closure's symbol
// (".func1", ".gowrap2", ".3", nested ones too), and a constructor's ".New".
var closureSuffix = regexp.MustCompile(`(\.(func|gowrap)?\d+)+$|\.New$`)

// FuncName derives a receiver's name from its function, for a receiver that
// is not Named and has not replied yet: "github.com/x/db.Check" becomes
// "db.Check", a closure made by postgres.New becomes "postgres". It is stable
// across runs of the same binary, which matters more here than being pretty.
func FuncName(fn any) string {
	name := "receiver"
	if f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()); f != nil {
		name = f.Name()[strings.LastIndexByte(f.Name(), '/')+1:]
	}
	for trimmed := closureSuffix.ReplaceAllString(name, ""); trimmed != name; trimmed = closureSuffix.ReplaceAllString(name, "") {
		name = trimmed
	}
	if name == "" {
		return "receiver"
	}
	return name
}

// ValidUTF8 returns s with each byte that is not valid UTF-8 replaced by
// U+FFFD, as encoding/json replaces it: a name or key made valid here is the
// one the JSON shows.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s { // an invalid byte is one utf8.RuneError
		b.WriteRune(r)
	}
	return b.String()
}
