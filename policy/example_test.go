package policy_test

import (
	"fmt"
	"time"

	"github.com/assignd/assignd/policy"
)

// Example parses a policy, decides two callbacks with it and prints the
// replies TaskRouter would get: what serve does for every assignment
// callback.
func Example() {
	p, err := policy.Parse("example.yaml", []byte(`version: 1
rules:
  - name: spanish
    when: task.language == "es" AND worker.languages HAS "es"
    instruction: dequeue
    params:
      from: "+15005550006"
      to: "{{worker.contact_uri}}"
      timeout: 20
  - name: default
    instruction: accept
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	worker := map[string]any{"languages": []any{"en", "es"}, "contact_uri": "client:alice"}
	at := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	for _, task := range []map[string]any{{"language": "es"}, {"language": "fr"}} {
		d := p.Decide(&policy.Input{Task: task, Worker: worker, Callback: map[string]any{}, Now: at})
		fmt.Printf("%s (%s): %s\n", d.Rule, d.Mode, d.JSON)
	}
	// Output:
	// spanish (respond): {"instruction":"dequeue","from":"+15005550006","to":"client:alice","timeout":20}
	// default (respond): {"instruction":"accept"}
}
