package testenv_test

import (
	"fmt"

	"github.com/oarepo/heartbeat/internal/testenv"
)

func ExampleHostPort() {
	url := testenv.Get("HEARTBEAT_EXAMPLE_UNSET_URL", "postgres://postgres@127.0.0.1/test")
	fmt.Println(testenv.HostPort(url, "5432"))
	// Output: 127.0.0.1:5432
}
