"""Verifies requests signed by notifier with the `standardwebhooks` package (PyPI).

Reads conformance/signing/requests.json (written by the ignored Rust test
`record_signed_requests` in notifier-core/tests/signing.rs) and writes the library's
verdict for every case to conformance/signing/verdicts.json:
  {"name", "signature", "verdict": "valid" | "invalid", "error"}
The Rust test `the_python_library_agreed_with_every_recorded_case` compares the
verdicts with what each case expects.

The library checks `webhook-timestamp` against the current time (±5 minutes), so this
runs right after the recording (conformance/verify_signatures.sh does both).
"""

import json
import platform
import sys
from importlib.metadata import version

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verdict(case):
    body = case["body"]
    try:
        # `json_parse=False`: a GET notification has an empty body, which is not JSON;
        # the signature is what is checked here.
        Webhook(case["secret"]).verify(body, case["headers"], json_parse=False)
    except WebhookVerificationError as e:
        return "invalid", str(e)
    if body:
        json.loads(body)  # a POST body is the JSON envelope
    return "valid", None


def main(requests_path, verdicts_path):
    with open(requests_path, encoding="utf-8") as f:
        requests = json.load(f)
    cases = []
    for case in requests["cases"]:
        result, error = verdict(case)
        cases.append(
            {
                "name": case["name"],
                "signature": case["headers"]["webhook-signature"],
                "verdict": result,
                "error": error,
            }
        )
        print(f"{case['name']:32} {result:8} {error or ''}")
    out = {
        "verifier": f"standardwebhooks {version('standardwebhooks')}",
        "python": platform.python_version(),
        "requests_recorded_at": requests["recorded_at"],
        "cases": cases,
    }
    with open(verdicts_path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
