//! `${VAR}` templates: parsing never panics, what parses round-trips through its source
//! text, and resolution never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notifier_core::Template;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(t) = Template::parse(text) {
        assert_eq!(Template::parse(&t.source_text()).as_ref(), Ok(&t));
        let _ = t.resolve_with(&|name| (name.len() % 2 == 0).then(|| format!("<{name}>")));
        let _ = t.missing_vars(&|_| None);
    }
});
