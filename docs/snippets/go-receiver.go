// A dlr-receiver subscriber in Go: net/http + the Standard Webhooks library
// (go get github.com/standard-webhooks/standard-webhooks/libraries).
// DLR_WEBHOOK_SECRET is the subscription's secret (whsec_…), shown when it was created or rotated.
package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func main() {
	wh, err := standardwebhooks.NewWebhook(os.Getenv("DLR_WEBHOOK_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("POST /webhooks/dlr", func(w http.ResponseWriter, r *http.Request) {
		// The raw body: the signature covers the bytes exactly as sent.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := wh.Verify(body, r.Header); err != nil {
			log.Printf("rejected: %v", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var event struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		// At least once: drop a webhook-id (= event.ID) seen before, and a message.* event whose
		// version is not higher than the last you applied for that message.
		log.Printf("verified %s: %s", event.ID, event.Type)
		w.WriteHeader(http.StatusNoContent)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:3000", nil))
}
