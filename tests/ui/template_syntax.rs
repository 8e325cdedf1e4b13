notifier::settings! {
    mod chaos {
        path: "template_syntax.yaml",
    }
}

fn main() {
    // The module keeps its API after an error: no follow-on errors here.
    let _report = chaos::notify(notifier::Event::RunStarted, serde_json::Value::Null, None);
    let _channels = chaos::CHANNELS.len();
}
