//! Semantic checks: everything the JSON Schema cannot say, or says badly.
//!
//! These run on the JSON form of the document and report with messages written for
//! people (what Chaos Toolkit would do with the mistake, and how to fix it). They cover
//! every way a `notifications:` entry can be wrong, so the schema's own errors are a
//! safety net that rarely fires (see `compile`).
//!
//! One module per concern, each owning its rules (its [`Code`](crate::Code)s):
//!
//! | module | checks |
//! |---|---|
//! | `document` | the document is a mapping, `notifications` a list of mappings with a known `type` |
//! | `http` | http channels: known keys, booleans, credentials over `http://` |
//! | `bodies` | `template`, `content_type`, `format`, `options`: syntax at the character, unknown variables, a body rendered for every event the channel takes |
//! | `urls` | `url` |
//! | `headers` | `headers` |
//! | `events` | `events` |
//! | `numbers` | `timeout`, `retries`, `.inf`/`.nan` |
//! | `plugins` | plugin channels: `module`, `func`, built-in plugins' keys |
//! | `nats` | `notifier.nats`: server URLs, subject, stream, format, credentials (at the character) |
//! | `templates` | `${VAR}` references |
//! | `secrets` | plain-text credentials, `signing_secret`, the spans `check` masks |
//! | `duplicates` | keys written twice, channels written twice |
//! | `describe` | describing a value in a message without repeating a secret |
//!
//! The modules form a tree (`document` calls the channel checks, which call the value
//! checks); no module calls back up.

mod bodies;
mod describe;
mod document;
mod duplicates;
mod events;
mod headers;
mod http;
mod nats;
mod numbers;
mod plugins;
mod secrets;
mod templates;
mod urls;

use crate::located::LocatedDocument;
use crate::report::Report;

pub(crate) use secrets::secret_spans;

/// Runs every check on a parsed document.
pub(crate) fn check(doc: &LocatedDocument, r: &mut Report<'_>) {
    duplicates::check_duplicate_keys(doc, r);
    numbers::check_non_finite(doc, r);
    document::check_document(&doc.value, r);
}
