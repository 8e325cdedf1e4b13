mod hooks {
    use notifier::{Envelope, PluginConfig, PluginError};

    pub fn notify(_config: &PluginConfig, _envelope: &Envelope) -> Result<(), PluginError> {
        Ok(())
    }
}

notifier::settings! {
    mod chaos {
        path: "reserved_func.yaml",
        plugins: { "acme.hooks" => crate::hooks },
    }
}

fn main() {
    let _report = chaos::notify(notifier::Event::RunStarted, serde_json::Value::Null, None);
}
