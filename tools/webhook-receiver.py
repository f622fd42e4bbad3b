"""A webhook receiver for trying storefront's webhooks on one machine.

    .venv/bin/python tools/webhook-receiver.py PORT SECRET

Listens on http://127.0.0.1:PORT/ and verifies every POST with the official Standard Webhooks
library (PyPI `standardwebhooks`) and the endpoint's `whsec_` secret, as a real receiver
should. A delivery that verifies is answered 200 and printed as one line:
`verified <event type> <event id> <subject type>:<subject id>`; any other request is answered
400 and printed as `refused: <why>`.
"""

import http.server
import json
import sys

import standardwebhooks


def main() -> None:
    port, secret = int(sys.argv[1]), sys.argv[2]
    verifier = standardwebhooks.Webhook(secret)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                event = verifier.verify(body, dict(self.headers.items()))
            except (standardwebhooks.WebhookVerificationError, ValueError) as refused:
                print(f"refused: {refused}", flush=True)
                self.send_response(400)
            else:
                subject = event.get("subject", {})
                print(f"verified {event['type']} {event['id']} {subject.get('type')}:{subject.get('id')}", flush=True)
                self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:  # one line per delivery is printed above
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
