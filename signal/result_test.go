package signal

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAppendSimpleMatchesEncodingJSON holds the fast path to encoding/json's
// own output, byte for byte.
func TestAppendSimpleMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, "", "plain", `q"<&>`, "ünï\u2028\x00", 0, -1, math.MaxInt64, int64(math.MinInt64),
		int32(-7), uint(7), uint32(math.MaxUint32), uint64(math.MaxUint64),
		0.0, math.Copysign(0, -1), 1.0, 0.1, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 1e20, 1e21, 123456789.125, -2.5e-300, math.MaxFloat64,
		math.SmallestNonzeroFloat64, float32(0.1), float32(1e-7), float32(3.4e38), float32(1e21),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		values = append(values, math.Float64frombits(r.Uint64()), float32(r.NormFloat64()*1e-6), r.NormFloat64()*1e22)
	}
	for _, v := range values {
		want, wantErr := json.Marshal(v)
		got, simple, err := appendSimple(nil, v)
		require.True(t, simple, "%T", v)
		if wantErr != nil {
			assert.Error(t, err, "%v", v)
			continue
		}
		require.NoError(t, err, "%v", v)
		assert.Equal(t, string(want), string(got), "%T %v", v, v)
	}
}

func TestAppendSimpleRefusesOtherTypes(t *testing.T) {
	for _, v := range []any{map[string]any{}, []int{1}, struct{}{}, json.Number("1"), new(int)} {
		b, simple, err := appendSimple([]byte("x"), v)
		assert.False(t, simple, "%T", v)
		assert.NoError(t, err)
		assert.Equal(t, "x", string(b))
	}
}

func TestEncodeFieldsKeepsValuesApart(t *testing.T) {
	fields, err := encodeFields(map[string]any{"a": "x", "b": 1.5, "c": map[string]int{"n": 1}, "status": "ignored"})
	require.NoError(t, err)
	require.Len(t, fields, 3)
	assert.Equal(t, Field{Key: "a", Value: json.RawMessage(`"x"`)}, fields[0])
	assert.Equal(t, Field{Key: "b", Value: json.RawMessage(`1.5`)}, fields[1])
	assert.Equal(t, Field{Key: "c", Value: json.RawMessage(`{"n":1}`)}, fields[2])
	// Values share one buffer; appending to one must not overwrite the next.
	_ = append(fields[0].Value, 'Z')
	assert.Equal(t, `1.5`, string(fields[1].Value))
}
