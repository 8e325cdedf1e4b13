//! Channel definitions for tests.
#![allow(dead_code)]

use std::borrow::Cow;
use std::time::Duration;

use notifier_core::channel::{ChannelDef, ChannelKind, DEFAULT_TIMEOUT, HttpDef, Origin, PluginDef};
use notifier_core::{EventSet, PluginFn, Template};

pub fn origin() -> Origin {
    Origin { file: Cow::Borrowed("test.yaml"), line: 1, column: 1 }
}

pub fn http(url: &str) -> ChannelDef {
    ChannelDef {
        events: EventSet::ALL,
        origin: origin(),
        timeout: DEFAULT_TIMEOUT,
        retries: 0,
        kind: ChannelKind::Http(HttpDef {
            url: Template::parse(url).unwrap(),
            headers: Cow::Owned(vec![]),
            verify_tls: true,
            forward_event_payload: true,
            signing_secret: None,
            body: notifier_core::BodyDef::Envelope,
        }),
    }
}

pub fn plugin(module: &str, config: serde_json::Value, call: PluginFn) -> ChannelDef {
    let mut entry = serde_json::json!({"type": "plugin", "module": module, "func": "notify"});
    if let (Some(e), serde_json::Value::Object(extra)) = (entry.as_object_mut(), config) {
        e.extend(extra);
    }
    ChannelDef {
        events: EventSet::ALL,
        origin: origin(),
        timeout: DEFAULT_TIMEOUT,
        retries: 0,
        kind: ChannelKind::Plugin(PluginDef {
            module: Cow::Owned(module.to_owned()),
            func: Cow::Borrowed("notify"),
            config_json: Cow::Owned(entry.to_string()),
            call,
        }),
    }
}

pub trait DefExt {
    fn events(self, events: EventSet) -> Self;
    fn timeout(self, t: Duration) -> Self;
    fn retries(self, n: u8) -> Self;
    fn header(self, name: &'static str, value: &str) -> Self;
    fn get(self) -> Self;
    fn insecure(self) -> Self;
    fn signed(self, secret: &str) -> Self;
}

impl DefExt for ChannelDef {
    fn events(mut self, events: EventSet) -> Self {
        self.events = events;
        self
    }
    fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }
    fn retries(mut self, n: u8) -> Self {
        self.retries = n;
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Self {
        if let ChannelKind::Http(h) = &mut self.kind {
            h.headers.to_mut().push((Cow::Borrowed(name), Template::parse(value).unwrap()));
        }
        self
    }
    fn get(mut self) -> Self {
        if let ChannelKind::Http(h) = &mut self.kind {
            h.forward_event_payload = false;
        }
        self
    }
    fn insecure(mut self) -> Self {
        if let ChannelKind::Http(h) = &mut self.kind {
            h.verify_tls = false;
        }
        self
    }
    fn signed(mut self, secret: &str) -> Self {
        if let ChannelKind::Http(h) = &mut self.kind {
            h.signing_secret = Some(Template::parse(secret).unwrap());
        }
        self
    }
}
