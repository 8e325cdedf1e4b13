//! Standard Webhooks signatures, checked by implementations that share no code with
//! `notifier_core::signing`:
//!
//! * a verifier written from the spec (<https://www.standardwebhooks.com/>), in
//!   `notifier_test_support::webhooks` (the root crate's tests use it too): HMAC-SHA256
//!   built by hand on the `sha2` hash per RFC 2104 (checked here against the RFC 4231
//!   vectors), its own base64, constant-time comparison, a ±5 minute timestamp window,
//!   `webhook-signature` parsed as space-separated `v1,<base64>` entries;
//! * the `standardwebhooks` package from PyPI, through recordings: the ignored test
//!   `record_signed_requests` writes requests our code signed (and tampered, stale and
//!   mis-keyed ones) to `conformance/signing/requests.json`,
//!   `conformance/verify_signatures.sh` runs the Python library over them and stores
//!   its verdicts in `conformance/signing/verdicts.json`, and
//!   `the_python_library_agreed_with_every_recorded_case` checks them.
//!
//! Requests are received by real HTTP and HTTPS servers on 127.0.0.1.

mod common;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{DefExt, http};
use notifier_core::signing::SigningKey;
use notifier_core::{Event, Notifier, Outcome};
use notifier_test_support::{Recorded, Reply, Sink};
use serde_json::{Value, json};

/// The example secret of the Standard Webhooks documentation.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

use notifier_test_support::webhooks as spec;
use spec::{Rejected, Verifier};

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn header_of(r: &Recorded) -> impl Fn(&str) -> Option<String> + '_ {
    |name| r.header(name).map(str::to_owned)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn hand_written_hmac_matches_rfc_4231() {
    // RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (case 5 is about truncated output).
    let cases: [(Vec<u8>, Vec<u8>, &str); 6] = [
        (vec![0x0b; 20], b"Hi There".to_vec(), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (vec![0xaa; 20], vec![0xdd; 50], "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ((1..=25).collect(), vec![0xcd; 50], "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (
            vec![0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            vec![0xaa; 131],
            b"This is a test using a larger than block-size key and a larger than block-size data. The key needs \
              to be hashed before being used by the HMAC algorithm."
                .to_vec(),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (i, (key, data, mac)) in cases.iter().enumerate() {
        assert_eq!(spec::hmac_sha256(key, data).to_vec(), unhex(mac), "RFC 4231 case #{i}");
    }
}

#[test]
fn hand_written_base64_matches_rfc_4648() {
    for (raw, encoded) in
        [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")]
    {
        assert_eq!(spec::b64encode(raw.as_bytes()), encoded);
        assert_eq!(spec::b64decode(encoded).unwrap(), raw.as_bytes());
        assert_eq!(spec::b64decode(encoded.trim_end_matches('=')).unwrap(), raw.as_bytes(), "unpadded");
    }
    assert_eq!(spec::b64decode("Zm9v!"), None);
}

#[test]
fn the_verifier_follows_the_spec() {
    // The worked example of the Standard Webhooks documentation.
    let v = Verifier::new(SECRET);
    let (id, ts, body) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
    assert_eq!(v.sign(id, ts, body), "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    let headers = |sig: &'static str, ts: i64| {
        move |name: &str| match name {
            "webhook-id" => Some(id.to_owned()),
            "webhook-timestamp" => Some(ts.to_string()),
            "webhook-signature" => Some(sig.to_owned()),
            _ => None,
        }
    };
    let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert_eq!(v.verify(headers(good, ts), body, ts), Ok(()));
    assert_eq!(v.verify(headers("v1,bm9wZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", ts), body, ts), Ok(()));
    assert_eq!(v.verify(headers(good, ts), br#"{"test": 2432232315}"#, ts), Err(Rejected::NoMatchingSignature));
    assert_eq!(v.verify(headers(good, ts), body, ts + 301), Err(Rejected::TooOld));
    assert_eq!(v.verify(headers(good, ts), body, ts - 301), Err(Rejected::TooNew));
    assert_eq!(v.verify(headers(good, ts), body, ts + 300), Ok(()), "the window is inclusive");
    assert_eq!(
        v.verify(headers("v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", ts), body, ts),
        Err(Rejected::NoMatchingSignature),
        "only v1 entries count"
    );
    assert_eq!(v.verify(|_| None, body, ts), Err(Rejected::MissingHeaders));
    assert_eq!(Verifier::new("whsec_c2VjcmV0").verify(headers(good, ts), body, ts), Err(Rejected::NoMatchingSignature));
    // Our signer agrees on the example (the unit test does too; this is the other side).
    assert_eq!(SigningKey::from_secret(SECRET).unwrap().sign(id, ts, body), good);
}

#[test]
fn https_notifications_verify_and_tampering_is_rejected() {
    let sink = Sink::start_tls(|_, _| Reply::ok());
    let n = Notifier::builder(vec![http(&sink.url("/signed")).insecure().signed(SECRET)]).build();
    for event in [Event::RunStarted, Event::RunFailed] {
        let report = n.notify(event, json!({"title": "signed", "unicode": "caf\u{e9}"}), Some(json!("boom")));
        assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    }
    let v = Verifier::new(SECRET);
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        let at = now();
        assert_eq!(v.verify(header_of(r), &r.body, at), Ok(()), "{r:?}");
        let ts: i64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
        assert!((at - ts).abs() <= 60, "the timestamp is the time of the attempt");
        // The body changed by one byte.
        let mut tampered = r.body.clone();
        let last = tampered.len() - 2;
        tampered[last] ^= 1;
        assert_eq!(v.verify(header_of(r), &tampered, at), Err(Rejected::NoMatchingSignature));
        // The same request replayed six minutes later, or received from the future.
        assert_eq!(v.verify(header_of(r), &r.body, ts + 360), Err(Rejected::TooOld));
        assert_eq!(v.verify(header_of(r), &r.body, ts - 360), Err(Rejected::TooNew));
        // An old timestamp put in the header breaks the signature, and a signature made
        // for an old timestamp is refused for its age.
        let old = ts - 3600;
        let stale = |name: &str| if name == "webhook-timestamp" { Some(old.to_string()) } else { header_of(r)(name) };
        assert_eq!(v.verify(stale, &r.body, old), Err(Rejected::NoMatchingSignature));
        let resigned = format!("v1,{}", v.sign(r.header("webhook-id").unwrap(), old, &r.body));
        let stale = |name: &str| match name {
            "webhook-timestamp" => Some(old.to_string()),
            "webhook-signature" => Some(resigned.clone()),
            _ => header_of(r)(name),
        };
        assert_eq!(v.verify(stale, &r.body, old), Ok(()), "valid when it was made");
        assert_eq!(v.verify(stale, &r.body, at), Err(Rejected::TooOld));
    }
    assert_ne!(reqs[0].header("webhook-id"), reqs[1].header("webhook-id"), "one id per event");
    assert!(Verifier::new("whsec_b3RoZXIgc2VjcmV0").verify(header_of(&reqs[0]), &reqs[0].body, now()).is_err());
}

#[test]
fn retries_keep_the_id_and_sign_each_attempt() {
    // 500, 500, then 200: three attempts of one event, then a second event.
    let sink = Sink::with(|_, i| if i < 2 { Reply::status(500) } else { Reply::ok() });
    let n = Notifier::builder(vec![http(&sink.url("/retried")).signed(SECRET).retries(2)]).build();
    let report = n.notify(Event::RunFailed, json!({"n": 1}), None);
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    assert_eq!(report.channels[0].attempts, 3);
    n.notify(Event::RunDeviated, json!({"n": 2}), None);
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 4);
    let v = Verifier::new(SECRET);
    for r in &reqs {
        assert_eq!(v.verify(header_of(r), &r.body, now()), Ok(()));
    }
    let ids: Vec<&str> = reqs.iter().map(|r| r.header("webhook-id").unwrap()).collect();
    assert!(ids[0].starts_with("msg_"));
    assert!(ids[..3].iter().all(|id| *id == ids[0]), "the idempotency key is the same for every attempt: {ids:?}");
    assert_ne!(ids[3], ids[0], "another event, another id");
}

#[test]
fn background_mode_gets_one_id_per_event() {
    let sink = Sink::start();
    let n = Notifier::builder(vec![http(&sink.url("/bg")).signed(SECRET)]).background(true).build();
    for i in 0..5 {
        n.notify(Event::RunStarted, json!({ "i": i }), None);
    }
    assert_eq!(n.flush(Duration::from_secs(10)).completed.len(), 5);
    let reqs = sink.requests();
    let v = Verifier::new(SECRET);
    let mut ids: Vec<&str> = reqs.iter().map(|r| r.header("webhook-id").unwrap()).collect();
    for r in &reqs {
        assert_eq!(v.verify(header_of(r), &r.body, now()), Ok(()));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5);
}

#[test]
fn get_channels_sign_the_empty_body_and_unpadded_secrets_work() {
    let sink = Sink::start();
    // 24 random-looking bytes, base64 without its padding, and without the prefix.
    let unpadded = "dW5wYWRkZWQgc2VjcmV0IGtleSE";
    let n = Notifier::builder(vec![
        http(&sink.url("/get")).get().signed(SECRET),
        http(&sink.url("/unpadded")).signed(&format!("whsec_{unpadded}")),
        http(&sink.url("/unprefixed")).signed(unpadded),
    ])
    .build();
    let report = n.notify(Event::ValidateStarted, json!({}), None);
    assert!(report.channels.iter().all(|c| c.outcome == Outcome::Delivered { status: Some(200) }), "{report:?}");
    let reqs = sink.requests();
    assert_eq!((reqs[0].method.as_str(), reqs[0].body.len()), ("GET", 0));
    assert_eq!(Verifier::new(SECRET).verify(header_of(&reqs[0]), b"", now()), Ok(()));
    for r in &reqs[1..] {
        assert_eq!(Verifier::new(unpadded).verify(header_of(r), &r.body, now()), Ok(()), "{}", r.path);
    }
}

// ---------------------------------------------------------------------------------------
// The standardwebhooks package (PyPI), through recordings.
// ---------------------------------------------------------------------------------------

fn signing_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/signing")
}

/// One recorded request and what a verifier must say about it.
fn case(name: &str, secret: &str, r: &Recorded, body: &[u8], expect: &str, why: &str) -> Value {
    json!({
        "name": name,
        "secret": secret,
        "headers": {
            "webhook-id": r.header("webhook-id"),
            "webhook-timestamp": r.header("webhook-timestamp"),
            "webhook-signature": r.header("webhook-signature"),
        },
        "method": r.method,
        "body": String::from_utf8(body.to_vec()).expect("our bodies are ASCII JSON"),
        "expect": expect,
        "why": why,
    })
}

/// Records requests our code signed, for `conformance/verify_signatures.sh`. The Python
/// library checks timestamps against its clock, so the script verifies right after.
#[test]
#[ignore = "run by conformance/verify_signatures.sh"]
fn record_signed_requests() {
    let tls = Sink::start_tls(|_, _| Reply::ok());
    let retried = std::sync::atomic::AtomicBool::new(false);
    let plain = Sink::with(move |r, _| {
        let first_retry = r.path == "/retry" && !retried.swap(true, std::sync::atomic::Ordering::SeqCst);
        if first_retry { Reply::status(503) } else { Reply::ok() }
    });
    let unpadded = "dW5wYWRkZWQgc2VjcmV0IGtleSE";
    let n = Notifier::builder(vec![
        http(&tls.url("/https")).insecure().signed(SECRET),
        http(&plain.url("/get")).get().signed(SECRET),
        http(&plain.url("/unprefixed")).signed(unpadded),
        http(&plain.url("/retry")).signed(SECRET).retries(1),
    ])
    .build();
    n.notify(Event::RunStarted, json!({"title": "signed \u{2615}", "nested": {"a": [1, 2.5, null]}}), None);
    n.notify(Event::RunFailed, json!({"status": "failed"}), Some(json!("An exception was raised: E('x')")));
    let https = tls.requests();
    let reqs = plain.requests();
    let by_path = |p: &str| reqs.iter().filter(|r| r.path == p).cloned().collect::<Vec<_>>();
    let (get, unprefixed, retry) = (by_path("/get"), by_path("/unprefixed"), by_path("/retry"));
    assert_eq!((https.len(), get.len(), unprefixed.len(), retry.len()), (2, 2, 2, 3));
    let mut cases = vec![
        case("https-run-started", SECRET, &https[0], &https[0].body, "valid", "signed by notifier"),
        case("https-run-failed-with-error", SECRET, &https[1], &https[1].body, "valid", "signed by notifier"),
        case("get-empty-body", SECRET, &get[0], b"", "valid", "GET channels sign the empty body"),
        case("unprefixed-unpadded-secret", unpadded, &unprefixed[0], &unprefixed[0].body, "valid", "no whsec_, no ="),
        case("retry-attempt-1", SECRET, &retry[0], &retry[0].body, "valid", "first attempt (503)"),
        case("retry-attempt-2", SECRET, &retry[1], &retry[1].body, "valid", "second attempt, same webhook-id"),
    ];
    let mut tampered = https[0].body.clone();
    let at = tampered.len() - 2;
    tampered[at] = b'7';
    cases.push(case("tampered-body", SECRET, &https[0], &tampered, "invalid", "one byte of the body changed"));
    cases.push(case("wrong-secret", "whsec_b3RoZXIgc2VjcmV0", &https[1], &https[1].body, "invalid", "other key"));
    // Signed by our code for timestamps outside the ±5 minute window.
    let key = SigningKey::from_secret(SECRET).unwrap();
    for (name, ts) in [("old-timestamp", now() - 3600), ("future-timestamp", now() + 3600)] {
        let mut r = https[0].clone();
        r.headers.retain(|(k, _)| !k.starts_with("webhook-"));
        let id = https[0].header("webhook-id").unwrap().to_owned();
        r.headers.push(("webhook-id".into(), id.clone()));
        r.headers.push(("webhook-timestamp".into(), ts.to_string()));
        r.headers.push(("webhook-signature".into(), key.sign(&id, ts, &r.body)));
        cases.push(case(name, SECRET, &r, &r.body, "invalid", "valid signature, timestamp outside ±5 minutes"));
    }
    // Key rotation: an unknown signature first, ours second.
    let mut r = https[1].clone();
    let ours = r.header("webhook-signature").unwrap().to_owned();
    r.headers.retain(|(k, _)| k != "webhook-signature");
    r.headers.push(("webhook-signature".into(), format!("v1,bm90IG91cnMgYXQgYWxs {ours}")));
    cases.push(case("rotation-second-entry", SECRET, &r, &r.body, "valid", "space-separated entries"));
    let doc = json!({
        "comment": "Requests signed by notifier-core (notifier-core/tests/signing.rs, record_signed_requests); verified by conformance/verify_signatures.sh",
        "recorded_at": now(),
        "cases": cases,
    });
    std::fs::create_dir_all(signing_dir()).unwrap();
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    std::fs::write(signing_dir().join("requests.json"), text).unwrap();
}

#[test]
fn the_python_library_agreed_with_every_recorded_case() {
    let read = |name: &str| -> Value {
        let text = std::fs::read_to_string(signing_dir().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}; run conformance/verify_signatures.sh"));
        serde_json::from_str(&text).unwrap()
    };
    let requests = read("requests.json");
    let verdicts = read("verdicts.json");
    assert!(verdicts["verifier"].as_str().unwrap().starts_with("standardwebhooks "), "{}", verdicts["verifier"]);
    let cases = requests["cases"].as_array().unwrap();
    let verdicts = verdicts["cases"].as_array().unwrap();
    assert_eq!(cases.len(), verdicts.len());
    assert!(cases.len() >= 10);
    for (c, v) in cases.iter().zip(verdicts) {
        let name = c["name"].as_str().unwrap();
        assert_eq!(v["name"], c["name"]);
        // The verdict is about exactly this request.
        assert_eq!(v["signature"], c["headers"]["webhook-signature"], "{name}");
        assert_eq!(v["verdict"], c["expect"], "{name}: the Python library said {v}");
        if c["expect"] == "invalid" {
            assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{name}: {v}");
        }
        // And the from-spec verifier agrees, at the time of the recording.
        let headers = |h: &str| c["headers"][h].as_str().map(str::to_owned);
        let ours = Verifier::new(c["secret"].as_str().unwrap()).verify(
            headers,
            c["body"].as_str().unwrap().as_bytes(),
            requests["recorded_at"].as_i64().unwrap(),
        );
        assert_eq!(ours.is_ok(), c["expect"] == "valid", "{name}: {ours:?}");
        // And today's signing code still produces the signature the library checked: a
        // change to the key decoding or the signed content fails here, not in production.
        if c["why"] != "other key" {
            let key = SigningKey::from_secret(c["secret"].as_str().unwrap()).expect("a recorded secret decodes");
            let id = headers("webhook-id").unwrap();
            let ts: i64 = headers("webhook-timestamp").unwrap().parse().unwrap();
            let signed = key.sign(&id, ts, c["body"].as_str().unwrap().as_bytes());
            let recorded = headers("webhook-signature").unwrap();
            let listed = recorded.split(' ').any(|entry| entry == signed);
            // Only the tampered body was signed as something else than what it carries.
            let tampered = c["why"] == "one byte of the body changed";
            assert_eq!(listed, !tampered, "{name}: we sign {signed}, the request carries {recorded}");
        }
    }
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for required in ["tampered-body", "old-timestamp", "https-run-started", "retry-attempt-2"] {
        assert!(names.contains(&required), "{required} missing from the recording");
    }
    let id = |n: &str| cases.iter().find(|c| c["name"] == n).unwrap()["headers"]["webhook-id"].clone();
    assert_eq!(id("retry-attempt-1"), id("retry-attempt-2"));
}
